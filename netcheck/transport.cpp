#include "netcheck/transport.hpp"

#include "netcheck/endpoint.hpp"
#include "netcheck/error.hpp"
#include "netcheck/flow_impl.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <deque>
#include <stdexcept>
#include <utility>

namespace netcheck {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

std::string address_text(const boost::asio::ip::address& a) {
  if (!a.is_v4()) return a.to_string();
  const auto b = a.to_v4().to_bytes();
  char text[16];
  char* p = text;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i > 0) *p++ = '.';
    const unsigned v = b[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return std::string(text, p);
}

std::string endpoint_spec::to_string() const {
  std::string out(netcheck::to_string(proto));
  out += ':';
  out += endpoint_text(address_text(address), port);
  if (!host.empty()) out += " (" + host + ')';
  return out;
}

namespace detail {
namespace {

// Boost.System codes of the system/generic categories become std ones, so callers compare
// with std::errc and std::system_category without knowing about Boost.
std::error_code to_std(const boost::system::error_code& ec) {
  if (!ec) return {};
  if (ec.category() == boost::system::system_category()) {
    return {ec.value(), std::system_category()};
  }
  if (ec.category() == boost::system::generic_category()) {
    return {ec.value(), std::generic_category()};
  }
  return ec;  // Boost's std::error_category adapter keeps the message
}

milliseconds since(clock_type::time_point t) { return std::chrono::duration_cast<milliseconds>(clock_type::now() - t); }

bool is_ssl_error(const boost::system::error_code& ec) { return ec.category() == asio::error::get_ssl_category(); }

// The peer ended the stream: TCP FIN, or on TLS close_notify, or FIN without close_notify
// (asio's stream_truncated; OpenSSL 3 may report it as "unexpected eof while reading").
bool is_peer_eof(const boost::system::error_code& ec) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return true;
  return is_ssl_error(ec) &&
         ERR_GET_REASON(static_cast<unsigned long>(static_cast<unsigned int>(ec.value()))) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

int alert_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Records the description of every alert the peer sends (SSL_CB_READ_ALERT).
void alert_callback(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_READ_ALERT) == 0) return;
  auto* sink = static_cast<std::string*>(SSL_get_ex_data(ssl, alert_index()));
  if (sink != nullptr) *sink = SSL_alert_desc_string_long(ret);
}

}  // namespace

class socket_flow final : public flow_impl, public std::enable_shared_from_this<socket_flow> {
 public:
  socket_flow(asio::io_context& io, endpoint_spec remote, flow_options options, tls_context* tls)
      : io_(io),
        remote_(std::move(remote)),
        options_(std::move(options)),
        tls_ctx_(tls),
        udp_(io),
        connect_timer_(io),
        send_timer_(io),
        receive_timer_(io) {
    if (remote_.proto == transport::tls && tls_ctx_ == nullptr) {
      throw std::invalid_argument("netcheck::flow: a TLS flow needs a tls_context");
    }
  }

  // ---- connect -------------------------------------------------------------------------

  void async_connect(milliseconds timeout, flow::connect_handler handler) override {
    if (state_ != state::idle) {
      auto ec = state_ == state::closed ? make_error_code(errc::not_connected) : make_error_code(errc::busy);
      asio::post(io_, [h = std::move(handler), ec] { h(ec); });
      return;
    }
    state_ = state::connecting;
    connect_handler_ = std::move(handler);
    connect_start_ = clock_type::now();
    arm(connect_timer_, connect_generation_, timeout, [](socket_flow& self) {
      if (self.state_ != state::connecting) return;
      self.connect_timed_out_ = true;
      self.close_socket();  // the pending connect / handshake completes with operation_aborted
    });

    boost::system::error_code ec;
    if (remote_.proto == transport::udp) {
      udp::endpoint peer(remote_.address, remote_.port);
      udp_.open(peer.protocol(), ec);
      if (!ec && options_.socket_receive_buffer > 0) {
        boost::system::error_code ignored;  // a smaller buffer is no reason to fail
        udp_.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(options_.socket_receive_buffer)), ignored);
      }
      if (!ec) bind_local(udp_, ec);
      // A connected UDP socket: the kernel picks the source address by route (what goes into
      // Via), filters datagrams from other sources and reports ICMP port unreachable as
      // ECONNREFUSED on the next send/receive.
      if (!ec) udp_.connect(peer, ec);
      // Sends and extra reads are tried at once and only wait on EAGAIN (an ioctl: once).
      if (!ec) udp_.non_blocking(true, ec);
      asio::post(io_, [self = shared_from_this(), ec] { self->finish_connect(to_std(ec)); });
      return;
    }

    tcp::endpoint peer(remote_.address, remote_.port);
    if (remote_.proto == transport::tls) {
      // The first TLS connection of the run loads the trusted CAs (tls_context::ssl()).
      try {
        tls_.emplace(io_, tls_ctx_->ssl());
      } catch (const std::system_error& e) {
        report_.handshake_error = e.what();
        asio::post(io_, [self = shared_from_this(), code = e.code()] { self->finish_connect(code); });
        return;
      }
    } else {
      tcp_.emplace(io_);
    }
    tcp::socket& sock = tcp_socket();
    sock.open(peer.protocol(), ec);
    if (!ec) bind_local(sock, ec);
    if (ec) {
      asio::post(io_, [self = shared_from_this(), ec] { self->finish_connect(to_std(ec)); });
      return;
    }
    sock.async_connect(peer, [self = shared_from_this()](const boost::system::error_code& e) { self->on_tcp_connect(e); });
  }

  // ---- send ----------------------------------------------------------------------------

  void async_send(std::string_view bytes, milliseconds timeout, flow::send_handler handler) override {
    if (state_ != state::connected || send_pending_) {
      auto ec = make_error_code(send_pending_ ? errc::busy : errc::not_connected);
      asio::post(io_, [h = std::move(handler), ec] { h(ec, milliseconds{0}); });
      return;
    }
    if (remote_.proto == transport::udp) {
      // A datagram goes out at once or not at all: try it now, without a timer; only a
      // full socket buffer (EAGAIN) takes the path that waits.
      if (auto sent = try_send(bytes)) {
        asio::post(io_, [h = std::move(handler), ec = *sent] { h(ec, milliseconds{0}); });
        return;
      }
    }
    send_pending_ = true;
    send_timed_out_ = false;
    send_buffer_.assign(bytes);
    send_handler_ = std::move(handler);
    send_start_ = clock_type::now();
    arm(send_timer_, send_generation_, timeout, [](socket_flow& self) {
      if (!self.send_pending_) return;
      self.send_timed_out_ = true;
      self.close();  // a partly written stream cannot carry another message
    });
    auto done = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) { self->on_sent(ec); };
    switch (remote_.proto) {
      case transport::udp: udp_.async_send(asio::buffer(send_buffer_), done); break;
      case transport::tcp: asio::async_write(*tcp_, asio::buffer(send_buffer_), done); break;
      case transport::tls: asio::async_write(*tls_, asio::buffer(send_buffer_), done); break;
    }
  }

  std::optional<std::error_code> try_send(std::string_view bytes) override {
    if (remote_.proto != transport::udp || state_ != state::connected || send_pending_) return std::nullopt;
    boost::system::error_code ec;
    udp_.send(asio::buffer(bytes.data(), bytes.size()), 0, ec);  // the socket is non-blocking (connect)
    if (ec == asio::error::would_block || ec == asio::error::try_again) return std::nullopt;
    return to_std(ec);
  }

  // ---- receive -------------------------------------------------------------------------

  bool receive_each(flow::datagram_sink sink) override {
    if (remote_.proto != transport::udp || state_ != state::connected || receive_pending_ || sink_) return false;
    sink_ = std::move(sink);
    wait_datagrams();
    return true;
  }

  void async_receive(framer frame, milliseconds timeout, flow::receive_handler handler) override {
    if (receive_pending_ || sink_ || state_ != state::connected) {
      auto ec = make_error_code(receive_pending_ || sink_ ? errc::busy : errc::not_connected);
      asio::post(io_, [h = std::move(handler), ec] { h(ec, received{}); });
      return;
    }
    receive_pending_ = true;
    framer_ = std::move(frame);
    receive_handler_ = std::move(handler);
    receive_start_ = clock_type::now();
    if (timeout != flow::no_timeout) {
      arm(receive_timer_, receive_generation_, timeout, [](socket_flow& self) {
        // The read (if any) stays in flight: what it brings later is kept for the next receive.
        if (self.receive_pending_) self.complete_receive(make_error_code(errc::receive_timeout), {});
      });
    }
    deliver();
  }

  void stop_waiting() noexcept override {
    if (receive_pending_) complete_receive(make_error_code(errc::receive_timeout), {});
  }

  // ---- close and accessors -------------------------------------------------------------

  void close() noexcept override {
    if (state_ == state::closed) return;
    state_ = state::closed;
    connect_timer_.cancel();
    send_timer_.cancel();
    receive_timer_.cancel();
    close_socket();
  }

  bool is_open() const noexcept override { return state_ == state::connected; }
  const endpoint_spec& remote() const noexcept override { return remote_; }
  std::optional<asio::ip::address> local_address() const override { return local_address_; }
  std::uint16_t local_port() const noexcept override { return local_port_; }
  std::optional<milliseconds> connect_time() const noexcept override { return connect_time_; }
  std::optional<milliseconds> handshake_time() const noexcept override { return handshake_time_; }
  const tls_report& tls() const noexcept override { return report_; }
  std::size_t buffered() const noexcept override { return stream_buffer_.size(); }

 private:
  enum class state { idle, connecting, connected, closed };

  // Starts `timer` for the operation in progress. `generation` is bumped when the operation
  // completes, so an expiry that was already queued then does nothing; `on_expiry` must
  // still re-check that its operation is pending.
  template <class F>
  void arm(asio::steady_timer& timer, std::uint64_t& generation, milliseconds timeout, F on_expiry) {
    timer.expires_after(timeout);
    std::uint64_t mine = ++generation;
    timer.async_wait([self = shared_from_this(), &generation, mine, on_expiry](const boost::system::error_code& ec) {
      if (ec || generation != mine) return;
      on_expiry(*self);
    });
  }

  template <class Socket>
  void bind_local(Socket& sock, boost::system::error_code& ec) {
    if (!options_.local_address && options_.local_port == 0) return;
    auto addr = options_.local_address.value_or(remote_.address.is_v6() ? asio::ip::address(asio::ip::address_v6::any())
                                                                        : asio::ip::address(asio::ip::address_v4::any()));
    sock.bind(typename Socket::endpoint_type(addr, options_.local_port), ec);
  }

  tcp::socket& tcp_socket() { return tls_ ? tls_->next_layer() : *tcp_; }

  void close_socket() noexcept {
    boost::system::error_code ignored;
    if (udp_.is_open()) udp_.close(ignored);
    if (tcp_ && tcp_->is_open()) tcp_->close(ignored);
    if (tls_ && tls_->next_layer().is_open()) tls_->next_layer().close(ignored);
  }

  void on_tcp_connect(const boost::system::error_code& ec) {
    if (state_ != state::connecting || connect_timed_out_ || ec) {
      finish_connect(connect_timed_out_ ? make_error_code(errc::connect_timeout) : to_std(ec));
      return;
    }
    connect_time_ = since(connect_start_);
    // SIP messages are written whole: nothing to gain from Nagle's algorithm, and a message
    // written right after another (a reply, then a request) would wait for the peer's
    // delayed ACK. A failure here costs only that latency.
    boost::system::error_code ignored;
    tcp_socket().set_option(tcp::no_delay(true), ignored);
    if (remote_.proto == transport::tcp) {
      finish_connect({});
      return;
    }
    start_handshake();
  }

  void start_handshake() {
    SSL* ssl = tls_->native_handle();
    const std::string& host = remote_.host;
    bool literal = is_ip_literal(host);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (!host.empty() && !literal) {
      // RFC 6066 §3: SNI carries DNS names only.
      SSL_set_tlsext_host_name(ssl, host.c_str());
      report_.sni = host;
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      report_.checked_name = host;
    } else if (literal) {
      std::string ip = host;
      if (ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
      X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
      report_.checked_name = ip;
    }
    SSL_set_ex_data(ssl, alert_index(), &report_.alert);
    SSL_set_info_callback(ssl, &alert_callback);
    tls_->set_verify_mode(asio::ssl::verify_peer);
    // Record, never refuse: the verdict is taken after the handshake (see tls_report.hpp).
    tls_->set_verify_callback([this](bool preverified, asio::ssl::verify_context& ctx) {
      if (!preverified) {
        X509_STORE_CTX* store = ctx.native_handle();
        tls_verify_error e{X509_STORE_CTX_get_error_depth(store), X509_STORE_CTX_get_error(store)};
        bool seen = std::any_of(verify_errors_.begin(), verify_errors_.end(),
                                [&](const auto& x) { return x.depth == e.depth && x.code == e.code; });
        if (!seen) verify_errors_.push_back(e);
      }
      return true;
    });
    handshake_start_ = clock_type::now();
    tls_->async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](const boost::system::error_code& ec) { self->on_handshake(ec); });
  }

  void on_handshake(const boost::system::error_code& ec) {
    SSL* ssl = tls_->native_handle();
    describe_session(report_, ssl, verify_errors_, std::chrono::system_clock::now());
    report_.verification_skipped = tls_ctx_->options().insecure;
    if (state_ != state::connecting || connect_timed_out_ || ec) {
      std::error_code result;
      if (connect_timed_out_) {
        report_.handshake_error =
            "no TLS handshake before the deadline (the peer does not answer a ClientHello: "
            "not a TLS server?)";
        result = make_error_code(errc::tls_handshake_timeout);
      } else if (state_ != state::connecting) {
        result = to_std(ec ? ec : asio::error::operation_aborted);
      } else {
        if (is_peer_eof(ec)) {
          report_.handshake_error =
              "peer closed the connection during the TLS handshake (not a TLS server, or it "
              "rejected the ClientHello)";
        } else if (is_ssl_error(ec)) {
          report_.handshake_error = describe_handshake_error(static_cast<unsigned long>(static_cast<unsigned int>(ec.value())));
          if (!report_.alert.empty()) report_.handshake_error += "; peer alert: " + report_.alert;
        } else {
          report_.handshake_error = "TLS handshake failed: " + ec.message();
        }
        result = make_error_code(errc::tls_handshake_failed);
      }
      finish_connect(result);
      return;
    }
    handshake_time_ = since(handshake_start_);
    if (report_.verdict != tls_verdict::ok && !tls_ctx_->options().insecure) {
      finish_connect(make_error_code(errc::tls_verify_failed));
      return;
    }
    finish_connect({});
  }

  void finish_connect(std::error_code ec) {
    connect_timer_.cancel();
    ++connect_generation_;
    if (state_ != state::connecting) {  // closed meanwhile by the caller
      ec = to_std(asio::error::operation_aborted);
    } else if (ec) {
      close();
    } else {
      boost::system::error_code local_ec;
      if (remote_.proto == transport::udp) {
        auto local = udp_.local_endpoint(local_ec);
        if (!local_ec) local_address_ = local.address(), local_port_ = local.port();
      } else {
        auto local = tcp_socket().local_endpoint(local_ec);
        if (!local_ec) local_address_ = local.address(), local_port_ = local.port();
      }
      state_ = state::connected;
    }
    auto handler = std::move(connect_handler_);
    connect_handler_ = nullptr;
    handler(ec);
  }

  void on_sent(const boost::system::error_code& ec) {
    send_timer_.cancel();
    ++send_generation_;
    send_pending_ = false;
    std::error_code result = to_std(ec);
    if (send_timed_out_) result = make_error_code(errc::send_timeout);
    auto handler = std::move(send_handler_);
    send_handler_ = nullptr;
    handler(result, since(send_start_));
  }

  // Completes the pending receive if what is buffered (or a sticky error) allows; otherwise
  // makes sure a read is in flight.
  void deliver() {
    if (!receive_pending_) return;
    if (remote_.proto == transport::udp) {
      if (!datagrams_.empty()) {
        std::string d = std::move(datagrams_.front());
        datagrams_.pop_front();
        bool bad = framer_ && framer_(d) < 0;
        complete_receive(bad ? make_error_code(errc::malformed_message) : std::error_code{}, std::move(d));
        return;
      }
      if (datagram_error_) {
        auto ec = std::exchange(datagram_error_, {});
        complete_receive(ec, {});
        return;
      }
      start_read();
      return;
    }

    std::string& buf = stream_buffer_;
    if (!buf.empty()) {
      std::ptrdiff_t n = framer_ ? framer_(buf) : static_cast<std::ptrdiff_t>(buf.size());
      if (n < 0) {
        std::string evidence = std::move(buf);
        buf.clear();
        complete_receive(make_error_code(errc::malformed_message), std::move(evidence));
        return;
      }
      auto len = static_cast<std::size_t>(n);
      if (len > options_.max_message) {
        complete_receive(make_error_code(errc::message_too_large), std::exchange(buf, {}));
        return;
      }
      if (n > 0 && len <= buf.size()) {
        std::string message = buf.substr(0, len);
        buf.erase(0, len);
        complete_receive({}, std::move(message));
        return;
      }
      if (buf.size() >= options_.max_message) {
        complete_receive(make_error_code(errc::message_too_large), std::exchange(buf, {}));
        return;
      }
    }
    if (stream_error_) {
      std::error_code ec = stream_error_;
      if (ec == errc::connection_closed && !buf.empty()) {
        ec = make_error_code(errc::truncated_message);
      }
      complete_receive(ec, std::exchange(buf, {}));
      return;
    }
    start_read();
  }

  void start_read() {
    if (read_in_flight_) return;
    read_in_flight_ = true;
    auto self = shared_from_this();
    if (remote_.proto == transport::udp) {
      datagram_.resize(max_datagram);
      udp_.async_receive(asio::buffer(datagram_),
                         [self](const boost::system::error_code& ec, std::size_t n) { self->on_datagram(ec, n); });
      return;
    }
    std::size_t room = std::min(chunk_.size(), options_.max_message - stream_buffer_.size());
    auto done = [self](const boost::system::error_code& ec, std::size_t n) { self->on_stream_read(ec, n); };
    if (tls_) tls_->async_read_some(asio::buffer(chunk_.data(), room), done);
    else tcp_->async_read_some(asio::buffer(chunk_.data(), room), done);
  }

  void on_datagram(const boost::system::error_code& ec, std::size_t n) {
    read_in_flight_ = false;
    if (state_ == state::closed) {
      if (receive_pending_) complete_receive(to_std(asio::error::operation_aborted), {});
      return;
    }
    if (ec) {
      // ECONNREFUSED (ICMP port unreachable) is a one-shot error of the socket.
      datagram_error_ = to_std(ec);
    } else if (datagrams_.size() < max_queued_datagrams) {
      datagrams_.emplace_back(datagram_.data(), n);
      // Take what else is waiting now: one readiness event, several datagrams, fewer turns
      // of the event loop (a shared socket carries the answers of many registrations).
      while (datagrams_.size() < max_queued_datagrams && udp_.non_blocking()) {
        boost::system::error_code more;
        const std::size_t m = udp_.receive(asio::buffer(datagram_), 0, more);
        if (more == asio::error::would_block || more == asio::error::try_again) break;
        if (more) {
          datagram_error_ = to_std(more);
          break;
        }
        datagrams_.emplace_back(datagram_.data(), m);
      }
    }
    // Without a pending receive, stop reading: late datagrams wait in the kernel.
    deliver();
  }

  // receive_each: wait until the socket is readable (no read attempted first: the last
  // drain ended on EAGAIN), then take what waits, up to max_drained datagrams — one
  // readiness event, several datagrams, no copy and no posted handler each. The sink may
  // close the flow: checked after every call. Past max_drained the rest is taken after
  // the io_context has run what else is ready.
  void wait_datagrams() {
    udp_.async_wait(udp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (self->state_ != state::connected) return;
      if (ec) {
        self->sink_(to_std(ec), {});
        if (self->state_ == state::connected) self->wait_datagrams();
        return;
      }
      self->drain_datagrams();
    });
  }

  void drain_datagrams() {
    datagram_.resize(max_datagram);
    for (std::size_t i = 0; i < max_drained && state_ == state::connected; ++i) {
      boost::system::error_code ec;
      const std::size_t n = udp_.receive(asio::buffer(datagram_), 0, ec);  // non-blocking since connect
      if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_datagrams();
      sink_(to_std(ec), ec ? std::string_view{} : std::string_view(datagram_.data(), n));
    }
    if (state_ == state::connected)
      asio::post(io_, [self = shared_from_this()] {
        if (self->state_ == state::connected) self->drain_datagrams();
      });
  }

  void on_stream_read(const boost::system::error_code& ec, std::size_t n) {
    read_in_flight_ = false;
    if (state_ == state::closed) {
      if (receive_pending_) complete_receive(to_std(asio::error::operation_aborted), {});
      return;
    }
    stream_buffer_.append(chunk_.data(), n);
    if (ec) {
      stream_error_ = is_peer_eof(ec) ? make_error_code(errc::connection_closed) : to_std(ec);
    }
    deliver();
  }

  void complete_receive(std::error_code ec, std::string bytes) {
    receive_timer_.cancel();
    ++receive_generation_;
    receive_pending_ = false;
    framer_ = nullptr;
    auto handler = std::move(receive_handler_);
    receive_handler_ = nullptr;
    received r{std::move(bytes), since(receive_start_)};
    // Posted: deliver() runs from async_receive too, and a handler never runs inside the
    // initiating function.
    asio::post(io_, [handler = std::move(handler), ec, r = std::move(r)]() mutable { handler(ec, std::move(r)); });
  }

  static constexpr std::size_t max_queued_datagrams = 8;
  static constexpr std::size_t max_drained = 32;

  asio::io_context& io_;
  endpoint_spec remote_;
  flow_options options_;
  tls_context* tls_ctx_;
  state state_ = state::idle;

  udp::socket udp_;
  std::optional<tcp::socket> tcp_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;

  asio::steady_timer connect_timer_;
  asio::steady_timer send_timer_;
  asio::steady_timer receive_timer_;
  std::uint64_t connect_generation_ = 0;
  std::uint64_t send_generation_ = 0;
  std::uint64_t receive_generation_ = 0;

  // connect
  flow::connect_handler connect_handler_;
  clock_type::time_point connect_start_{};
  clock_type::time_point handshake_start_{};
  bool connect_timed_out_ = false;
  std::optional<milliseconds> connect_time_;
  std::optional<milliseconds> handshake_time_;
  std::optional<asio::ip::address> local_address_;
  std::uint16_t local_port_ = 0;
  std::vector<tls_verify_error> verify_errors_;
  tls_report report_;

  // send
  bool send_pending_ = false;
  bool send_timed_out_ = false;
  std::string send_buffer_;
  flow::send_handler send_handler_;
  clock_type::time_point send_start_{};

  // receive
  bool receive_pending_ = false;
  bool read_in_flight_ = false;
  framer framer_;
  flow::receive_handler receive_handler_;
  clock_type::time_point receive_start_{};
  std::string stream_buffer_;            // never longer than options_.max_message
  std::error_code stream_error_;         // sticky: EOF or a read error
  std::array<char, 16 * 1024> chunk_{};  // one read_some
  std::string datagram_;
  std::deque<std::string> datagrams_;
  std::error_code datagram_error_;
  flow::datagram_sink sink_;  // receive_each
};

}  // namespace detail

flow::flow(asio::io_context& io, endpoint_spec remote, flow_options options, tls_context* tls)
    : impl_(std::make_shared<detail::socket_flow>(io, std::move(remote), std::move(options), tls)) {}

flow::flow(std::shared_ptr<detail::flow_impl> impl) : impl_(std::move(impl)) {}

flow::~flow() {
  if (impl_) impl_->close();
}

flow::flow(flow&&) noexcept = default;

flow& flow::operator=(flow&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void flow::async_connect(milliseconds timeout, connect_handler handler) { impl_->async_connect(timeout, std::move(handler)); }
void flow::async_send(std::string_view bytes, milliseconds timeout, send_handler handler) {
  impl_->async_send(bytes, timeout, std::move(handler));
}
std::optional<std::error_code> flow::try_send(std::string_view bytes) { return impl_->try_send(bytes); }
bool flow::receive_each(datagram_sink sink) { return impl_->receive_each(std::move(sink)); }
void flow::async_receive(framer frame, milliseconds timeout, receive_handler handler) {
  impl_->async_receive(std::move(frame), timeout, std::move(handler));
}
void flow::stop_waiting() noexcept {
  if (impl_) impl_->stop_waiting();
}
void flow::close() noexcept {
  if (impl_) impl_->close();
}
bool flow::is_open() const noexcept { return impl_ && impl_->is_open(); }
const endpoint_spec& flow::remote() const noexcept { return impl_->remote(); }
std::optional<asio::ip::address> flow::local_address() const { return impl_->local_address(); }
std::uint16_t flow::local_port() const noexcept { return impl_->local_port(); }
std::optional<milliseconds> flow::connect_time() const noexcept { return impl_->connect_time(); }
std::optional<milliseconds> flow::handshake_time() const noexcept { return impl_->handshake_time(); }
const tls_report& flow::tls() const noexcept { return impl_->tls(); }
std::size_t flow::buffered() const noexcept { return impl_->buffered(); }

}  // namespace netcheck
