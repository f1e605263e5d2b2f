// tests/netcheck/transport_fakes.hpp — in-process peers on 127.0.0.1:0 / [::1]:0 for the
// transport and TLS tests, driven by the test's own io_context (one thread).
#pragma once

#include "netcheck/transport.hpp"
#include "netcheck/verdict.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace test_net {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// Runs `io` until `done()` or `limit` has passed; returns done().
template <class Pred>
bool run_until(asio::io_context& io, Pred done, milliseconds limit = 3000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_one_until(end);
    if (io.stopped()) io.restart();
  }
  return done();
}

// Test framing: a message ends with an empty line; a buffer starting with '!' is garbage.
inline std::ptrdiff_t blank_line_framer(std::string_view b) {
  if (!b.empty() && b.front() == '!') return -1;
  auto end = b.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : static_cast<std::ptrdiff_t>(end + 4);
}

inline asio::ip::address loopback4() { return asio::ip::make_address("127.0.0.1"); }
inline asio::ip::address loopback6() { return asio::ip::make_address("::1"); }

inline netcheck::endpoint_spec spec(netcheck::transport t, asio::ip::address a, unsigned short port, std::string host = {}) {
  return netcheck::endpoint_spec{t, a, port, std::move(host)};
}

// A port on which nothing listens: bound, noted, closed.
inline unsigned short closed_udp_port(asio::io_context& io, asio::ip::address a) {
  udp::socket s(io, udp::endpoint(a, 0));
  unsigned short port = s.local_endpoint().port();
  s.close();
  return port;
}
inline unsigned short closed_tcp_port(asio::io_context& io, asio::ip::address a) {
  tcp::acceptor acc(io, tcp::endpoint(a, 0));
  unsigned short port = acc.local_endpoint().port();
  acc.close();
  return port;
}

// UDP peer: counts datagrams; answers the n-th (1-based) and every later one with `reply`
// (answer_from = 0: never answers).
class udp_peer {
 public:
  udp_peer(asio::io_context& io, asio::ip::address a, int answer_from, std::string reply)
      : socket_(io, udp::endpoint(a, 0)), answer_from_(answer_from), reply_(std::move(reply)) {
    receive();
  }
  unsigned short port() const { return socket_.local_endpoint().port(); }
  int count() const { return count_; }
  udp::endpoint last_sender() const { return sender_; }
  const std::string& last_datagram() const { return last_; }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buf_), sender_, [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      ++count_;
      last_.assign(buf_, n);
      if (answer_from_ > 0 && count_ >= answer_from_) {
        socket_.send_to(asio::buffer(reply_), sender_);
      }
      receive();
    });
  }
  udp::socket socket_;
  int answer_from_;
  std::string reply_;
  int count_ = 0;
  char buf_[65536];
  udp::endpoint sender_;
  std::string last_;
};

// TCP peer: accepts connections; for each one runs `script(socket)` (which owns what it
// writes and when it closes).
class tcp_peer {
 public:
  using script = std::function<void(std::shared_ptr<tcp::socket>)>;
  tcp_peer(asio::io_context& io, asio::ip::address a, script s)
      : io_(io), acceptor_(io, tcp::endpoint(a, 0)), script_(std::move(s)) {
    accept();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_; }

 private:
  void accept() {
    auto sock = std::make_shared<tcp::socket>(io_);
    acceptor_.async_accept(*sock, [this, sock](const boost::system::error_code& ec) {
      if (ec) return;
      ++accepted_;
      script_(sock);
      accept();
    });
  }
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  script script_;
  int accepted_ = 0;
};

// Writes `data` after `delay`, then calls `then` (which may write more or close).
inline void write_later(asio::io_context& io, std::shared_ptr<tcp::socket> sock, milliseconds delay, std::string data,
                        std::function<void()> then = {}) {
  auto timer = std::make_shared<asio::steady_timer>(io, delay);
  auto payload = std::make_shared<std::string>(std::move(data));
  timer->async_wait([sock, timer, payload, then](const boost::system::error_code&) {
    asio::async_write(*sock, asio::buffer(*payload), [sock, payload, then](const boost::system::error_code&, std::size_t) {
      if (then) then();
    });
  });
}

// The result of one flow operation, captured by a test.
struct outcome {
  bool done = false;
  std::error_code ec;
  netcheck::received r;
  milliseconds elapsed{0};
};

inline netcheck::flow::receive_handler capture(outcome& o) {
  return [&o](std::error_code ec, netcheck::received r) {
    o.done = true;
    o.ec = ec;
    o.elapsed = r.elapsed;
    o.r = std::move(r);
  };
}

// Connects `f` and waits for the result.
inline std::error_code connect_sync(asio::io_context& io, netcheck::flow& f, milliseconds timeout = 1000ms) {
  bool done = false;
  std::error_code result;
  f.async_connect(timeout, [&](std::error_code ec) {
    done = true;
    result = ec;
  });
  run_until(io, [&] { return done; });
  return result;
}

inline std::error_code send_sync(asio::io_context& io, netcheck::flow& f, std::string bytes) {
  bool done = false;
  std::error_code result;
  f.async_send(std::move(bytes), 1000ms, [&](std::error_code ec, milliseconds) {
    done = true;
    result = ec;
  });
  run_until(io, [&] { return done; });
  return result;
}

inline outcome receive_sync(asio::io_context& io, netcheck::flow& f, milliseconds timeout = 1000ms,
                            netcheck::framer fr = blank_line_framer) {
  outcome o;
  f.async_receive(std::move(fr), timeout, capture(o));
  run_until(
      io, [&] { return o.done; }, timeout + 2000ms);
  return o;
}

}  // namespace test_net
