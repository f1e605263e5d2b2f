// probe/exporter/server.cpp — see the header.
#include "probe/exporter/server.hpp"

#include "probe/core/catalog.hpp"
#include "probe/exporter/prober.hpp"
#include "sip/random.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <random>

namespace probe::exporter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

expected<listen_address, std::string> parse_listen(const std::string& text) {
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return unexpected("--listen " + text + ": not [IPv6]:PORT");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return unexpected("--listen " + text + ": not ADDR:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) return unexpected("--listen " + text + ": " + host + " is not an IP address");
  unsigned value = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (r.ec != std::errc() || r.ptr != port.data() + port.size() || value > 65535)
    return unexpected("--listen " + text + ": the port is not a number from 0 to 65535");
  return listen_address{host, static_cast<unsigned short>(value)};
}

namespace {

// "module=reg&target=sip%3Aalice%40example.com" → its values, percent-decoded
// (application/x-www-form-urlencoded: '+' is a space); false when an escape is broken.
bool parse_query(std::string_view q, std::map<std::string, std::string>& out) {
  auto decode = [](std::string_view s, std::string& d) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        d += ' ';
      } else if (s[i] == '%') {
        if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
            !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
          return false;
        d += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        d += s[i];
      }
    }
    return true;
  };
  while (!q.empty()) {
    const auto amp = q.find('&');
    const auto pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string k, v;
    if (!decode(pair.substr(0, eq), k)) return false;
    if (eq != std::string_view::npos && !decode(pair.substr(eq + 1), v)) return false;
    out[k] = v;
  }
  return true;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
    }
  }
  return out;
}

// logfmt: a value is quoted when it holds a space, a quote or '='; control bytes are escaped.
std::string logfmt_value(std::string_view v) {
  bool quote = v.empty();
  std::string out;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\') quote = true;
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\x";
      out += "0123456789abcdef"[(c >> 4) & 0xf];
      out += "0123456789abcdef"[c & 0xf];
      quote = true;
      continue;
    }
    out += c;
  }
  return quote ? "\"" + out + "\"" : out;
}

std::string now_rfc3339() {
  const auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct recent_probe {
  std::string when, module, target, result, code;
  double seconds = 0;
};

}  // namespace

class session;

class server_impl : public std::enable_shared_from_this<server_impl> {
 public:
  server_impl(asio::io_context& io, server_settings s, config c, config_env env)
      : io_(io),
        settings_(std::move(s)),
        config_(std::make_shared<const config>(std::move(c))),
        env_(std::move(env)),
        ids_(sip::openssl_random()),
        rng_(std::random_device{}()) {
    if (!settings_.log) settings_.log = [](const std::string& line) { std::cerr << line << std::endl; };
    metrics_.config_loaded(true, static_cast<double>(std::time(nullptr)));
  }

  std::optional<std::string> start() {
    for (const auto& text : settings_.listen) {
      auto where = parse_listen(text);
      if (!where) return where.error();
      boost::system::error_code ec;
      tcp::endpoint ep(asio::ip::make_address(where->address), where->port);
      auto& a = acceptors_.emplace_back(io_);
      if (a.open(ep.protocol(), ec); ec) return "--listen " + text + ": " + ec.message();
      a.set_option(asio::socket_base::reuse_address(true), ec);
      if (ep.address().is_v6()) a.set_option(asio::ip::v6_only(true), ec);
      if (a.bind(ep, ec); ec) return "--listen " + text + ": " + ec.message();
      if (a.listen(asio::socket_base::max_listen_connections, ec); ec) return "--listen " + text + ": " + ec.message();
    }
    for (auto& a : acceptors_) accept(a);
    log(log_level::info, "msg=\"listening\" addresses=" + logfmt_value(join_listen()));
    return std::nullopt;
  }

  std::vector<unsigned short> ports() const {
    std::vector<unsigned short> out;
    for (const auto& a : acceptors_) {
      boost::system::error_code ec;
      out.push_back(a.local_endpoint(ec).port());
    }
    return out;
  }

  void reload() {
    auto loaded = load_config(settings_.config_path, env_);
    metrics_.config_loaded(loaded.has_value(), static_cast<double>(std::time(nullptr)));
    if (!loaded)
      return log(log_level::error, "msg=\"config reload failed, keeping the old one\" error=" + logfmt_value(loaded.error()));
    config_ = std::make_shared<const config>(std::move(*loaded));
    log(log_level::info, "msg=\"config reloaded\" modules=" + std::to_string(config_->modules.size()));
  }

  void shutdown(milliseconds bound, std::function<void()> done) {
    stopping_ = true;
    for (auto& a : acceptors_) {
      boost::system::error_code ec;
      a.close(ec);
    }
    shutdown_done_ = std::move(done);
    shutdown_timer_.emplace(io_, bound);
    auto self = shared_from_this();
    shutdown_timer_->async_wait([self](const boost::system::error_code&) { self->shutdown_over(); });
    if (running_ == 0) shutdown_over();
  }

  // One HTTP request, answered through `reply(status, content_type, body)`.
  using reply_fn = std::function<void(http::status, std::string content_type, std::string body)>;
  void handle(const http::request<http::empty_body>& req, reply_fn reply);

  bool admit_connection() {
    if (connections_ >= settings_.max_connections) {
      metrics_.request_refused("too_many_connections");
      return false;
    }
    ++connections_;
    return true;
  }
  void connection_closed() { --connections_; }
  milliseconds read_timeout() const { return settings_.read_timeout; }

 private:
  struct waiting {
    std::string key, module_name, target, registrar;
    std::shared_ptr<const config> cfg;
    const module* mod = nullptr;
    clock_type::time_point deadline;
  };
  struct in_flight {
    std::vector<std::function<void(const probe_outcome&)>> waiters;
  };

  void accept(tcp::acceptor& a);
  void handle_probe(const http::request<http::empty_body>& req, const std::map<std::string, std::string>& q, reply_fn reply);
  void launch_or_queue(waiting w);
  void launch(waiting w);
  void pump();
  void finished(const waiting& w, probe_outcome o);
  std::string page() const;

  void log(log_level l, const std::string& fields) const {
    if (l > settings_.level) return;
    static const char* names[] = {"error", "warn", "info", "debug"};
    settings_.log("ts=" + now_rfc3339() + " level=" + names[static_cast<int>(l)] + " " + fields);
  }
  std::string join_listen() const {
    std::string s;
    for (const auto& l : settings_.listen) s += (s.empty() ? "" : ",") + l;
    return s;
  }
  void shutdown_over() {
    if (!shutdown_done_) return;
    if (shutdown_timer_) shutdown_timer_->cancel();
    auto d = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    d();
  }

  asio::io_context& io_;
  server_settings settings_;
  std::shared_ptr<const config> config_;
  config_env env_;
  sip::id_factory ids_;
  std::mt19937 rng_;
  std::deque<tcp::acceptor> acceptors_;
  exporter_metrics metrics_;
  std::map<std::string, in_flight> in_flight_;  // key: module \n target
  std::deque<waiting> waiting_;
  std::map<std::string, std::size_t> per_registrar_;
  std::size_t running_ = 0, connections_ = 0;
  std::deque<recent_probe> recent_;
  bool stopping_ = false;
  std::optional<asio::steady_timer> shutdown_timer_;
  std::function<void()> shutdown_done_;
};

// One HTTP connection: read a request (header bounded in size and time), answer, repeat
// while the client keeps the connection alive.
class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket s, std::shared_ptr<server_impl> srv) : stream_(std::move(s)), srv_(std::move(srv)) {}
  ~session() { srv_->connection_closed(); }

  void read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(0);
    stream_.expires_after(srv_->read_timeout());
    auto self = shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) return close();
    if (ec) return write(http::status::bad_request, "text/plain; charset=utf-8", "bad request: " + ec.message() + "\n", false);
    stream_.expires_never();  // the probe has its own bound
    auto req = parser_->release();
    const bool keep = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    auto self = shared_from_this();
    srv_->handle(req, [self, keep, head](http::status st, std::string type, std::string body) {
      self->write(st, std::move(type), head ? std::string() : std::move(body), keep);
    });
  }

  void write(http::status st, std::string type, std::string body, bool keep) {
    auto res = std::make_shared<http::response<http::string_body>>(st, 11);
    res->set(http::field::server, "sipprobe-exporter");
    res->set(http::field::content_type, type);
    res->keep_alive(keep);
    res->body() = std::move(body);
    res->prepare_payload();
    stream_.expires_after(srv_->read_timeout());
    auto self = shared_from_this();
    http::async_write(stream_, *res, [self, res, keep](beast::error_code ec, std::size_t) {
      if (ec || !keep) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8 * 1024};
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::shared_ptr<server_impl> srv_;
};

void server_impl::accept(tcp::acceptor& a) {
  auto self = shared_from_this();
  a.async_accept([self, &a](boost::system::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || self->stopping_) return;
    if (!ec) {
      if (self->admit_connection()) std::make_shared<session>(std::move(s), self)->read();
      else s.close(ec);
    }
    self->accept(a);
  });
}

void server_impl::handle(const http::request<http::empty_body>& req, reply_fn reply) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto qmark = target.find('?');
  const auto path = target.substr(0, qmark);
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return reply(http::status::method_not_allowed, "text/plain; charset=utf-8", "only GET\n");
  const auto accept = req[http::field::accept];
  const auto format = negotiate(std::string_view(accept.data(), accept.size()));
  if (path == "/metrics") return reply(http::status::ok, std::string(content_type(format)), metrics_.render(format));
  if (path == "/") return reply(http::status::ok, "text/html; charset=utf-8", page());
  if (path != "/probe") return reply(http::status::not_found, "text/plain; charset=utf-8", "not found: /probe, /metrics or /\n");
  std::map<std::string, std::string> q;
  if (qmark != std::string_view::npos && !parse_query(target.substr(qmark + 1), q)) {
    metrics_.request_refused("bad_query");
    return reply(http::status::bad_request, "text/plain; charset=utf-8", "bad query: a broken %-escape\n");
  }
  handle_probe(req, q, std::move(reply));
}

void server_impl::handle_probe(const http::request<http::empty_body>& req, const std::map<std::string, std::string>& q,
                               reply_fn reply) {
  auto text = [](std::string s) { return s + "\n"; };
  const auto mod_name = q.count("module") ? q.at("module") : std::string();
  const auto target = q.count("target") ? q.at("target") : std::string();
  auto cfg = config_;
  const auto* mod = cfg->find(mod_name);
  if (mod == nullptr) {
    metrics_.request_refused("bad_module");
    std::string known;
    for (const auto& m : cfg->modules) known += (known.empty() ? "" : ", ") + m.name;
    return reply(http::status::bad_request, "text/plain; charset=utf-8",
                 text((mod_name.empty() ? std::string("no module: add &module=NAME") : "unknown module " + mod_name) +
                      " (modules: " + known + ")"));
  }
  if (auto why = check_target(*mod, target)) {
    metrics_.request_refused("bad_target");
    return reply(http::status::bad_request, "text/plain; charset=utf-8", text(*why));
  }
  // blackbox_exporter's rule: the scrape's own timeout, less a margin for the answer.
  auto timeout = mod->timeout;
  const auto header = req["X-Prometheus-Scrape-Timeout-Seconds"];
  double scrape_s = 0;
  if (!header.empty() && std::from_chars(header.data(), header.data() + header.size(), scrape_s).ec == std::errc() &&
      scrape_s > 0)
    timeout = std::min(timeout, std::max(milliseconds(100), milliseconds(static_cast<long>((scrape_s - 0.5) * 1000))));
  const auto accept = req[http::field::accept];
  const auto format = negotiate(std::string_view(accept.data(), accept.size()));
  const auto key = mod_name + "\n" + target;
  auto answer = [reply, format, site = settings_.site](const probe_outcome& o) {
    auto shown = o;
    shown.site = site;
    reply(http::status::ok, std::string(content_type(format)), render_probe(shown, format));
  };
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    metrics_.probe_joined(mod_name);
    it->second.waiters.push_back(std::move(answer));
    return;
  }
  if (waiting_.size() >= settings_.max_waiting) {
    metrics_.request_refused("too_many_waiting");
    return reply(http::status::service_unavailable, "text/plain; charset=utf-8",
                 text("too many probes waiting (" + std::to_string(waiting_.size()) + "): try later"));
  }
  in_flight_[key].waiters.push_back(std::move(answer));
  launch_or_queue({key, mod_name, target, registrar_key(*mod, target), cfg, mod, clock_type::now() + timeout});
}

void server_impl::launch_or_queue(waiting w) {
  waiting_.push_back(std::move(w));
  pump();
}

// Starts the waiting probes that fit the limits, in arrival order per registrar.
void server_impl::pump() {
  for (auto it = waiting_.begin(); it != waiting_.end() && running_ < settings_.max_in_flight;) {
    if (per_registrar_[it->registrar] >= settings_.max_per_registrar) {
      ++it;
      continue;
    }
    auto w = std::move(*it);
    it = waiting_.erase(it);
    launch(std::move(w));
  }
}

void server_impl::launch(waiting w) {
  const auto left = std::chrono::duration_cast<milliseconds>(w.deadline - clock_type::now());
  if (left < milliseconds(100)) {
    probe_outcome o;
    o.prober = std::string(to_string(w.mod->kind));
    o.error = "no free slot before the scrape's timeout";
    return finished(w, std::move(o));
  }
  ++running_;
  ++per_registrar_[w.registrar];
  metrics_.probe_started(w.module_name);
  auto self = shared_from_this();
  auto shared = std::make_shared<waiting>(std::move(w));
  async_probe(io_, ids_, rng_, shared->cfg, *shared->mod, shared->target, left, [self, shared](probe_outcome o) {
    --self->running_;
    if (--self->per_registrar_[shared->registrar] == 0) self->per_registrar_.erase(shared->registrar);
    self->metrics_.probe_finished(shared->module_name, o.success, o.duration_s);
    self->finished(*shared, std::move(o));
    self->pump();
    if (self->stopping_ && self->running_ == 0) self->shutdown_over();
  });
}

void server_impl::finished(const waiting& w, probe_outcome o) {
  std::string code;
  if (o.registration) code = std::string(describe(o.registration->primary.code).code);
  recent_.push_front({now_rfc3339(), w.module_name, w.target, o.success ? "success" : "failure", code, o.duration_s});
  if (recent_.size() > 20) recent_.pop_back();
  const std::string fields = "module=" + logfmt_value(w.module_name) + " target=" + logfmt_value(w.target) +
                             (code.empty() ? "" : " code=" + code) + (o.error.empty() ? "" : " error=" + logfmt_value(o.error)) +
                             " duration_seconds=" + std::to_string(o.duration_s);
  if (!o.success) log(log_level::warn, "msg=\"probe failed\" " + fields);
  else log(log_level::info, "msg=\"probe succeeded\" " + fields);
  auto node = in_flight_.extract(w.key);
  if (node.empty()) return;
  for (auto& waiter : node.mapped().waiters) waiter(o);
}

std::string server_impl::page() const {
  std::string h =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>sipprobe exporter</title></head><body>"
      "<h1>sipprobe exporter</h1><p><a href=\"/metrics\">/metrics</a> · probe with "
      "<code>/probe?module=NAME&amp;target=AOR</code></p><h2>Modules</h2><ul>";
  for (const auto& m : config_->modules) {
    h += "<li><code>" + html_escape(m.name) + "</code>: " + std::string(to_string(m.kind));
    if (!m.route.registrar.empty()) h += " via " + html_escape(m.route.registrar);
    if (m.route.transport) h += " over " + std::string(netcheck::to_string(*m.route.transport));
    h += ", timeout " + std::to_string(m.timeout.count()) + " ms</li>";
  }
  h +=
      "</ul><h2>Recent probes</h2><table><tr><th>time</th><th>module</th><th>target</th><th>result</th><th>code</th><th>seconds</th></tr>";
  for (const auto& r : recent_) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
    h += "<tr><td>" + r.when + "</td><td>" + html_escape(r.module) + "</td><td>" + html_escape(r.target) + "</td><td>" +
         r.result + "</td><td>" + html_escape(r.code) + "</td><td>" + secs + "</td></tr>";
  }
  return h + "</table></body></html>\n";
}

server::server(asio::io_context& io, server_settings settings, config initial, config_env env)
    : impl_(std::make_shared<server_impl>(io, std::move(settings), std::move(initial), std::move(env))) {}
server::~server() = default;
std::optional<std::string> server::start() { return impl_->start(); }
std::vector<unsigned short> server::ports() const { return impl_->ports(); }
void server::reload() { impl_->reload(); }
void server::shutdown(milliseconds bound, std::function<void()> done) { impl_->shutdown(bound, std::move(done)); }

}  // namespace probe::exporter
