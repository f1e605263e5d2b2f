#include "netcheck/dns.hpp"

#include "netcheck/error.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>

namespace netcheck {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

std::string_view to_string(rr_type t) noexcept {
  switch (t) {
    case rr_type::naptr: return "NAPTR";
    case rr_type::srv: return "SRV";
    case rr_type::a: return "A";
    case rr_type::aaaa: return "AAAA";
  }
  return "?";
}

std::string_view to_string(dns_status s) noexcept {
  switch (s) {
    case dns_status::ok: return "ok";
    case dns_status::nxdomain: return "nxdomain";
    case dns_status::nodata: return "nodata";
    case dns_status::servfail: return "servfail";
    case dns_status::refused: return "refused";
    case dns_status::timeout: return "timeout";
    case dns_status::malformed: return "malformed";
    case dns_status::other: return "other";
  }
  return "other";
}

std::error_code to_error_code(dns_status s) noexcept {
  switch (s) {
    case dns_status::ok: return {};
    case dns_status::nxdomain: return errc::nxdomain;
    case dns_status::nodata: return errc::nodata;
    case dns_status::servfail: return errc::servfail;
    case dns_status::refused: return errc::refused;
    case dns_status::timeout: return errc::timeout;
    case dns_status::malformed: return errc::malformed;
    case dns_status::other: return errc::dns_error;
  }
  return errc::dns_error;
}

dns_status status_from_ares(int st) noexcept {
  switch (st) {
    case ARES_SUCCESS: return dns_status::ok;
    case ARES_ENOTFOUND: return dns_status::nxdomain;
    case ARES_ENODATA: return dns_status::nodata;
    case ARES_ESERVFAIL: return dns_status::servfail;
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED: return dns_status::refused;
    case ARES_ETIMEOUT:
    case ARES_ECANCELLED: return dns_status::timeout;
    case ARES_EBADRESP:
    case ARES_EBADSTR: return dns_status::malformed;
    default: return dns_status::other;
  }
}

std::size_t query_result::record_count() const noexcept { return naptr.size() + srv.size() + addresses.size(); }

namespace {

constexpr int class_in = 1;

int wire_type(rr_type t) noexcept {
  switch (t) {
    case rr_type::naptr: return 35;  // RFC 3403
    case rr_type::srv: return 33;    // RFC 2782
    case rr_type::a: return 1;
    case rr_type::aaaa: return 28;  // RFC 3596
  }
  return 0;
}

// Words for the report; ares_strerror alone says "Misformatted domain name" and the like,
// which does not tell a refusal by the server from a closed port.
std::string describe_ares(int st, rr_type t) {
  switch (st) {
    case ARES_SUCCESS: return {};
    case ARES_ENOTFOUND: return "NXDOMAIN: the name does not exist";
    case ARES_ENODATA: return "NODATA: the name exists but has no " + std::string(to_string(t)) + " record";
    case ARES_ESERVFAIL: return "the DNS server answered SERVFAIL";
    case ARES_EREFUSED: return "the DNS server answered REFUSED";
    case ARES_ECONNREFUSED: return "connection refused: nothing answers on the DNS server's port (or it refused)";
    case ARES_ETIMEOUT: return "no answer from the DNS server";
    case ARES_ECANCELLED: return "cancelled: no answer before the overall deadline";
    case ARES_EBADRESP: return "malformed answer";
    default: return ares_strerror(st);
  }
}

std::uint16_t be16(const unsigned char* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

// Skips one (possibly compressed) name; returns the offset after it, or 0 when malformed.
std::size_t skip_name(const unsigned char* msg, std::size_t len, std::size_t off) noexcept {
  for (int labels = 0; labels < 128; ++labels) {
    if (off >= len) return 0;
    unsigned char l = msg[off];
    if ((l & 0xC0) == 0xC0) return off + 2 <= len ? off + 2 : 0;  // pointer ends the name
    if ((l & 0xC0) != 0) return 0;                                // reserved label types
    if (l == 0) return off + 1;
    off += 1 + static_cast<std::size_t>(l);
  }
  return 0;
}

template <class T, class F>
void take_list(T* head, query_result& r, std::size_t max, F&& add) {
  std::size_t n = 0;
  for (T* p = head; p != nullptr; p = p->next) {
    if (n++ == max) {
      r.capped = true;
      break;
    }
    add(*p);
  }
}

std::string text_of(const unsigned char* s) { return s ? reinterpret_cast<const char*>(s) : ""; }

// c-ares gives names without the trailing dot; the root comes back as "" or ".".
std::string name_of(const char* s) {
  std::string n = s ? s : "";
  if (n == ".") n.clear();
  return n;
}

}  // namespace

std::optional<std::uint32_t> min_answer_ttl(const unsigned char* msg, std::size_t len) noexcept {
  if (msg == nullptr || len < 12) return std::nullopt;
  std::size_t qd = be16(msg + 4), an = be16(msg + 6);
  std::size_t off = 12;
  for (std::size_t i = 0; i < qd; ++i) {
    off = skip_name(msg, len, off);
    if (off == 0 || off + 4 > len) return std::nullopt;
    off += 4;
  }
  std::optional<std::uint32_t> best;
  for (std::size_t i = 0; i < an; ++i) {
    off = skip_name(msg, len, off);
    if (off == 0 || off + 10 > len) return std::nullopt;
    std::uint32_t ttl = (std::uint32_t{msg[off + 4]} << 24) | (std::uint32_t{msg[off + 5]} << 16) |
                        (std::uint32_t{msg[off + 6]} << 8) | std::uint32_t{msg[off + 7]};
    if (ttl > 0x7FFFFFFFu) ttl = 0;  // RFC 2181 §8: a TTL with the top bit set means zero
    std::size_t rdlen = be16(msg + off + 8);
    off += 10 + rdlen;
    if (off > len) return std::nullopt;
    best = best ? std::min(*best, ttl) : ttl;
  }
  return best;
}

void parse_answer(query_result& r, int st, const unsigned char* abuf, int alen, std::size_t max_records) {
  r.ares_status = st;
  r.ttl.reset();
  r.naptr.clear();
  r.srv.clear();
  r.addresses.clear();
  r.capped = false;
  if (st != ARES_SUCCESS) {
    r.status = status_from_ares(st);
    r.detail = describe_ares(st, r.type);
    return;
  }
  if (abuf == nullptr || alen <= 0) {
    r.status = dns_status::malformed;
    r.detail = "empty answer";
    return;
  }
  int pst = ARES_SUCCESS;
  switch (r.type) {
    case rr_type::naptr: {
      ares_naptr_reply* out = nullptr;
      pst = ares_parse_naptr_reply(abuf, alen, &out);
      if (pst == ARES_SUCCESS) {
        take_list(out, r, max_records, [&](const ares_naptr_reply& n) {
          r.naptr.push_back(
              {n.order, n.preference, text_of(n.flags), text_of(n.service), text_of(n.regexp), name_of(n.replacement)});
        });
      }
      if (out) ares_free_data(out);
      break;
    }
    case rr_type::srv: {
      ares_srv_reply* out = nullptr;
      pst = ares_parse_srv_reply(abuf, alen, &out);
      if (pst == ARES_SUCCESS) {
        take_list(out, r, max_records, [&](const ares_srv_reply& s) {
          r.srv.push_back({s.priority, s.weight, s.port, name_of(s.host)});
        });
      }
      if (out) ares_free_data(out);
      break;
    }
    case rr_type::a: {
      // One slot more than we keep, to notice an answer over the bound.
      std::vector<ares_addrttl> out(max_records + 1);
      int n = static_cast<int>(out.size());
      pst = ares_parse_a_reply(abuf, alen, nullptr, out.data(), &n);
      if (pst == ARES_SUCCESS) {
        for (int i = 0; i < n; ++i) {
          if (r.addresses.size() == max_records) {
            r.capped = true;
            break;
          }
          char buf[INET_ADDRSTRLEN] = {};
          ::inet_ntop(AF_INET, &out[static_cast<std::size_t>(i)].ipaddr, buf, sizeof buf);
          r.addresses.emplace_back(buf);
        }
      }
      break;
    }
    case rr_type::aaaa: {
      std::vector<ares_addr6ttl> out(max_records + 1);
      int n = static_cast<int>(out.size());
      pst = ares_parse_aaaa_reply(abuf, alen, nullptr, out.data(), &n);
      if (pst == ARES_SUCCESS) {
        for (int i = 0; i < n; ++i) {
          if (r.addresses.size() == max_records) {
            r.capped = true;
            break;
          }
          char buf[INET6_ADDRSTRLEN] = {};
          ::inet_ntop(AF_INET6, &out[static_cast<std::size_t>(i)].ip6addr, buf, sizeof buf);
          r.addresses.emplace_back(buf);
        }
      }
      break;
    }
  }
  if (pst != ARES_SUCCESS) {
    r.status = status_from_ares(pst);
    if (r.status == dns_status::other) r.status = dns_status::malformed;
    r.detail = pst == ARES_ENODATA ? describe_ares(pst, r.type) : "malformed answer: " + std::string(ares_strerror(pst));
    return;
  }
  if (r.record_count() == 0) {
    r.status = dns_status::nodata;
    r.detail = describe_ares(ARES_ENODATA, r.type);
    return;
  }
  r.status = dns_status::ok;
  r.detail.clear();
  r.ttl = min_answer_ttl(abuf, static_cast<std::size_t>(alen));
}

std::string server_address::to_string() const { return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port); }

std::error_code parse_server(std::string_view text, server_address& out) {
  const std::error_code bad = errc::bad_server_address;
  std::string_view host = text, port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad;
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad;
      port = rest.substr(1);
      if (port.empty()) return bad;
    }
    bracketed = true;
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return bad;
  }
  std::string h(host);
  unsigned char buf[sizeof(in6_addr)];
  server_address s;
  if (!bracketed && ::inet_pton(AF_INET, h.c_str(), buf) == 1) {
    s.v6 = false;
  } else if (h.find(':') != std::string::npos && ::inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    s.v6 = true;
  } else {
    return bad;
  }
  s.ip = h;
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535) return bad;
    s.port = static_cast<std::uint16_t>(value);
  }
  out = std::move(s);
  return {};
}

// ---------------------------------------------------------------------------------------
// The resolver: c-ares on the io_context.

namespace {

struct watch {
  explicit watch(asio::io_context& io) : sd(io) {}
  asio::posix::stream_descriptor sd;
  int fd = -1;
  bool want_read = false, want_write = false;
  bool reading = false, writing = false;
  bool closed = false;  // released: handlers still queued must not touch anything
};

}  // namespace

struct resolver::impl : std::enable_shared_from_this<resolver::impl> {
  explicit impl(asio::io_context& ctx) : io(ctx), timer(ctx) {}

  asio::io_context& io;
  asio::steady_timer timer;
  ares_channel channel = nullptr;  // made by open(), on the first query
  std::string servers_csv;         // the servers given ("" = /etc/resolv.conf's)
  std::chrono::milliseconds try_timeout{2000};
  int tries = 2;

  std::string open();
  std::map<int, std::shared_ptr<watch>> watches;
  std::size_t pending = 0;
  bool destroying = false;

  struct query_state {
    impl* owner;
    query_result result;
    clock_type::time_point start;
    handler done;
  };

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<impl*>(data)->sock_state(fd, readable != 0, writable != 0);
  }

  // c-ares announces (fd,0,0) *before* it closes the socket: release() hands the fd back
  // without closing it, and deregisters it from the reactor while it is still valid.
  void sock_state(int fd, bool readable, bool writable) {
    auto it = watches.find(fd);
    if (!readable && !writable) {
      if (it != watches.end()) {
        drop(*it->second);
        watches.erase(it);
      }
      return;
    }
    if (it == watches.end()) {
      auto w = std::make_shared<watch>(io);
      boost::system::error_code ec;
      w->sd.assign(fd, ec);
      if (ec) return;  // unwatchable: the query ends by the c-ares timer instead
      w->fd = fd;
      it = watches.emplace(fd, std::move(w)).first;
    }
    it->second->want_read = readable;
    it->second->want_write = writable;
    arm(it->second);
  }

  static void drop(watch& w) {
    w.closed = true;
    if (w.sd.is_open()) w.sd.release();
  }

  // Waits are armed only while a query is pending, so io_context::run() returns once every
  // query has completed even though c-ares keeps its UDP sockets open.
  void arm(const std::shared_ptr<watch>& w) {
    if (w->closed || pending == 0) return;
    if (w->want_read && !w->reading) {
      w->reading = true;
      w->sd.async_wait(asio::posix::descriptor_base::wait_read, [self = weak_from_this(), w](boost::system::error_code ec) {
        w->reading = false;
        if (ec || w->closed) return;
        auto s = self.lock();
        if (!s || s->destroying) return;
        if (w->want_read) ares_process_fd(s->channel, w->fd, ARES_SOCKET_BAD);
        s->after_process();
      });
    }
    if (w->want_write && !w->writing) {
      w->writing = true;
      w->sd.async_wait(asio::posix::descriptor_base::wait_write, [self = weak_from_this(), w](boost::system::error_code ec) {
        w->writing = false;
        if (ec || w->closed) return;
        auto s = self.lock();
        if (!s || s->destroying) return;
        if (w->want_write) ares_process_fd(s->channel, ARES_SOCKET_BAD, w->fd);
        s->after_process();
      });
    }
  }

  // After any call into c-ares: re-arm the watches and the single retry timer.
  void after_process() {
    for (auto& [fd, w] : watches) arm(w);
    timeval tv{};
    if (ares_timeout(channel, nullptr, &tv) == nullptr) {
      timer.cancel();
      return;
    }
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    // ares_process_fd(BAD, BAD) is what makes c-ares notice expired tries and resend.
    timer.async_wait([self = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      auto s = self.lock();
      if (!s || s->destroying) return;
      ares_process_fd(s->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      s->after_process();
    });
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<query_state> q(static_cast<query_state*>(arg));
    impl* self = q->owner;
    --self->pending;
    if (self->destroying) return;  // ARES_EDESTRUCTION: nobody is waiting any more
    parse_answer(q->result, status, abuf, alen);
    q->result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - q->start);
    // Posted, never called from inside c-ares: the handler may start queries or destroy us.
    asio::post(self->io, [done = std::move(q->done), r = std::move(q->result)]() mutable { done(std::move(r)); });
  }
};

resolver::resolver(asio::io_context& io, const resolver_settings& settings) : impl_(std::make_shared<impl>(io)) {
  for (const auto& text : settings.servers) {
    server_address s;
    if (parse_server(text, s)) throw std::system_error(errc::bad_server_address, "bad DNS server '" + text + "'");
    if (!impl_->servers_csv.empty()) impl_->servers_csv += ',';
    impl_->servers_csv += s.to_string();
  }
  impl_->try_timeout = settings.timeout;
  impl_->tries = settings.tries;
}

// The c-ares channel, made when a name is first resolved rather than with the resolver:
// ares_init reads /etc/resolv.conf and /etc/nsswitch.conf and opens /dev/urandom, which a
// run that only talks to IP addresses never needs. "" or what went wrong.
std::string resolver::impl::open() {
  if (channel != nullptr) return "";
  static std::once_flag once;
  static int lib_status = ARES_SUCCESS;
  std::call_once(once, [] { lib_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (lib_status != ARES_SUCCESS) return ares_strerror(lib_status);

  ares_options opts{};
  // NOSEARCH: ask the name as given. Not IGNTC: truncated UDP answers are retried over TCP.
  // NOCHECKRESP: c-ares 1.18 otherwise swallows SERVFAIL/REFUSED answers, tries the next
  // server and, when none is left, reports ARES_ECONNREFUSED — indistinguishable from a dead
  // server. A diagnosis needs the server's own answer, so it is passed through.
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
  opts.timeout = static_cast<int>(std::max<std::int64_t>(1, try_timeout.count()));
  opts.tries = std::max(1, tries);
  opts.sock_state_cb = &impl::on_sock_state;
  opts.sock_state_cb_data = this;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  int st = ares_init_options(&channel, &opts, mask);
  if (st != ARES_SUCCESS) {
    channel = nullptr;
    return ares_strerror(st);
  }
  if (!servers_csv.empty() && (st = ares_set_servers_ports_csv(channel, servers_csv.c_str())) != ARES_SUCCESS) {
    ares_destroy(channel);
    channel = nullptr;
    return "c-ares rejected the servers " + servers_csv + ": " + ares_strerror(st);
  }
  return "";
}

resolver::~resolver() {
  // ares_destroy first (it ends queries with ARES_EDESTRUCTION and announces (fd,0,0) for
  // each socket), then drop whatever watches remain.
  impl_->destroying = true;
  if (impl_->channel != nullptr) ares_destroy(impl_->channel);
  impl_->channel = nullptr;
  for (auto& [fd, w] : impl_->watches) impl::drop(*w);
  impl_->watches.clear();
  impl_->timer.cancel();
}

asio::any_io_executor resolver::get_executor() const { return impl_->io.get_executor(); }

void resolver::async_query(std::string name, rr_type type, handler h) {
  auto q = std::make_unique<impl::query_state>();
  q->owner = impl_.get();
  q->result.name = std::move(name);
  q->result.type = type;
  q->start = clock_type::now();
  q->done = std::move(h);
  if (auto why = impl_->open(); !why.empty()) {
    q->result.status = dns_status::other;
    q->result.detail = make_error_code(errc::resolver_init_failed).message() + ": " + why;
    asio::post(impl_->io, [done = std::move(q->done), r = std::move(q->result)]() mutable { done(std::move(r)); });
    return;
  }
  const std::string qname = q->result.name;
  ++impl_->pending;
  // c-ares may call on_answer before returning (bad name, no memory): it owns q from here.
  ares_query(impl_->channel, qname.c_str(), class_in, wire_type(type), &impl::on_answer, q.release());
  impl_->after_process();
}

void resolver::cancel() {
  if (impl_->channel == nullptr) return;  // nothing was ever asked
  ares_cancel(impl_->channel);
  impl_->after_process();
}

std::size_t resolver::pending() const noexcept { return impl_->pending; }

std::vector<std::string> resolver::servers() const {
  std::vector<std::string> out;
  ares_addr_port_node* list = nullptr;
  if (!impl_->open().empty() || ares_get_servers_ports(impl_->channel, &list) != ARES_SUCCESS) return out;
  for (auto* n = list; n != nullptr; n = n->next) {
    server_address s;
    char buf[INET6_ADDRSTRLEN] = {};
    s.v6 = n->family == AF_INET6;
    ::inet_ntop(n->family, s.v6 ? static_cast<const void*>(&n->addr.addr6) : static_cast<const void*>(&n->addr.addr4), buf,
                sizeof buf);
    s.ip = buf;
    s.port = static_cast<std::uint16_t>(n->udp_port != 0 ? n->udp_port : 53);
    out.push_back(s.to_string());
  }
  ares_free_data(list);
  return out;
}

}  // namespace netcheck
