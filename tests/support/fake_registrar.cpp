#include "support/fake_registrar.hpp"

#include "sip/headers.hpp"
#include "sip/parse.hpp"
#include "sip/uri.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <type_traits>

namespace test_support {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

// ---- sip_request ------------------------------------------------------------------------

std::uint32_t sip_request::cseq() const {
  sip::cseq c;
  return sip::get::cseq(view(), c) ? 0 : c.number;
}

std::string sip_request::call_id() const {
  std::string_view v;
  return sip::get::call_id(view(), v) ? std::string() : std::string(v);
}

std::string sip_request::branch() const { return std::string(sip::get::top_via_branch(view())); }

std::string sip_request::from_tag() const {
  std::string_view v;
  return sip::get::from_tag(view(), v) ? std::string() : std::string(v);
}

std::optional<std::uint32_t> sip_request::expires() const {
  std::uint32_t e = 0;
  if (sip::get::expires(view(), e)) return std::nullopt;
  return e;
}

std::vector<std::string> sip_request::contacts() const {
  std::vector<sip::name_addr> list;
  bool star = false;
  std::vector<std::string> out;
  if (sip::get::contacts(view(), list, star)) return out;
  if (star) out.emplace_back("*");
  for (const auto& c : list) out.emplace_back(c.uri_text);
  return out;
}

std::optional<std::uint32_t> sip_request::contact_expires() const {
  std::vector<sip::name_addr> list;
  bool star = false;
  if (sip::get::contacts(view(), list, star) || list.empty()) return std::nullopt;
  return list.front().expires();
}

std::string sip_request::header(std::string_view name) const {
  const auto* h = view().find(name);
  return h ? std::string(h->value) : std::string();
}

std::optional<sip::digest_credentials> sip_request::credentials(bool proxy) const {
  std::vector<std::string_view> values;
  if (proxy ? sip::get::proxy_authorization(view(), values) : sip::get::authorization(view(), values)) return std::nullopt;
  sip::digest_credentials cr;
  if (values.empty() || sip::parse_credentials(values.front(), cr)) return std::nullopt;
  return cr;
}

// ---- response -----------------------------------------------------------------------------

namespace {

std::string usual_reason(int status) {
  switch (status) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 183: return "Session Progress";
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 407: return "Proxy Authentication Required";
    case 423: return "Interval Too Brief";
    case 480: return "Temporarily Unavailable";
    case 500: return "Server Internal Error";
    case 503: return "Service Unavailable";
    default: return "Whatever";
  }
}

// Whether `bytes` are a final response (RFC 3261 §17.2.2: it ends the server transaction).
bool is_final_response(const std::string& bytes) {
  sip::message_view m;
  sip::parse_options lenient;
  lenient.lenient = true;
  return !sip::parse(bytes, m, sip::framing::datagram, lenient).ec && m.status >= 200;
}

}  // namespace

response::response(const sip_request& req, int status, std::string reason)
    : status_(status), reason_(reason.empty() ? usual_reason(status) : std::move(reason)) {
  for (const auto& h : req.view().headers) {
    switch (h.id) {
      case sip::header_id::via:
      case sip::header_id::from:
      case sip::header_id::call_id:
      case sip::header_id::cseq: headers_.emplace_back(std::string(sip::canonical_name(h.id)), std::string(h.value)); break;
      case sip::header_id::to: {
        std::string to(h.value);
        // RFC 3261 §8.2.6.2: a response other than 100 adds a To tag when the request had none.
        if (status != 100 && to.find(";tag=") == std::string::npos) to += ";tag=fake";
        headers_.emplace_back("To", std::move(to));
        break;
      }
      default: break;
    }
  }
}

response& response::header(std::string name, std::string value) {
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}

response& response::replace(std::string_view name, std::string value) {
  for (auto& [n, v] : headers_)
    if (sip::iequals(n, name)) {
      v = std::move(value);
      break;
    }
  return *this;
}

response& response::contact(const std::string& uri, std::optional<std::uint32_t> expires) {
  return header("Contact", "<" + uri + ">" + (expires ? ";expires=" + std::to_string(*expires) : std::string()));
}

std::string response::wire() const {
  sip::message_view v;
  v.version = "SIP/2.0";
  v.status = status_;
  v.reason = reason_;
  for (const auto& [name, value] : headers_) v.headers.push_back({name, value, sip::lookup_header(name)});
  v.headers.push_back({"Content-Length", "0", sip::header_id::content_length});
  return sip::serialize(v);
}

// ---- connections ----------------------------------------------------------------------------

// A TCP or TLS connection: frames the stream with sip::stream_framer, hands each message
// to the fake, writes answers in order.
class fake_registrar::connection : public std::enable_shared_from_this<connection> {
 public:
  virtual ~connection() = default;
  virtual void write(const std::string& bytes) = 0;
  virtual void close_after_writes() = 0;
  virtual void close_now() = 0;
};

template <class Stream>
class fake_registrar::stream_connection : public fake_registrar::connection {
 public:
  stream_connection(fake_registrar& f, Stream s, netcheck::transport over, std::size_t number)
      : fake_(f), alive_(f.alive_), stream_(std::move(s)), over_(over), number_(number), framer_(lenient()) {
    boost::system::error_code ec;
    const auto ep = stream_.lowest_layer().remote_endpoint(ec);
    source_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      read();
    } else {
      auto self = shared_from_this();
      stream_.async_handshake(asio::ssl::stream_base::server, [this, self](const boost::system::error_code& ec) {
        if (!ec && *alive_) read();
      });
    }
  }

  void write(const std::string& bytes) override {
    if (closed_) return;
    queue_.push_back(bytes);
    if (queue_.size() == 1) write_front();
  }

  void close_after_writes() override {
    closing_ = true;
    if (queue_.empty()) close_now();
  }

  void close_now() override {
    closed_ = true;
    boost::system::error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

 private:
  static sip::parse_options lenient() {
    sip::parse_options o;
    o.lenient = true;  // framing only: on_bytes() judges each message strictly
    return o;
  }

  void read() {
    auto self = shared_from_this();
    stream_.async_read_some(asio::buffer(chunk_), [this, self](const boost::system::error_code& ec, std::size_t n) {
      if (ec || !*alive_ || closed_) return;
      if (framer_.append(std::string_view(chunk_.data(), n))) {
        fake_.rejected_.push_back("stream: more than the framer holds");
        return close_now();
      }
      sip::message_view m;
      for (;;) {
        auto r = framer_.next(m);
        fake_.keepalives_ += framer_.keepalives() - keepalives_seen_;
        keepalives_seen_ = framer_.keepalives();
        if (r.ec == sip::errc::need_more) break;
        if (r.ec) {
          fake_.rejected_.push_back("stream: " + r.ec.message());
          if (framer_.failed()) return close_now();
          continue;
        }
        fake_.on_bytes(
            std::string(m.raw), over_, number_, source_, [self](const std::string& bytes) { self->write(bytes); },
            [self] { self->close_after_writes(); });
        if (closed_) return;
      }
      read();
    });
  }

  void write_front() {
    auto self = shared_from_this();
    asio::async_write(stream_, asio::buffer(queue_.front()), [this, self](const boost::system::error_code& ec, std::size_t) {
      if (ec || closed_) return;
      queue_.pop_front();
      if (!queue_.empty()) return write_front();
      if (closing_) close_now();
    });
  }

  fake_registrar& fake_;
  std::shared_ptr<bool> alive_;
  Stream stream_;
  netcheck::transport over_;
  std::size_t number_;
  std::string source_;
  sip::stream_framer framer_;
  std::array<char, 4096> chunk_{};
  std::deque<std::string> queue_;
  std::size_t keepalives_seen_ = 0;
  bool closing_ = false, closed_ = false;
};

// ---- fake_registrar -------------------------------------------------------------------------

fake_registrar::fake_registrar(asio::io_context& io, const test_pki::identity* tls) : io_(io), udp_(io), tcp_(io) {
  const auto loopback = asio::ip::make_address_v4("127.0.0.1");
  // UDP on an ephemeral port, then TCP on the same number (another one if it is taken).
  for (int attempt = 0;; ++attempt) {
    boost::system::error_code ec;
    if (udp_.is_open()) udp_.close();
    udp_.open(udp::v4());
    udp_.bind({loopback, 0});
    port_ = udp_.local_endpoint().port();
    if (tcp_.is_open()) tcp_.close();
    tcp_.open(tcp::v4());
    tcp_.bind({loopback, port_}, ec);
    if (!ec) break;
    if (attempt == 19) throw std::runtime_error("fake_registrar: no port free for both UDP and TCP");
  }
  tcp_.listen();
  receive_udp();
  accept_tcp();
  if (tls != nullptr) {
    tls_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX_use_certificate(tls_ctx_->native_handle(), tls->cert.get());
    SSL_CTX_use_PrivateKey(tls_ctx_->native_handle(), tls->key.get());
    tls_ = std::make_unique<tcp::acceptor>(io, tcp::endpoint(loopback, 0));
    tls_port_ = tls_->local_endpoint().port();
    accept_tls();
  }
}

fake_registrar::~fake_registrar() {
  *alive_ = false;
  close_connections();
}

void fake_registrar::close_connections() {
  for (auto& w : open_connections_)
    if (auto c = w.lock()) c->close_now();
  open_connections_.clear();
}

void fake_registrar::receive_udp() {
  udp_.async_receive_from(asio::buffer(buf_), peer_, [this, alive = alive_](const boost::system::error_code& ec, std::size_t n) {
    if (ec || !*alive) return;
    const auto peer = peer_;
    on_bytes(std::string(buf_.data(), n), netcheck::transport::udp, 0,
             peer.address().to_string() + ":" + std::to_string(peer.port()),
             [this, peer](const std::string& bytes) {
               boost::system::error_code ignored;
               udp_.send_to(asio::buffer(bytes), peer, 0, ignored);
             },
             {});
    receive_udp();
  });
}

void fake_registrar::accept_tcp() {
  tcp_.async_accept([this, alive = alive_](const boost::system::error_code& ec, tcp::socket s) {
    if (ec || !*alive) return;
    auto c = std::make_shared<stream_connection<tcp::socket>>(*this, std::move(s), netcheck::transport::tcp, ++connections_);
    open_connections_.push_back(c);
    c->start();
    accept_tcp();
  });
}

void fake_registrar::accept_tls() {
  tls_->async_accept([this, alive = alive_](const boost::system::error_code& ec, tcp::socket s) {
    if (ec || !*alive) return;
    using tls_stream = asio::ssl::stream<tcp::socket>;
    auto c = std::make_shared<stream_connection<tls_stream>>(*this, tls_stream(std::move(s), *tls_ctx_), netcheck::transport::tls,
                                                             ++connections_);
    open_connections_.push_back(c);
    c->start();
    accept_tls();
  });
}

void fake_registrar::on_bytes(std::string bytes, netcheck::transport over, std::size_t conn, std::string source,
                              std::function<void(const std::string&)> reply, std::function<void()> close) {
  sip::message_view m;
  const auto parsed = sip::parse(bytes, m, over == netcheck::transport::udp ? sip::framing::datagram : sip::framing::stream);
  if (!parsed.ec && !m.is_request() && relay) return on_relayed_response(bytes);
  if (parsed.ec || !m.is_request()) {
    rejected_.push_back((parsed.ec ? parsed.ec.message() : std::string("not a request")) + " at byte " +
                        std::to_string(parsed.offset) + ": " + bytes.substr(0, bytes.find('\n')));
    return;
  }
  sip_request req;
  req.msg = sip::owned_message(std::move(bytes), std::move(m));
  req.over = over;
  req.connection = conn;
  req.source = std::move(source);
  req.at = std::chrono::steady_clock::now();
  // RFC 3261 §17.2.3: a request belongs to the server transaction of its top Via branch and
  // CSeq method; the transport and connection keep two clients' branches apart.
  std::string key = std::string(netcheck::to_string(over)) + "|" + std::to_string(conn) + "|" + req.source + "|" + req.branch() +
                    "|" + req.method() + "|" + std::to_string(req.cseq());
  req.copy = copies_[key]++;
  requests_.push_back(std::move(req));
  const auto& r = requests_.back();
  if (auto f = finals_.find(key); f != finals_.end()) return reply(f->second);
  if (scripted_.count(key) != 0) return;  // answered already, or about to be: absorbed
  if (r.copy == 0) {
    open_.insert(key);
    max_in_flight_ = std::max(max_in_flight_, open_.size());
  }
  if (r.method() == "REGISTER") flows_[aor_of(r)] = reply;
  if (relay && r.method() != "REGISTER" && route_to_binding(r, reply)) return;
  answer a = script_ ? script_(r) : registrar(r);
  if (!a.messages.empty() || a.close) scripted_.insert(key);
  deliver(std::move(key), std::move(a), std::move(reply), std::move(close));
}

void fake_registrar::deliver(std::string key, answer a, std::function<void(const std::string&)> reply,
                             std::function<void()> close) {
  auto send = [this, key = std::move(key), messages = std::move(a.messages), closing = a.close, reply = std::move(reply),
               close = std::move(close)] {
    for (const auto& m : messages) {
      reply(m);
      if (is_final_response(m)) {
        finals_[key] = m;
        open_.erase(key);
      }
    }
    if (closing && close) close();
  };
  if (a.delay <= std::chrono::milliseconds::zero()) return send();
  auto timer = std::make_shared<asio::steady_timer>(io_, a.delay);
  timer->async_wait([timer, alive = alive_, send = std::move(send)](const boost::system::error_code&) {
    if (*alive) send();
  });
}

std::vector<const sip_request*> fake_registrar::firsts() const {
  std::vector<const sip_request*> out;
  for (const auto& r : requests_)
    if (r.copy == 0) out.push_back(&r);
  return out;
}

std::size_t fake_registrar::binding_count() const noexcept {
  std::size_t n = 0;
  for (const auto& [aor, list] : bindings_) n += list.size();
  return n;
}

std::string fake_registrar::aor_of(const sip_request& r) const {
  sip::name_addr to;
  if (sip::get::to(r.view(), to)) return {};
  return to.addr.user + "@" + to.addr.host;
}

// ---- routing to bindings --------------------------------------------------------------------

bool fake_registrar::route_to_binding(const sip_request& r, const std::function<void(const std::string&)>& reply) {
  sip::uri target;
  if (sip::parse_uri(r.view().request_uri, target) || target.user.empty()) return false;
  const std::string aor = target.user + "@" + target.host;
  const auto list = bindings_.find(aor);
  const auto flow = flows_.find(aor);
  if (accounts_.count(target.user) == 0) {
    reply(response(r, 404).wire());
  } else if (list == bindings_.end() || list->second.empty() || flow == flows_.end()) {
    reply(response(r, 480).wire());
  } else {
    const std::string branch = "z9hG4bK-fake-relay-" + std::to_string(++relayed_);
    auto state = std::make_shared<relay_state>();
    state->reply = reply;
    relays_[branch] = state;
    std::string bytes(r.view().raw);
    const auto eol = bytes.find("\r\n");
    bytes.insert(
        eol + 2,
        "Via: SIP/2.0/" +
            std::string(r.over == netcheck::transport::tls ? "TLS" : (r.over == netcheck::transport::tcp ? "TCP" : "UDP")) + " " +
            address() + ";branch=" + branch + "\r\n");
    if (ping_before_relay && r.over != netcheck::transport::udp) flow->second("\r\n\r\n");
    flow->second(bytes);
    // RFC 3261 §16.8: a branch that times out ends in 408 from the proxy.
    auto timer = std::make_shared<asio::steady_timer>(io_, relay_timeout);
    timer->async_wait([timer, alive = alive_, state, req = r.msg](const boost::system::error_code&) {
      if (!*alive || state->done) return;
      state->done = true;
      sip_request copy;
      copy.msg = req;
      state->reply(response(copy, 408).wire());
    });
  }
  return true;
}

void fake_registrar::on_relayed_response(const std::string& bytes) {
  relayed_responses_.push_back(bytes);
  // Our Via is the first Via line (we wrote it as a header of its own): strip it.
  const auto at = bytes.find("\r\nVia:");
  if (at == std::string::npos) return;
  const auto end = bytes.find("\r\n", at + 2);
  const std::string ours = bytes.substr(at + 2, end - at - 2);
  const auto b = sip::via_branch(std::string_view(ours).substr(4));
  const auto it = relays_.find(std::string(b));
  if (it == relays_.end() || it->second->done) return;
  const std::string forwarded = bytes.substr(0, at) + bytes.substr(end);
  if (is_final_response(forwarded)) it->second->done = true;
  it->second->reply(forwarded);
}

// ---- the built-in registrar -----------------------------------------------------------------

answer fake_registrar::registrar(const sip_request& r) {
  if (r.method() == "OPTIONS") return response(r, 200).header("Allow", "REGISTER, OPTIONS").header("Server", "fake registrar");
  if (!challenges.empty()) {
    const bool proxy = challenges.front().proxy;
    if (!verify(r, proxy).ok()) return challenge(r, challenges);
  }
  const auto contacts = r.contacts();
  const auto asked = r.contact_expires() ? r.contact_expires() : r.expires();
  // RFC 3261 §10.3 step 7: an expiry below the minimum (but not a removal) is refused.
  if (min_expires != 0 && !contacts.empty() && asked && *asked != 0 && *asked < min_expires)
    return response(r, 423).header("Min-Expires", std::to_string(min_expires));
  return bind(r);
}

response fake_registrar::challenge(const sip_request& r, const std::vector<challenge_spec>& specs) {
  const bool proxy = !specs.empty() && specs.front().proxy;
  response out(r, proxy ? 407 : 401);
  for (const auto& s : specs) {
    const std::string nonce = "fake-nonce-" + std::to_string(++next_nonce_);
    std::string value = "Digest realm=\"" + s.realm + "\", nonce=\"" + nonce + "\"";
    if (!s.algorithm.empty()) value += ", algorithm=" + s.algorithm;
    if (!s.qop.empty()) value += ", qop=\"" + s.qop + "\"";
    if (s.opaque) value += ", opaque=\"" + *s.opaque + "\"";
    if (s.stale) value += ", stale=true";
    std::vector<sip::digest_challenge> parsed;
    if (sip::parse_challenges(value, parsed) || parsed.size() != 1)
      throw std::logic_error("fake_registrar: the project's parser refuses the challenge " + value);
    nonces_[nonce] = std::move(parsed.front());
    out.header(proxy ? "Proxy-Authenticate" : "WWW-Authenticate", value);
  }
  return out;
}

sip::digest_verify_result fake_registrar::verify(const sip_request& r, bool proxy) const {
  sip::digest_verify_result out;
  const auto cr = r.credentials(proxy);
  if (!cr) {
    out.details.push_back(std::string(proxy ? "Proxy-Authorization" : "Authorization") + " absent or unreadable");
    return out;
  }
  const auto ch = nonces_.find(cr->nonce);
  const auto acct = accounts_.find(cr->username);
  if (ch == nonces_.end() || acct == accounts_.end()) {
    out.details.push_back(ch == nonces_.end() ? "a nonce the fake never issued: " + cr->nonce
                                              : "an unknown user: " + cr->username);
    return out;
  }
  sip::digest_inputs expect;
  expect.username = cr->username;
  expect.password = acct->second;
  expect.method = r.view().method;
  expect.uri = r.view().request_uri;  // RFC 3261 §22.4: the digest-uri is the Request-URI
  expect.body = r.view().body;
  return sip::verify_credentials(ch->second, *cr, expect);
}

response fake_registrar::bind(const sip_request& r) {
  auto& list = bindings_[aor_of(r)];
  std::vector<sip::name_addr> contacts;
  bool star = false;
  std::uint32_t header_expires = 3600;
  const bool has_expires = !sip::get::expires(r.view(), header_expires);
  if (sip::get::contacts(r.view(), contacts, star)) contacts.clear();
  // RFC 3261 §10.2.2: "Contact: *" with Expires 0 removes every binding of the AOR.
  if (star && has_expires && header_expires == 0) list.clear();
  for (const auto& c : contacts) {
    const std::uint32_t e = std::min(c.expires().value_or(has_expires ? header_expires : 3600), max_expires);
    auto it = std::find_if(list.begin(), list.end(), [&](const fake_binding& b) { return b.contact == c.uri_text; });
    if (e == 0) {
      if (it != list.end()) list.erase(it);
    } else if (it != list.end()) {
      it->expires = e;
    } else {
      list.push_back({std::string(c.uri_text), e});
    }
  }
  response out(r, 200);
  for (const auto& b : list) out.contact(b.contact, b.expires);
  return out;
}

}  // namespace test_support
