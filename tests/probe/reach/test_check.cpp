// The OPTIONS checks (probe/reach/check.hpp): the certificate-expiry finding, a pure
// function of a TLS report, and async_reach against the in-process fake registrar.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/reach/check.hpp"
#include "support/fake_registrar.hpp"
#include "netcheck/transport_fakes.hpp"
#include "support/fixed_random.hpp"

TEST_CASE("tls finding: a certificate that has expired says so, not 'in -2 days'") {
  netcheck::tls_report t;
  t.has_certificate = true;
  t.subject_cn = "sip.test";
  t.not_after = "2026-12-05T00:00:00Z";
  t.days_left = -2;
  auto f = probe::reach::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("in -") == std::string::npos);
  // days_left is floored: -2 may be 1 day and 2 minutes ago, so no count is claimed.
  CHECK(f->detail.find("expired 2026-12-05T00:00:00Z") != std::string::npos);
  CHECK(f->detail.find("ago") == std::string::npos);
  t.days_left = 0;
  f = probe::reach::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("expires 2026-12-05T00:00:00Z, within a day") != std::string::npos);
  t.days_left = 12;
  f = probe::reach::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("expires 2026-12-05T00:00:00Z, in 12 days") != std::string::npos);
  t.days_left = 30;
  CHECK_FALSE(probe::reach::certificate_expiry_finding("127.0.0.1:5061", t));
}

// ---- OPTIONS checks against the in-process fake registrar --------------------------------

namespace {

using namespace std::chrono_literals;
using netcheck::probe_verdict;
using netcheck::transport;
using test_support::answer;
using test_support::fake_registrar;
using test_support::sip_request;

netcheck::target target_at(transport t, std::uint16_t port) {
  netcheck::target x;
  x.t = t;
  x.host = "127.0.0.1";
  x.address = "127.0.0.1";
  x.port = port;
  x.found_by = netcheck::found_by::literal;
  return x;
}

// async_reach on the test's io_context, T1 = 20 ms, and the checks it hands back.
struct reach_bench {
  boost::asio::io_context io;
  sip::id_factory ids{test_support::fixed_random()};
  probe::reach::check_settings settings;
  netcheck::tls_context* tls = nullptr;

  reach_bench() {
    settings.timeout = 200ms;
    settings.timers.t1 = 20ms;
    settings.timers.t2 = 80ms;
  }

  std::vector<probe::reach::target_check> run(std::vector<netcheck::target> targets) {
    std::optional<std::vector<probe::reach::target_check>> out;
    probe::reach::async_reach(io, ids, tls, std::move(targets), settings,
                              [&out](std::vector<probe::reach::target_check> c) { out = std::move(c); });
    test_net::run_until(
        io, [&] { return out.has_value(); }, 3000ms);
    REQUIRE_MESSAGE(out, "async_reach ended without its checks");
    return std::move(*out);
  }
};

std::string diagnosis_of(const std::vector<probe::reach::target_check>& checks) {
  const auto d = probe::reach::diagnosis_from(checks);
  return d ? std::string(probe::describe(d->code).code) : "none";
}

}  // namespace

TEST_CASE("reach: OPTIONS over UDP and TCP, each answered") {
  reach_bench b;
  fake_registrar fake(b.io);
  const auto checks = b.run({target_at(transport::udp, fake.port()), target_at(transport::tcp, fake.port())});
  REQUIRE(checks.size() == 2);
  for (const auto& c : checks) {
    CAPTURE(netcheck::to_string(c.target.t));
    CHECK(c.verdict == probe_verdict::ok);
    CHECK(c.status == 200);
    CHECK(c.detail == "200 OK");
    CHECK(c.server == "fake registrar");
    CHECK(c.allow == std::vector<std::string>{"REGISTER", "OPTIONS"});
    CHECK(c.rtt_ms >= 0);
    CHECK(c.local.rfind("127.0.0.1:", 0) == 0);
  }
  CHECK(diagnosis_of(checks) == "none");
  // What was sent: an OPTIONS to the server itself (RFC 3261 §11.1), one per transport.
  REQUIRE(fake.firsts().size() == 2);
  for (const auto* r : fake.firsts()) {
    CHECK(r->method() == "OPTIONS");
    CHECK(std::string(r->view().request_uri) == "sip:127.0.0.1:" + std::to_string(fake.port()));
    CHECK(r->header("Accept") == "application/sdp");
    CHECK(r->cseq() == 1);
  }
  CHECK(fake.rejected().empty());
}

TEST_CASE("reach: silence is no_answer, with the retransmissions that went unanswered") {
  reach_bench b;
  fake_registrar fake(b.io);
  fake.on_request([](const sip_request&) { return answer::silence(); });
  const auto checks = b.run({target_at(transport::udp, fake.port())});
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].verdict == probe_verdict::no_answer);
  CHECK(checks[0].retransmissions >= 2);
  CHECK(fake.requests().size() == static_cast<std::size_t>(1 + checks[0].retransmissions));
  CHECK(checks[0].detail ==
        "no answer within the time limit (" + std::to_string(checks[0].retransmissions) + " retransmissions)");
  CHECK(diagnosis_of(checks) == "no_response");
}

TEST_CASE("reach: nothing listening is refused, over UDP (ICMP) and TCP (reset)") {
  reach_bench b;
  const auto udp_port = test_net::closed_udp_port(b.io, test_net::loopback4());
  const auto tcp_port = test_net::closed_tcp_port(b.io, test_net::loopback4());
  const auto checks = b.run({target_at(transport::udp, udp_port), target_at(transport::tcp, tcp_port)});
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].verdict == probe_verdict::refused);
  CHECK(checks[0].detail == "ICMP port unreachable");
  CHECK(checks[1].verdict == probe_verdict::refused);
  CHECK(checks[1].detail == "connection refused (TCP reset)");
  CHECK(diagnosis_of(checks) == "port_unreachable");
}

TEST_CASE("reach: a reply that is not SIP is bad_reply, over UDP and TCP") {
  reach_bench b;
  fake_registrar fake(b.io);
  fake.on_request([](const sip_request&) { return answer("HTTP/1.1 400 Bad Request\r\n\r\n"); });
  const auto checks = b.run({target_at(transport::udp, fake.port()), target_at(transport::tcp, fake.port())});
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].verdict == probe_verdict::bad_reply);
  CHECK(checks[0].detail.rfind("reply is not valid SIP", 0) == 0);
  CHECK(checks[1].verdict == probe_verdict::bad_reply);
  CHECK(diagnosis_of(checks) == "malformed_response");
}

TEST_CASE("reach: a TCP peer that hangs up without a word is no_answer, and says so") {
  reach_bench b;
  fake_registrar fake(b.io);
  fake.on_request([](const sip_request&) { return answer::silence().then_close(); });
  const auto checks = b.run({target_at(transport::tcp, fake.port())});
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].verdict == probe_verdict::no_answer);
  CHECK(checks[0].detail.find("closed it without sending anything") != std::string::npos);
}

TEST_CASE("reach: UDP silent while TCP answers is wrong_transport") {
  reach_bench b;
  fake_registrar fake(b.io);
  fake.on_request([&fake](const sip_request& r) { return r.over == transport::udp ? answer::silence() : fake.registrar(r); });
  const auto checks = b.run({target_at(transport::udp, fake.port()), target_at(transport::tcp, fake.port())});
  CHECK(diagnosis_of(checks) == "wrong_transport");
  const auto d = probe::reach::diagnosis_from(checks);
  REQUIRE(d);
  REQUIRE(d->evidence.size() == 2);
  CHECK(d->evidence[1] == "tcp 127.0.0.1:" + std::to_string(fake.port()) + " answers: 200 OK");
}

TEST_CASE("reach: over TLS the certificate is checked against the name asked for") {
  const test_support::fake_pki pki;
  auto tls = netcheck::make_tls_context({pki.ca_file, false});

  reach_bench b;
  b.tls = &tls;
  fake_registrar fake(b.io, &pki.leaf);
  SUBCASE("the name the certificate holds") {
    b.settings.server_name = "sip.test";
    const auto checks = b.run({target_at(transport::tls, fake.tls_port())});
    REQUIRE(checks.size() == 1);
    CHECK(checks[0].verdict == probe_verdict::ok);
    REQUIRE(checks[0].tls);
    CHECK(checks[0].tls->checked_name == "sip.test");
    CHECK(checks[0].handshake_ms >= 0);
    CHECK(fake.firsts().size() == 1);
  }
  SUBCASE("another name: tls_error, and no OPTIONS sent") {
    b.settings.server_name = "other.test";
    const auto checks = b.run({target_at(transport::tls, fake.tls_port())});
    REQUIRE(checks.size() == 1);
    CHECK(checks[0].verdict == probe_verdict::tls_error);
    CHECK(checks[0].detail.find("name_mismatch") != std::string::npos);
    CHECK(fake.requests().empty());
    CHECK(diagnosis_of(checks) == "tls_failure");
  }
}
