// Shared links: many flows over one UDP socket or one TCP connection, answers routed by key.
#include <ostream>
#include <doctest/doctest.h>

#include "netcheck/error.hpp"
#include "netcheck/link.hpp"
#include "transport_fakes.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace test_net;
using netcheck::errc;
using netcheck::transport;

namespace {

// "key: text" → "key"; no colon → no key.
std::string_view colon_key(std::string_view m) {
  auto c = m.find(':');
  return c == std::string_view::npos ? std::string_view{} : m.substr(0, c);
}

// Collects `batch` datagrams, then answers them in reverse order, each with itself (or
// with `reply` when set), so routing cannot rely on order.
class reversing_udp_peer {
 public:
  reversing_udp_peer(asio::io_context& io, std::size_t batch, std::string reply = {})
      : socket_(io, udp::endpoint(loopback4(), 0)), batch_(batch), reply_(std::move(reply)) {
    receive();
  }
  unsigned short port() const { return socket_.local_endpoint().port(); }
  std::vector<udp::endpoint> senders;

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buf_), from_, [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      got_.emplace_back(buf_, n);
      senders.push_back(from_);
      if (got_.size() == batch_) {
        for (auto it = got_.rbegin(); it != got_.rend(); ++it)
          socket_.send_to(asio::buffer(reply_.empty() ? *it : reply_), from_);
        got_.clear();
      }
      receive();
    });
  }
  udp::socket socket_;
  std::size_t batch_;
  std::string reply_;
  std::vector<std::string> got_;
  char buf_[65536];
  udp::endpoint from_;
};

// Two flows of `pool` to a UDP `port`: both connect, wait, then send `ma` and `mb`; the
// answers each got.
std::pair<outcome, outcome> exchange_two(asio::io_context& io, netcheck::link_pool& pool, unsigned short port, std::string ma,
                                         std::string mb) {
  auto a = pool.open(spec(transport::udp, loopback4(), port));
  auto b = pool.open(spec(transport::udp, loopback4(), port));
  REQUIRE_FALSE(connect_sync(io, a));
  REQUIRE_FALSE(connect_sync(io, b));
  CHECK(a.local_port() == b.local_port());
  outcome oa, ob;
  a.async_receive(nullptr, 2000ms, capture(oa));
  b.async_receive(nullptr, 2000ms, capture(ob));
  CHECK_FALSE(send_sync(io, a, std::move(ma)));
  CHECK_FALSE(send_sync(io, b, std::move(mb)));
  run_until(io, [&] { return oa.done && ob.done; });
  REQUIRE(oa.done);
  REQUIRE(ob.done);
  CHECK_FALSE(oa.ec);
  CHECK_FALSE(ob.ec);
  return {oa, ob};
}

}  // namespace

TEST_CASE("link: two flows share one UDP socket and each gets its own answer") {
  asio::io_context io;
  reversing_udp_peer peer(io, 2);
  netcheck::link_pool pool(io, {}, nullptr, blank_line_framer, colon_key);
  auto [oa, ob] = exchange_two(io, pool, peer.port(), "a: one", "b: two");
  CHECK(pool.links() == 1);
  CHECK(oa.r.bytes == "a: one");  // answered second, still routed to a
  CHECK(ob.r.bytes == "b: two");
  REQUIRE(peer.senders.size() == 2);
  CHECK(peer.senders[0] == peer.senders[1]);  // one socket
  CHECK(pool.unmatched() == 0);
  pool.close();
}

TEST_CASE("link: flows opened to two endpoints in turn use one link per endpoint") {
  // open() finds the last link used without a lookup: alternating endpoints must still
  // each get their own socket, and the answers their own flow.
  asio::io_context io;
  reversing_udp_peer p1(io, 1), p2(io, 1);
  netcheck::link_pool pool(io, {}, nullptr, blank_line_framer, colon_key);
  std::vector<netcheck::flow> flows;
  std::vector<outcome> got(4);
  for (int i = 0; i < 4; ++i) {
    flows.push_back(pool.open(spec(transport::udp, loopback4(), i % 2 ? p2.port() : p1.port())));
    REQUIRE_FALSE(connect_sync(io, flows.back()));
  }
  CHECK(pool.links() == 2);
  CHECK(pool.connects() == 2);
  CHECK(flows[0].local_port() == flows[2].local_port());
  CHECK(flows[1].local_port() == flows[3].local_port());
  CHECK(flows[0].local_port() != flows[1].local_port());
  for (int i = 0; i < 4; ++i) {
    flows[i].async_receive(nullptr, 2000ms, capture(got[i]));
    CHECK_FALSE(send_sync(io, flows[i], "f" + std::to_string(i) + ": hello"));
  }
  run_until(io, [&] { return got[0].done && got[1].done && got[2].done && got[3].done; });
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK_FALSE(got[i].ec);
    CHECK(got[i].r.bytes == "f" + std::to_string(i) + ": hello");
  }
  CHECK(p1.senders.size() == 2);
  CHECK(p2.senders.size() == 2);
  pool.close();
}

TEST_CASE("link: an answer nobody owns is dropped, a keyless one goes to every waiting flow") {
  asio::io_context io;
  reversing_udp_peer stranger(io, 1, "zz: not yours");
  netcheck::link_pool pool(io, {}, nullptr, blank_line_framer, colon_key);
  auto a = pool.open(spec(transport::udp, loopback4(), stranger.port()));
  REQUIRE_FALSE(connect_sync(io, a));
  outcome o;
  a.async_receive(nullptr, 300ms, capture(o));
  CHECK_FALSE(send_sync(io, a, "a: hello"));
  run_until(io, [&] { return o.done; });
  CHECK(o.ec == errc::receive_timeout);
  CHECK(pool.unmatched() == 1);

  reversing_udp_peer garbage(io, 2, "garbage without a key");
  auto [ox, oy] = exchange_two(io, pool, garbage.port(), "x: 1", "y: 2");
  CHECK(ox.r.bytes == "garbage without a key");
  CHECK(oy.r.bytes == "garbage without a key");
  pool.close();
}

TEST_CASE("link: a closed UDP port refuses every flow waiting on the link") {
  asio::io_context io;
  const auto port = closed_udp_port(io, loopback4());
  netcheck::link_pool pool(io, {}, nullptr, blank_line_framer, colon_key);
  auto a = pool.open(spec(transport::udp, loopback4(), port));
  REQUIRE_FALSE(connect_sync(io, a));
  outcome o;
  a.async_receive(nullptr, 2000ms, capture(o));
  (void)send_sync(io, a, "a: anyone?");
  run_until(io, [&] { return o.done; });
  REQUIRE(o.done);
  CHECK(o.ec == std::errc::connection_refused);
  pool.close();
}

TEST_CASE("link: flows share one TCP connection, when it closes the next flow reconnects") {
  asio::io_context io;
  std::vector<std::shared_ptr<tcp::socket>> conns;
  tcp_peer peer(io, loopback4(), [&](std::shared_ptr<tcp::socket> s) { conns.push_back(s); });
  netcheck::link_pool pool(io, {}, nullptr, blank_line_framer, colon_key);
  auto a = pool.open(spec(transport::tcp, loopback4(), peer.port()));
  auto b = pool.open(spec(transport::tcp, loopback4(), peer.port()));
  // Both connect at once: one connection.
  bool ca = false, cb = false;
  a.async_connect(1000ms, [&](std::error_code ec) { ca = !ec; });
  b.async_connect(1000ms, [&](std::error_code ec) { cb = !ec; });
  run_until(io, [&] { return ca && cb && !conns.empty(); });
  REQUIRE(ca);
  REQUIRE(cb);
  CHECK(pool.connects() == 1);
  outcome oa, ob;
  a.async_receive(nullptr, 2000ms, capture(oa));
  b.async_receive(nullptr, 2000ms, capture(ob));
  CHECK_FALSE(send_sync(io, a, "a: x\r\n\r\n"));
  CHECK_FALSE(send_sync(io, b, "b: y\r\n\r\n"));
  REQUIRE(conns.size() == 1);
  // Both answers in one write, b's first: the framer cuts them, the keys route them.
  write_later(io, conns[0], 10ms, "b: for b\r\n\r\na: for a\r\n\r\n");
  run_until(io, [&] { return oa.done && ob.done; });
  CHECK(oa.r.bytes == "a: for a\r\n\r\n");
  CHECK(ob.r.bytes == "b: for b\r\n\r\n");
  CHECK(peer.accepted() == 1);

  // The server closes: the waiting flow learns it, the next flow gets a new connection.
  outcome closed;
  a.async_receive(nullptr, 2000ms, capture(closed));
  conns[0]->close();
  run_until(io, [&] { return closed.done; });
  // FIN, or RST because the peer never read what it was sent.
  CHECK((closed.ec == errc::connection_closed || closed.ec == std::errc::connection_reset));
  auto c = pool.open(spec(transport::tcp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, c));
  run_until(io, [&] { return peer.accepted() == 2; });
  CHECK(peer.accepted() == 2);
  CHECK(pool.connects() == 2);
  pool.close();
}

TEST_CASE("link: closing the pool aborts waiting flows and refuses later sends") {
  asio::io_context io;
  reversing_udp_peer peer(io, 100);
  netcheck::link_pool pool(io, {}, nullptr, blank_line_framer, colon_key);
  auto a = pool.open(spec(transport::udp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, a));
  outcome o;
  a.async_receive(nullptr, 5000ms, capture(o));
  pool.close();
  run_until(io, [&] { return o.done; });
  REQUIRE(o.done);
  CHECK(o.ec == std::errc::operation_canceled);
  CHECK(send_sync(io, a, "a: late") == errc::not_connected);
  CHECK(pool.links() == 0);
}
