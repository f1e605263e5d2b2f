// TLS flows and the TLS report, against an in-process TLS server with a PKI made at test time.
#include <ostream>
#include <doctest/doctest.h>

#include "netcheck/error.hpp"
#include "netcheck/tls_report.hpp"
#include "netcheck/transport.hpp"
#include "netcheck/verdict.hpp"
#include "tls_pki.hpp"
#include "transport_fakes.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <vector>

using namespace test_net;
using netcheck::errc;
using netcheck::tls_verdict;
using netcheck::transport;

namespace {

// The test PKI, made once per run.
struct pki {
  test_pki::temp_dir dir;
  test_pki::identity ca = test_pki::issue("sipprobe test CA", nullptr, true, "", -1, 365);
  test_pki::identity rogue_ca = test_pki::issue("unknown CA", nullptr, true, "", -1, 365);
  test_pki::identity good = test_pki::issue("sip.test", &ca, false, "DNS:sip.test,IP:127.0.0.1,IP:::1", -1, 30);
  test_pki::identity other = test_pki::issue("other.test", &ca, false, "DNS:other.test", -1, 30);
  test_pki::identity expired = test_pki::issue("sip.test", &ca, false, "DNS:sip.test", -60, -2);
  test_pki::identity rogue = test_pki::issue("sip.test", &rogue_ca, false, "DNS:sip.test", -1, 30);
  test_pki::identity self_signed = test_pki::issue("sip.test", nullptr, false, "DNS:sip.test", -1, 30);
  std::string ca_file;

  pki() {
    ca_file = (dir.path / "ca.pem").string();
    test_pki::write_pem(ca_file, ca.cert.get());
  }
  static pki& get() {
    static pki instance;
    return instance;
  }
};

// A TLS server: handshakes, reads one request up to a blank line, answers "SIP/2.0 200 OK".
class tls_peer {
 public:
  tls_peer(asio::io_context& io, asio::ip::address a, const test_pki::identity& id, std::function<void(SSL_CTX*)> tweak = {})
      : io_(io), ctx_(asio::ssl::context::tls_server), acceptor_(io, tcp::endpoint(a, 0)) {
    SSL_CTX_use_certificate(ctx_.native_handle(), id.cert.get());
    SSL_CTX_use_PrivateKey(ctx_.native_handle(), id.key.get());
    if (tweak) tweak(ctx_.native_handle());
    accept();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int handshakes() const { return handshakes_; }
  const std::string& last_sni() const { return sni_; }

 private:
  using stream = asio::ssl::stream<tcp::socket>;
  void accept() {
    auto s = std::make_shared<stream>(io_, ctx_);
    acceptor_.async_accept(s->next_layer(), [this, s](const boost::system::error_code& ec) {
      if (ec) return;
      streams_.push_back(s);
      s->async_handshake(asio::ssl::stream_base::server, [this, s](const boost::system::error_code& e) {
        if (e) return;
        ++handshakes_;
        const char* name = SSL_get_servername(s->native_handle(), TLSEXT_NAMETYPE_host_name);
        sni_ = name ? name : "";
        read(s, std::make_shared<std::string>());
      });
      accept();
    });
  }
  void read(std::shared_ptr<stream> s, std::shared_ptr<std::string> buf) {
    auto chunk = std::make_shared<std::array<char, 1024>>();
    s->async_read_some(asio::buffer(*chunk), [this, s, buf, chunk](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      buf->append(chunk->data(), n);
      if (buf->find("\r\n\r\n") == std::string::npos) {
        read(s, buf);
        return;
      }
      auto reply = std::make_shared<std::string>("SIP/2.0 200 OK\r\n\r\n");
      asio::async_write(*s, asio::buffer(*reply), [s, reply](auto, auto) {});
    });
  }

  asio::io_context& io_;
  asio::ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<stream>> streams_;
  int handshakes_ = 0;
  std::string sni_;
};

netcheck::tls_context trusting_test_ca(bool insecure = false) {
  return netcheck::make_tls_context({pki::get().ca_file, insecure});
}

struct tls_attempt {
  std::error_code ec;
  netcheck::tls_report report;
  std::optional<milliseconds> connect_ms, handshake_ms;
  milliseconds took{0};
};

tls_attempt connect_tls(asio::io_context& io, netcheck::tls_context& ctx, asio::ip::address a, unsigned short port,
                        std::string host, milliseconds timeout = 2000ms, const tls_peer* wait_for_server = nullptr) {
  netcheck::flow f(io, spec(transport::tls, a, port, std::move(host)), {}, &ctx);
  auto start = std::chrono::steady_clock::now();
  tls_attempt t;
  t.ec = connect_sync(io, f, timeout);
  t.took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  // TLS 1.3: the client is done before the server has read its Finished.
  if (wait_for_server != nullptr) {
    run_until(
        io, [&] { return wait_for_server->handshakes() > 0; }, 1000ms);
  }
  t.report = f.tls();
  t.connect_ms = f.connect_time();
  t.handshake_ms = f.handshake_time();
  return t;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

// ---- pure parts --------------------------------------------------------------------------

TEST_CASE("tls: verify codes are classified") {
  struct row {
    long code;
    tls_verdict verdict;
  };
  const row table[] = {
      {X509_V_OK, tls_verdict::ok},
      {X509_V_ERR_CERT_HAS_EXPIRED, tls_verdict::expired},                     // 10
      {X509_V_ERR_CERT_NOT_YET_VALID, tls_verdict::not_yet_valid},             // 9
      {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, tls_verdict::self_signed},      // 18
      {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, tls_verdict::untrusted},          // 19
      {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, tls_verdict::untrusted},  // 20
      {X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, tls_verdict::untrusted},    // 21
      {X509_V_ERR_HOSTNAME_MISMATCH, tls_verdict::name_mismatch},              // 62
      {X509_V_ERR_IP_ADDRESS_MISMATCH, tls_verdict::name_mismatch},            // 64
      {X509_V_ERR_CERT_REVOKED, tls_verdict::other},
  };
  for (const auto& r : table) {
    CAPTURE(r.code);
    CHECK(netcheck::classify_verify_error(r.code) == r.verdict);
  }
  CHECK(netcheck::to_string(tls_verdict::name_mismatch) == "name_mismatch");
  CHECK(X509_V_ERR_HOSTNAME_MISMATCH == 62);
  CHECK(X509_V_ERR_IP_ADDRESS_MISMATCH == 64);
}

TEST_CASE("tls: the primary verify error prefers trust over dates over names") {
  using E = netcheck::tls_verify_error;
  CHECK(netcheck::primary_verify_error({}) == X509_V_OK);
  CHECK(netcheck::primary_verify_error({E{0, 62}, E{0, 10}}) == 10);
  CHECK(netcheck::primary_verify_error({E{0, 62}, E{0, 10}, E{0, 20}, E{0, 21}}) == 20);
  CHECK(netcheck::primary_verify_error({E{0, 62}}) == 62);
  CHECK(netcheck::primary_verify_error({E{1, 23}, E{0, 62}}) == 62);
}

TEST_CASE("tls: ISO 8601 UTC and handshake error texts") {
  CHECK(netcheck::iso8601_utc(std::chrono::system_clock::from_time_t(0)) == "1970-01-01T00:00:00Z");
  CHECK(netcheck::iso8601_utc(std::chrono::system_clock::from_time_t(1700000000)) == "2023-11-14T22:13:20Z");
  auto wrong_version = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_WRONG_VERSION_NUMBER);
  CHECK(netcheck::describe_handshake_error(wrong_version).find("peer did not speak TLS") == 0);
  auto alert = ERR_PACK(ERR_LIB_SSL, 0, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
  CHECK(netcheck::describe_handshake_error(alert).find("no TLS protocol version in common") == 0);
}

TEST_CASE("tls: context factory loads the CA file, the system store, and rejects a bad file") {
  CHECK_NOTHROW(trusting_test_ca());
  CHECK_NOTHROW(netcheck::make_tls_context({}));
  try {
    netcheck::make_tls_context({"/nonexistent/ca.pem", false});
    FAIL("no exception for a missing CA file");
  } catch (const std::system_error& e) {
    CHECK(e.code() == errc::bad_ca_file);
    CHECK(std::string(e.what()).find("/nonexistent/ca.pem") != std::string::npos);
  }
  auto ctx = trusting_test_ca();
  CHECK(SSL_CTX_get_min_proto_version(ctx.ssl().native_handle()) == TLS1_2_VERSION);
}

TEST_CASE("tls: a context loads its CAs on the first TLS connection, once, and a CA file is read once") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().good);
  netcheck::tls_context ctx({pki::get().ca_file, false});
  CHECK_FALSE(ctx.loaded());
  CHECK(ctx.read_ca_file().empty());
  CHECK_FALSE(ctx.loaded());  // read and decoded, not yet in an OpenSSL context
  auto first = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test", 2000ms, &peer);
  REQUIRE_FALSE(first.ec);
  CHECK(first.report.verdict == tls_verdict::ok);  // the CA file read before was used
  REQUIRE(ctx.loaded());
  SSL_CTX* made = ctx.ssl().native_handle();
  auto second = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test", 2000ms, &peer);
  REQUIRE_FALSE(second.ec);
  CHECK(ctx.ssl().native_handle() == made);  // the same context, not loaded again
}

TEST_CASE("tls: a CA file that cannot be loaded at the first connection fails that connection, with the reason") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().good);
  netcheck::tls_context ctx({"/nonexistent/ca.pem", false});
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test");
  CHECK(t.ec == errc::bad_ca_file);
  CHECK(t.report.handshake_error == "CA file '/nonexistent/ca.pem' does not exist: cannot load the TLS CA file");
  CHECK_FALSE(ctx.loaded());
}

// ---- handshakes against the in-process server --------------------------------------------

TEST_CASE("tls: verified connection to sip.test fills the report") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().good);
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test", 2000ms, &peer);
  REQUIRE_FALSE(t.ec);
  const auto& r = t.report;
  CHECK(r.handshake_ok());
  CHECK(r.verified());
  CHECK(r.verdict == tls_verdict::ok);
  CHECK(r.verify_code == X509_V_OK);
  CHECK(r.verify_reason == "ok");
  CHECK(r.verify_errors.empty());
  CHECK(r.name_checked);
  CHECK(r.name_matched);
  CHECK_FALSE(r.verification_skipped);
  CHECK(r.handshake_error.empty());
  CHECK(r.protocol == "TLSv1.3");
  CHECK_FALSE(r.cipher.empty());
  CHECK(r.sni == "sip.test");
  CHECK(peer.last_sni() == "sip.test");
  CHECK(r.has_certificate);
  CHECK(r.subject_cn == "sip.test");
  CHECK(r.subject.find("CN=sip.test") != std::string::npos);
  CHECK(r.issuer_cn == "sipprobe test CA");
  CHECK(r.issuer.find("O=sipprobe tests") != std::string::npos);
  CHECK(contains(r.san_dns, "sip.test"));
  CHECK(contains(r.san_ip, "127.0.0.1"));
  CHECK(contains(r.san_ip, "::1"));
  REQUIRE(r.days_left);
  CHECK(*r.days_left >= 29);
  CHECK(*r.days_left <= 30);
  CHECK(r.expires_within(31));
  CHECK_FALSE(r.expires_within(20));
  CHECK(r.not_before.size() == 20);
  CHECK(r.not_after.back() == 'Z');
  CHECK(r.not_before < r.not_after);
  CHECK(r.chain_length == 1);
  REQUIRE(t.connect_ms);
  REQUIRE(t.handshake_ms);
  CHECK(t.handshake_ms->count() < 1000);
}

TEST_CASE("tls: IP literal hosts are checked against SAN IP addresses, without SNI") {
  for (auto addr : {loopback4(), loopback6()}) {
    CAPTURE(addr.to_string());
    asio::io_context io;
    tls_peer peer(io, addr, pki::get().good);
    auto ctx = trusting_test_ca();
    std::string literal = addr.is_v6() ? "[::1]" : "127.0.0.1";
    auto t = connect_tls(io, ctx, addr, peer.port(), literal, 2000ms, &peer);
    CHECK_FALSE(t.ec);
    CHECK(t.report.verdict == tls_verdict::ok);
    CHECK(t.report.name_matched);
    CHECK(t.report.sni.empty());
    CHECK(peer.handshakes() == 1);
    CHECK(peer.last_sni().empty());
    CHECK(t.report.checked_name == addr.to_string());
  }
}

TEST_CASE("tls: host name mismatch (62) and IP address mismatch (64)") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().other);  // SAN other.test only
  auto ctx = trusting_test_ca();

  auto by_name = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test");
  CHECK(by_name.ec == errc::tls_verify_failed);
  CHECK(by_name.report.verdict == tls_verdict::name_mismatch);
  CHECK(by_name.report.verify_code == 62);
  CHECK(by_name.report.verify_reason == "hostname mismatch");
  CHECK(by_name.report.name_checked);
  CHECK_FALSE(by_name.report.name_matched);
  CHECK(by_name.report.handshake_ok());  // the handshake completed; the verdict is ours
  CHECK(by_name.report.san_dns == std::vector<std::string>{"other.test"});

  auto by_ip = connect_tls(io, ctx, loopback4(), peer.port(), "127.0.0.1");
  CHECK(by_ip.ec == errc::tls_verify_failed);
  CHECK(by_ip.report.verdict == tls_verdict::name_mismatch);
  CHECK(by_ip.report.verify_code == 64);
  CHECK_FALSE(by_ip.report.name_matched);
}

TEST_CASE("tls: certificate from an unknown CA is untrusted") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().rogue);
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test");
  CHECK(t.ec == errc::tls_verify_failed);
  CHECK(t.report.verdict == tls_verdict::untrusted);
  CHECK((t.report.verify_code == 20 || t.report.verify_code == 21));
  CHECK(t.report.issuer_cn == "unknown CA");
  CHECK(t.report.name_matched);  // right name, wrong CA
}

TEST_CASE("tls: self-signed server certificate") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().self_signed);
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test");
  CHECK(t.ec == errc::tls_verify_failed);
  CHECK(t.report.verdict == tls_verdict::self_signed);
  CHECK(t.report.verify_code == 18);
}

TEST_CASE("tls: expired certificate") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().expired);
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test");
  CHECK(t.ec == errc::tls_verify_failed);
  CHECK(t.report.verdict == tls_verdict::expired);
  CHECK(t.report.verify_code == 10);
  CHECK(t.report.verify_reason == "certificate has expired");
  REQUIRE(t.report.days_left);
  CHECK(*t.report.days_left <= -2);
  CHECK(t.report.expires_within(30));
}

TEST_CASE("tls: system trust store does not trust the test CA") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().good);
  auto ctx = netcheck::make_tls_context({});
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test");
  CHECK(t.ec == errc::tls_verify_failed);
  CHECK(t.report.verdict == tls_verdict::untrusted);
}

TEST_CASE("tls: insecure mode completes but still reports the failure") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().expired);
  auto ctx = trusting_test_ca(/*insecure=*/true);
  netcheck::flow f(io, spec(transport::tls, loopback4(), peer.port(), "wrong.test"), {}, &ctx);
  REQUIRE_FALSE(connect_sync(io, f));
  CHECK(f.is_open());
  const auto& r = f.tls();
  CHECK(r.verification_skipped);
  CHECK(r.verdict == tls_verdict::expired);  // dates rank above the name
  CHECK_FALSE(r.name_matched);
  CHECK_FALSE(r.verified());
  bool has62 = std::any_of(r.verify_errors.begin(), r.verify_errors.end(), [](const auto& e) { return e.code == 62; });
  CHECK(has62);
  // …and the flow carries data.
  outcome o;
  f.async_receive(blank_line_framer, 1000ms, capture(o));
  CHECK_FALSE(send_sync(io, f, "OPTIONS\r\n\r\n"));
  run_until(io, [&] { return o.done; });
  CHECK_FALSE(o.ec);
  CHECK(o.r.bytes == "SIP/2.0 200 OK\r\n\r\n");
}

TEST_CASE("tls: a plain TCP peer that answers text did not speak TLS") {
  asio::io_context io;
  tcp_peer plain(io, loopback4(), [&io](std::shared_ptr<tcp::socket> s) {
    write_later(io, s, 10ms, "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), plain.port(), "sip.test", 1000ms);
  CHECK(t.ec == errc::tls_handshake_failed);
  CHECK(t.report.handshake_error.find("peer did not speak TLS") == 0);
  CHECK_FALSE(t.report.handshake_ok());
  CHECK(t.took < 500ms);
  REQUIRE(t.connect_ms);  // the TCP part worked
}

TEST_CASE("tls: a silent plain TCP peer times out the handshake within the deadline") {
  asio::io_context io;
  std::vector<std::shared_ptr<tcp::socket>> held;
  tcp_peer plain(io, loopback4(), [&held](std::shared_ptr<tcp::socket> s) { held.push_back(s); });
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), plain.port(), "sip.test", 300ms);
  CHECK(t.ec == errc::tls_handshake_timeout);
  CHECK(t.report.handshake_error.find("no TLS handshake before the deadline") == 0);
  CHECK(t.took >= 300ms);
  CHECK(t.took < 1000ms);
}

TEST_CASE("tls: a plain TCP peer that closes at once") {
  asio::io_context io;
  tcp_peer plain(io, loopback4(), [](std::shared_ptr<tcp::socket> s) { s->close(); });
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), plain.port(), "sip.test", 1000ms);
  CHECK(t.ec == errc::tls_handshake_failed);
  CHECK_FALSE(t.report.handshake_error.empty());
  CHECK(t.took < 500ms);
}

TEST_CASE("tls: no protocol version in common") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().good, [](SSL_CTX* c) {
    SSL_CTX_set_security_level(c, 0);
    SSL_CTX_set_min_proto_version(c, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(c, TLS1_1_VERSION);
  });
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "sip.test", 1000ms);
  CHECK(t.ec == errc::tls_handshake_failed);
  CAPTURE(t.report.handshake_error);
  CHECK(t.report.handshake_error.find("protocol") != std::string::npos);
  CHECK(peer.handshakes() == 0);
}

TEST_CASE("tls: empty host name is neither sent nor checked") {
  asio::io_context io;
  tls_peer peer(io, loopback4(), pki::get().other);
  auto ctx = trusting_test_ca();
  auto t = connect_tls(io, ctx, loopback4(), peer.port(), "", 2000ms, &peer);
  CHECK(peer.handshakes() == 1);
  CHECK_FALSE(t.ec);
  CHECK_FALSE(t.report.name_checked);
  CHECK(t.report.sni.empty());
  CHECK(peer.last_sni().empty());
  CHECK(t.report.verdict == tls_verdict::ok);
}
