// Flows over UDP and TCP, and the reach probe, against in-process peers on loopback.
#include <ostream>
#include <doctest/doctest.h>

#include "netcheck/error.hpp"
#include "netcheck/transport.hpp"
#include "netcheck/verdict.hpp"
#include "transport_fakes.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace test_net;
using netcheck::errc;
using netcheck::transport;

// ---- pure parts --------------------------------------------------------------------------

TEST_CASE("transport: probe verdict for each error") {
  using netcheck::probe_verdict;
  using netcheck::verdict_for;
  CHECK(verdict_for({}) == probe_verdict::ok);
  CHECK(verdict_for(std::make_error_code(std::errc::connection_refused)) == probe_verdict::refused);
  CHECK(verdict_for(std::make_error_code(std::errc::host_unreachable)) == probe_verdict::unreachable);
  CHECK(verdict_for(std::make_error_code(std::errc::connection_reset)) == probe_verdict::closed);
  CHECK(verdict_for(errc::connect_timeout) == probe_verdict::no_answer);
  CHECK(verdict_for(errc::receive_timeout) == probe_verdict::no_answer);
  CHECK(verdict_for(errc::tls_handshake_timeout) == probe_verdict::tls_error);
  CHECK(verdict_for(errc::tls_handshake_failed) == probe_verdict::tls_error);
  CHECK(verdict_for(errc::tls_verify_failed) == probe_verdict::tls_error);
  CHECK(verdict_for(errc::malformed_message) == probe_verdict::bad_reply);
  CHECK(verdict_for(errc::truncated_message) == probe_verdict::bad_reply);
  CHECK(verdict_for(errc::message_too_large) == probe_verdict::bad_reply);
  CHECK(verdict_for(errc::connection_closed) == probe_verdict::closed);
  CHECK(verdict_for(std::make_error_code(std::errc::address_family_not_supported)) == probe_verdict::error);
  CHECK(netcheck::to_string(probe_verdict::no_answer) == "no_answer");
}

TEST_CASE("transport: address_text writes what address::to_string() writes") {
  for (const char* text : {"0.0.0.0", "1.2.3.4", "9.10.99.100", "127.0.0.1", "192.168.10.255", "255.255.255.255", "::1",
                           "2001:db8::7", "::ffff:192.0.2.1"}) {
    const auto a = asio::ip::make_address(text);
    CAPTURE(text);
    CHECK(netcheck::address_text(a) == a.to_string());
  }
  for (unsigned v = 0; v < 256; ++v) {  // every octet value, in every position
    const asio::ip::address_v4 a({static_cast<unsigned char>(v), static_cast<unsigned char>(255 - v),
                                  static_cast<unsigned char>(v / 2), static_cast<unsigned char>(v % 7)});
    CHECK(netcheck::address_text(asio::ip::address(a)) == a.to_string());
  }
}

TEST_CASE("transport: error messages of the transport enumerators") {
  CHECK(std::error_code(errc::receive_timeout).message() == "no reply before the deadline");
  CHECK(std::error_code(errc::truncated_message).message().find("middle of a message") != std::string::npos);
  CHECK(std::error_code(errc::bad_ca_file).message().find("CA file") != std::string::npos);
}

// ---- UDP ---------------------------------------------------------------------------------

static void udp_reply_case(asio::ip::address addr) {
  asio::io_context io;
  udp_peer peer(io, addr, 1, "pong\r\n\r\n");
  netcheck::flow f(io, spec(transport::udp, addr, peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  CHECK(f.is_open());
  REQUIRE(f.local_address());
  CHECK(*f.local_address() == addr);
  CHECK(f.local_port() != 0);
  CHECK_FALSE(f.connect_time());  // no connection set-up on UDP

  outcome o;
  f.async_receive(blank_line_framer, 1000ms, capture(o));
  CHECK_FALSE(send_sync(io, f, "ping"));
  run_until(io, [&] { return o.done; });
  REQUIRE(o.done);
  CHECK_FALSE(o.ec);
  CHECK(o.r.bytes == "pong\r\n\r\n");
  CHECK(peer.count() == 1);
  CHECK(peer.last_datagram() == "ping");
  // The local endpoint reported is the one the peer saw (what goes into Via).
  CHECK(peer.last_sender().port() == f.local_port());
  CHECK(peer.last_sender().address() == *f.local_address());
}

TEST_CASE("transport: udp reply received over IPv4") { udp_reply_case(loopback4()); }

TEST_CASE("transport: udp reply received over IPv6 ::1") { udp_reply_case(loopback6()); }

TEST_CASE("transport: udp to a closed port is refused (ICMP port unreachable)") {
  for (auto addr : {loopback4(), loopback6()}) {
    CAPTURE(addr.to_string());
    asio::io_context io;
    unsigned short port = closed_udp_port(io, addr);
    netcheck::flow f(io, spec(transport::udp, addr, port));
    REQUIRE_FALSE(connect_sync(io, f));
    outcome o;
    f.async_receive(blank_line_framer, 1000ms, capture(o));
    CHECK_FALSE(send_sync(io, f, "ping"));
    run_until(io, [&] { return o.done; });
    REQUIRE(o.done);
    CHECK(o.ec == std::errc::connection_refused);
    CHECK(o.elapsed < 500ms);
  }
}

TEST_CASE("transport: udp silent server times out within the deadline") {
  asio::io_context io;
  udp_peer peer(io, loopback4(), 0, "");
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  CHECK_FALSE(send_sync(io, f, "ping"));
  auto start = std::chrono::steady_clock::now();
  outcome o = receive_sync(io, f, 200ms);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(o.done);
  CHECK(o.ec == errc::receive_timeout);
  CHECK(o.ec != std::errc::operation_canceled);
  CHECK(o.elapsed >= 200ms);
  CHECK(o.elapsed < 600ms);
  CHECK(took < 1000ms);
  CHECK(peer.count() == 1);
  // A timeout leaves the flow usable: a later datagram is still received.
  CHECK(f.is_open());
}

namespace {
// A UDP flow whose peer answers only the second datagram: the first receive ends without an
// answer, as `first_wait` makes it end (returning its error), and the late answer is kept
// for the next receive.
void late_reply_case(const std::function<std::error_code(asio::io_context&, netcheck::flow&)>& first_wait) {
  asio::io_context io;
  udp_peer peer(io, loopback4(), 2, "late\r\n\r\n");
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  CHECK_FALSE(send_sync(io, f, "one"));
  CHECK(first_wait(io, f) == errc::receive_timeout);
  CHECK_FALSE(send_sync(io, f, "two"));
  outcome second = receive_sync(io, f, 1000ms);
  CHECK_FALSE(second.ec);
  CHECK(second.r.bytes == "late\r\n\r\n");
}
}  // namespace

TEST_CASE("transport: udp late reply after a receive timeout is kept for the next receive") {
  late_reply_case([](asio::io_context& io, netcheck::flow& f) { return receive_sync(io, f, 100ms).ec; });
}

TEST_CASE("transport: stop_waiting ends a pending receive at once, as a timeout, and keeps what comes later") {
  late_reply_case([](asio::io_context& io, netcheck::flow& f) {
    std::optional<std::error_code> got;
    f.async_receive(blank_line_framer, 10s, [&](std::error_code ec, netcheck::received) { got = ec; });
    f.stop_waiting();
    CHECK_FALSE(got.has_value());  // a handler never runs inside the call
    const auto start = std::chrono::steady_clock::now();
    while (!got && std::chrono::steady_clock::now() - start < 5s) io.run_one_for(100ms);
    CHECK(std::chrono::steady_clock::now() - start < 1s);  // not the 10 s of its timeout
    f.stop_waiting();                                      // nothing pending: nothing happens
    return got.value_or(std::error_code{});
  });
}

namespace {
// Connects `f` to `peer` and returns the flow's endpoint as the peer sees it.
asio::ip::udp::endpoint flow_seen_by(asio::io_context& io, netcheck::flow& f, asio::ip::udp::socket& peer) {
  REQUIRE_FALSE(connect_sync(io, f));
  CHECK_FALSE(send_sync(io, f, "hello"));
  std::array<char, 64> buf{};
  asio::ip::udp::endpoint from;
  REQUIRE(peer.receive_from(asio::buffer(buf), from) == 5);
  return from;
}
}  // namespace

TEST_CASE("transport: udp datagrams waiting together all arrive, in order") {
  // More than one read takes at a time: the ones left wait in the kernel for the next.
  asio::io_context io;
  asio::ip::udp::socket peer(io, asio::ip::udp::endpoint(loopback4(), 0));
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.local_endpoint().port()));
  const auto from = flow_seen_by(io, f, peer);
  constexpr int count = 20;
  for (int i = 0; i < count; ++i) peer.send_to(asio::buffer("d" + std::to_string(i)), from);
  for (int i = 0; i < count; ++i) {
    outcome o = receive_sync(io, f, 1000ms);
    CAPTURE(i);
    REQUIRE_FALSE(o.ec);
    CHECK(o.r.bytes == "d" + std::to_string(i));
  }
  CHECK(receive_sync(io, f, 50ms).ec == errc::receive_timeout);
}

TEST_CASE("transport: try_send sends a datagram inside the call, on a connected UDP flow only") {
  asio::io_context io;
  asio::ip::udp::socket peer(io, asio::ip::udp::endpoint(loopback4(), 0));
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.local_endpoint().port()));
  CHECK_FALSE(f.try_send("too early").has_value());  // not connected yet
  flow_seen_by(io, f, peer);
  auto sent = f.try_send("now");
  REQUIRE(sent.has_value());
  CHECK_FALSE(*sent);
  std::array<char, 64> buf{};
  asio::ip::udp::endpoint from;
  REQUIRE(peer.receive_from(asio::buffer(buf), from) == 3);  // already in the kernel: no io.run
  CHECK(std::string(buf.data(), 3) == "now");
  f.close();
  CHECK_FALSE(f.try_send("closed").has_value());

  tcp_peer tp(io, loopback4(), [](std::shared_ptr<tcp::socket>) {});
  netcheck::flow t(io, spec(transport::tcp, loopback4(), tp.port()));
  REQUIRE_FALSE(connect_sync(io, t));
  CHECK_FALSE(t.try_send("stream").has_value());  // streams always go through async_send
}

TEST_CASE("transport: receive_each hands every datagram to the sink, in order, until closed") {
  asio::io_context io;
  asio::ip::udp::socket peer(io, asio::ip::udp::endpoint(loopback4(), 0));
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.local_endpoint().port()));
  const auto from = flow_seen_by(io, f, peer);
  std::vector<std::string> got;
  std::vector<std::error_code> errors;
  REQUIRE(f.receive_each([&](std::error_code ec, std::string_view d) {
    if (ec) errors.push_back(ec);
    else got.emplace_back(d);
    if (d == "stop") f.close();  // the sink may close the flow
  }));
  CHECK_FALSE(f.receive_each([](std::error_code, std::string_view) {}));  // one sink only
  outcome busy;
  f.async_receive(nullptr, 100ms, capture(busy));
  // More than one drain takes (32) waiting at once, then more after a pause.
  constexpr int count = 70;
  for (int i = 0; i < count; ++i) peer.send_to(asio::buffer("d" + std::to_string(i)), from);
  run_until(io, [&] { return got.size() == count && busy.done; });
  CHECK(busy.ec == errc::busy);
  REQUIRE(got.size() == count);
  for (int i = 0; i < count; ++i) CHECK(got[static_cast<std::size_t>(i)] == "d" + std::to_string(i));
  peer.send_to(asio::buffer(std::string("late")), from);
  run_until(io, [&] { return got.size() == count + 1; });
  CHECK(got.back() == "late");
  peer.send_to(asio::buffer(std::string("stop")), from);
  peer.send_to(asio::buffer(std::string("after stop")), from);
  run_until(io, [&] { return got.size() == count + 2; });
  io.restart();
  io.run_for(100ms);
  CHECK(got.size() == count + 2);  // nothing after the sink closed the flow
  CHECK(got.back() == "stop");
  CHECK(errors.empty());
}

TEST_CASE("transport: receive_each reports an ICMP refusal to the sink and reads on") {
  asio::io_context io;
  unsigned short port = closed_udp_port(io, loopback4());
  netcheck::flow f(io, spec(transport::udp, loopback4(), port));
  REQUIRE_FALSE(connect_sync(io, f));
  std::vector<std::error_code> errors;
  REQUIRE(f.receive_each([&](std::error_code ec, std::string_view) { errors.push_back(ec); }));
  REQUIRE(f.try_send("ping").has_value());
  run_until(
      io, [&] { return !errors.empty(); }, 1000ms);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == std::errc::connection_refused);
  CHECK(f.is_open());  // a refusal is one datagram's fate, not the socket's
  REQUIRE(f.try_send("again").has_value());
  run_until(
      io, [&] { return errors.size() == 2; }, 1000ms);
  CHECK(errors.size() == 2);
}

TEST_CASE("transport: a receive with no_timeout waits, without a timer, until a datagram comes") {
  asio::io_context io;
  asio::ip::udp::socket peer(io, asio::ip::udp::endpoint(loopback4(), 0));
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.local_endpoint().port()));
  const auto from = flow_seen_by(io, f, peer);
  outcome o;
  f.async_receive(nullptr, netcheck::flow::no_timeout, capture(o));
  io.restart();
  io.run_for(150ms);
  CHECK_FALSE(o.done);
  peer.send_to(asio::buffer(std::string("late")), from);
  run_until(io, [&] { return o.done; });
  REQUIRE(o.done);
  CHECK_FALSE(o.ec);
  CHECK(o.r.bytes == "late");
}

TEST_CASE("transport: udp framer rejecting a datagram gives malformed_message with evidence") {
  asio::io_context io;
  udp_peer peer(io, loopback4(), 1, "!garbage");
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  outcome o;
  f.async_receive(blank_line_framer, 1000ms, capture(o));
  CHECK_FALSE(send_sync(io, f, "ping"));
  run_until(io, [&] { return o.done; });
  CHECK(o.ec == errc::malformed_message);
  CHECK(o.r.bytes == "!garbage");
}

TEST_CASE("transport: udp binds the requested local port") {
  asio::io_context io;
  udp_peer peer(io, loopback4(), 1, "pong\r\n\r\n");
  unsigned short local = closed_udp_port(io, loopback4());
  netcheck::flow_options opts;
  opts.local_address = loopback4();
  opts.local_port = local;
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.port()), opts);
  REQUIRE_FALSE(connect_sync(io, f));
  CHECK(f.local_port() == local);
  CHECK_FALSE(send_sync(io, f, "ping"));
  outcome o = receive_sync(io, f);
  CHECK_FALSE(o.ec);
  CHECK(peer.last_sender().port() == local);
}

// ---- TCP ---------------------------------------------------------------------------------

TEST_CASE("transport: tcp connect refused (RST)") {
  for (auto addr : {loopback4(), loopback6()}) {
    CAPTURE(addr.to_string());
    asio::io_context io;
    netcheck::flow f(io, spec(transport::tcp, addr, closed_tcp_port(io, addr)));
    auto ec = connect_sync(io, f);
    CHECK(ec == std::errc::connection_refused);
    CHECK_FALSE(f.is_open());
    // A failed flow refuses further work with a clear error, not a crash.
    CHECK(send_sync(io, f, "x") == errc::not_connected);
  }
}

TEST_CASE("transport: tcp connect timeout when SYNs go unanswered") {
  // A listener that never accepts and whose backlog is full: Linux drops further SYNs.
  asio::io_context io;
  tcp::acceptor acc(io, tcp::endpoint(loopback4(), 0));
  acc.listen(0);
  std::vector<std::unique_ptr<tcp::socket>> fillers;
  auto target = acc.local_endpoint();
  for (int i = 0; i < 4; ++i) {
    auto s = std::make_unique<tcp::socket>(io);
    s->open(tcp::v4());
    s->non_blocking(true);
    // Raw connect(2): asio's synchronous connect would wait for the handshake to finish.
    (void)::connect(s->native_handle(), target.data(), static_cast<socklen_t>(target.size()));
    fillers.push_back(std::move(s));
  }
  netcheck::flow f(io, spec(transport::tcp, loopback4(), target.port()));
  auto start = std::chrono::steady_clock::now();
  auto ec = connect_sync(io, f, 300ms);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(ec == errc::connect_timeout);
  CHECK(took >= 300ms);
  CHECK(took < 1500ms);
  CHECK_FALSE(f.is_open());
}

namespace {
// TCP_NODELAY of this process's TCP socket bound to local port `port`, found by its fd.
std::optional<bool> nodelay_of_local_port(std::uint16_t port) {
  for (int fd = 0; fd < 1024; ++fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int type = 0;
    socklen_t tlen = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM) continue;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) continue;
    const std::uint16_t p = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                                     : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (p != port) continue;
    int on = 0;
    socklen_t olen = sizeof on;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &olen) != 0) return std::nullopt;
    return on != 0;
  }
  return std::nullopt;
}
}  // namespace

TEST_CASE("transport: a tcp flow sends at once, without Nagle's delay") {
  // A reply on a flow followed at once by a request (the inbound check's 200 OK, then the
  // removal's REGISTER) would otherwise wait for the peer's delayed ACK, ~40 ms.
  asio::io_context io;
  tcp_peer peer(io, loopback4(), [](std::shared_ptr<tcp::socket>) {});
  netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  const auto nodelay = nodelay_of_local_port(f.local_port());
  REQUIRE(nodelay.has_value());
  CHECK(*nodelay);
}

TEST_CASE("transport: tcp framed receive, two messages in one write and one split") {
  asio::io_context io;
  tcp_peer peer(io, loopback6(), [&io](std::shared_ptr<tcp::socket> s) {
    write_later(io, s, 0ms, "A\r\n\r\nBB\r\n\r\nC",
                [&io, s] { write_later(io, s, 50ms, "C\r", [&io, s] { write_later(io, s, 50ms, "\n\r\nD"); }); });
  });
  netcheck::flow f(io, spec(transport::tcp, loopback6(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  REQUIRE(f.connect_time());
  CHECK(f.connect_time()->count() >= 0);
  CHECK(*f.local_address() == loopback6());

  auto a = receive_sync(io, f);
  CHECK_FALSE(a.ec);
  CHECK(a.r.bytes == "A\r\n\r\n");
  auto b = receive_sync(io, f);
  CHECK_FALSE(b.ec);
  CHECK(b.r.bytes == "BB\r\n\r\n");
  CHECK(f.buffered() == 1);  // the "C" of the next message stays buffered
  auto c = receive_sync(io, f);
  CHECK_FALSE(c.ec);
  CHECK(c.r.bytes == "CC\r\n\r\n");
  CHECK(c.elapsed >= 90ms);  // it took both later writes
  CHECK(f.buffered() == 1);  // "D"
}

TEST_CASE("transport: tcp framer saying malformed gives malformed_message and bad_reply") {
  asio::io_context io;
  tcp_peer peer(io, loopback4(), [&io](std::shared_ptr<tcp::socket> s) { write_later(io, s, 0ms, "!not a message\r\n\r\n"); });
  {
    netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()));
    REQUIRE_FALSE(connect_sync(io, f));
    auto o = receive_sync(io, f);
    CHECK(o.ec == errc::malformed_message);
    CHECK(o.r.bytes == "!not a message\r\n\r\n");
  }
  CHECK(netcheck::verdict_for(errc::malformed_message) == netcheck::probe_verdict::bad_reply);
}

TEST_CASE("transport: tcp peer closing mid-message gives truncated_message") {
  asio::io_context io;
  tcp_peer peer(io, loopback4(), [&io](std::shared_ptr<tcp::socket> s) {
    write_later(io, s, 10ms, "SIP/2.0 200 OK\r\nVia: half", [s] { s->close(); });
  });
  netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  auto o = receive_sync(io, f);
  CHECK(o.ec == errc::truncated_message);
  CHECK(o.r.bytes == "SIP/2.0 200 OK\r\nVia: half");
  // The end of the stream is sticky.
  auto again = receive_sync(io, f);
  CHECK(again.ec == errc::connection_closed);
}

TEST_CASE("transport: tcp peer closing without a reply gives connection_closed / closed") {
  asio::io_context io;
  tcp_peer peer(io, loopback4(), [](std::shared_ptr<tcp::socket> s) { s->close(); });
  netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  auto o = receive_sync(io, f);
  CHECK(o.ec == errc::connection_closed);
  CHECK(o.r.bytes.empty());
  CHECK(netcheck::verdict_for(o.ec) == netcheck::probe_verdict::closed);
}

TEST_CASE("transport: tcp oversized message is refused with bounded memory") {
  asio::io_context io;
  tcp_peer peer(io, loopback4(),
                [&io](std::shared_ptr<tcp::socket> s) { write_later(io, s, 0ms, std::string(200 * 1024, 'x')); });
  netcheck::flow_options opts;
  opts.max_message = 4096;
  netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()), opts);
  REQUIRE_FALSE(connect_sync(io, f));
  outcome o;
  std::size_t largest_seen = 0;
  f.async_receive(
      [&](std::string_view b) {
        largest_seen = std::max(largest_seen, b.size());
        return blank_line_framer(b);
      },
      1000ms, capture(o));
  run_until(io, [&] { return o.done; });
  CHECK(o.ec == errc::message_too_large);
  CHECK(o.r.bytes.size() == 4096);
  CHECK(largest_seen == 4096);  // the buffer never grew beyond max_message
  CHECK(f.buffered() == 0);
}

TEST_CASE("transport: tcp framer announcing a length beyond the limit fails early") {
  asio::io_context io;
  tcp_peer peer(io, loopback4(), [&io](std::shared_ptr<tcp::socket> s) { write_later(io, s, 0ms, "LEN 100000\r\n"); });
  netcheck::flow_options opts;
  opts.max_message = 1024;
  netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()), opts);
  REQUIRE_FALSE(connect_sync(io, f));
  auto o = receive_sync(io, f, 1000ms, [](std::string_view) -> std::ptrdiff_t { return 100000; });
  CHECK(o.ec == errc::message_too_large);
  CHECK(o.elapsed < 500ms);
}

TEST_CASE("transport: tcp receive timeout keeps the flow and later bytes") {
  asio::io_context io;
  tcp_peer peer(io, loopback4(), [&io](std::shared_ptr<tcp::socket> s) { write_later(io, s, 200ms, "late\r\n\r\n"); });
  netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  auto first = receive_sync(io, f, 50ms);
  CHECK(first.ec == errc::receive_timeout);
  CHECK(first.elapsed >= 50ms);
  auto second = receive_sync(io, f, 1000ms);
  CHECK_FALSE(second.ec);
  CHECK(second.r.bytes == "late\r\n\r\n");
}

// ---- lifetime and misuse -----------------------------------------------------------------

TEST_CASE("transport: destroying a flow with operations pending completes them as aborted") {
  asio::io_context io;
  std::vector<std::shared_ptr<tcp::socket>> held;  // the peer keeps its end open, silent
  tcp_peer peer(io, loopback4(), [&held](std::shared_ptr<tcp::socket> s) { held.push_back(s); });
  outcome o;
  {
    netcheck::flow f(io, spec(transport::tcp, loopback4(), peer.port()));
    REQUIRE_FALSE(connect_sync(io, f));
    f.async_receive(blank_line_framer, 5000ms, capture(o));
    run_until(
        io, [] { return false; }, 20ms);
    CHECK_FALSE(o.done);
  }  // the handle goes away with the receive pending
  auto start = std::chrono::steady_clock::now();
  run_until(io, [&] { return o.done; });
  CHECK(o.done);
  CHECK(o.ec == std::errc::operation_canceled);
  CHECK(std::chrono::steady_clock::now() - start < 500ms);  // not after the 5 s deadline
}

TEST_CASE("transport: close during connect, second receive while one is pending") {
  asio::io_context io;
  udp_peer peer(io, loopback4(), 0, "");
  netcheck::flow f(io, spec(transport::udp, loopback4(), peer.port()));
  REQUIRE_FALSE(connect_sync(io, f));
  outcome first, second;
  f.async_receive(blank_line_framer, 1000ms, capture(first));
  f.async_receive(blank_line_framer, 1000ms, capture(second));
  run_until(io, [&] { return second.done; });
  CHECK(second.ec == errc::busy);
  CHECK_FALSE(first.done);
  f.close();
  run_until(io, [&] { return first.done; });
  CHECK(first.ec == std::errc::operation_canceled);
  CHECK_FALSE(f.is_open());

  // A connect that is closed before it completes reports operation_aborted, not success.
  tcp_peer tpeer(io, loopback4(), [](std::shared_ptr<tcp::socket>) {});
  netcheck::flow g(io, spec(transport::tcp, loopback4(), tpeer.port()));
  bool done = false;
  std::error_code ec;
  g.async_connect(1000ms, [&](std::error_code e) {
    done = true;
    ec = e;
  });
  g.close();
  run_until(io, [&] { return done; });
  CHECK(ec == std::errc::operation_canceled);
}
