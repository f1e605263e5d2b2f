// A whole registration run (probe/registration/run.hpp) against the in-process fake
// registrar: what the client sends at each step, and what the report concludes.
#include <ostream>
#include <doctest/doctest.h>

#include "support/fake_registrar.hpp"
#include "support/registration_rig.hpp"

#include "netcheck/fake_dns.hpp"

#include <boost/asio/steady_timer.hpp>

#include <string>
#include <vector>

using namespace test_support;
using netcheck::transport;
using probe::diagnosis_code;
using probe::finding_code;

namespace {

std::string code_of(const probe::report& r) { return std::string(probe::describe(r.primary.code).code); }

std::string evidence_of(const probe::report& r) {
  std::string all;
  for (const auto& e : r.primary.evidence) all += e + "\n";
  return all;
}

// The first reason a digest did not verify, for the failure message.
std::string why(const sip::digest_verify_result& v) { return v.details.empty() ? std::string() : v.details.front(); }

bool has_finding(const probe::report& r, finding_code c) {
  for (const auto& f : r.findings)
    if (f.code == c) return true;
  return false;
}

// The REGISTERs the fake got, retransmissions left out.
std::vector<const sip_request*> registers(const fake_registrar& fake) {
  std::vector<const sip_request*> out;
  for (const auto* r : fake.firsts())
    if (r->method() == "REGISTER") out.push_back(r);
  return out;
}

std::vector<std::uint32_t> expires_sent(const fake_registrar& fake) {
  std::vector<std::uint32_t> out;
  for (const auto* r : registers(fake)) out.push_back(r->expires().value_or(99999));
  return out;
}

}  // namespace

TEST_CASE("registration run: challenge, digest, 200 OK, then our binding removed") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  const auto acct = account_of();
  const auto settings = quick_settings();
  const auto rep = rig.run(acct, settings, route_to(fake));

  CHECK(code_of(rep) == "registered");
  CHECK(fake.rejected().empty());
  const auto sent = registers(fake);
  REQUIRE(sent.size() == 3);
  // RFC 3261 §10.2: one Call-ID and From tag for the whole registration, CSeq counting up,
  // a new branch per transaction.
  for (std::size_t i = 0; i < sent.size(); ++i) {
    CAPTURE(i);
    CHECK(sent[i]->cseq() == i + 1);
    CHECK(sent[i]->call_id() == sent[0]->call_id());
    CHECK(sent[i]->from_tag() == sent[0]->from_tag());
    CHECK(std::string(sent[i]->view().request_uri) == "sip:sip.test");
    REQUIRE(sent[i]->contacts().size() == 1);
    CHECK(sent[i]->contacts()[0] == sent[0]->contacts()[0]);
  }
  CHECK(sent[1]->branch() != sent[0]->branch());
  CHECK(sent[2]->branch() != sent[1]->branch());
  CHECK_FALSE(sent[0]->has("Authorization"));
  CHECK(expires_sent(fake) == std::vector<std::uint32_t>{3600, 3600, 0});
  // The digest answers the challenge: the fake recomputes it with the password.
  const auto cr = sent[1]->credentials();
  REQUIRE(cr);
  CHECK(cr->username == "alice");
  CHECK(cr->realm == "sip.test");
  CHECK(cr->uri == "sip:sip.test");
  CHECK(cr->qop == sip::digest_qop::auth);
  CHECK(cr->nc == 1);
  const auto v = fake.verify(*sent[1]);
  CHECK_MESSAGE(v.ok(), why(v));
  // The clean-up carries credentials for the same nonce, counted on (RFC 7616 §3.4).
  const auto again = sent[2]->credentials();
  REQUIRE(again);
  CHECK(again->nonce == cr->nonce);
  CHECK(again->nc == 2);
  CHECK(fake.binding_count() == 0);
  REQUIRE(rep.registration);
  CHECK(rep.registration->expires == 3600);
  CHECK(rep.registration->removed);
  REQUIRE(rep.transactions.size() == 3);
  CHECK(rep.transactions[1].status == 200);
  CHECK(rep.transactions[1].note.find("Digest MD5 for realm \"sip.test\"") != std::string::npos);
  CHECK(rep.transactions[2].note.find("remove our binding") != std::string::npos);
  // The steps, for the exporter's sipprobe_phase_duration_seconds: the removal is not one,
  // and a UDP socket has no connect to time.
  std::vector<std::string> names;
  for (const auto& p : rep.phases) names.push_back(p.name);
  REQUIRE(names == std::vector<std::string>{"dns", "challenge", "register"});
  CHECK(rep.phases[0].seconds >= 0);
  CHECK(rep.phases[1].seconds * 1000 == doctest::Approx(rep.transactions[0].rtt_ms));
  CHECK(rep.phases[2].seconds * 1000 == doctest::Approx(rep.transactions[1].rtt_ms));
}

TEST_CASE("registration run: the same flow over TCP and over TLS") {
  const fake_pki pki;
  for (const auto t : {transport::tcp, transport::tls}) {
    CAPTURE(netcheck::to_string(t));
    registration_rig rig;
    fake_registrar fake(rig.io, &pki.leaf);
    fake.add_account("alice", "secret");
    auto route = route_to(fake, t);
    route.ca_file = pki.ca_file;
    const auto rep = rig.run(account_of(), quick_settings(), route);
    CHECK(code_of(rep) == "registered");
    CHECK(fake.connections() == 1);  // RFC 3261 §18.1.1: one connection for every request
    const auto sent = registers(fake);
    REQUIRE(sent.size() == 3);
    for (const auto* r : sent) CHECK(r->over == t);
    // Contact names the transport it was registered over (RFC 3261 §19.1.1 transport=).
    CHECK(sent[0]->contacts()[0].find(";transport=" + std::string(netcheck::to_string(t))) != std::string::npos);
    CHECK(fake.binding_count() == 0);
    if (t == transport::tls) {
      REQUIRE(rep.tls);
      CHECK(rep.tls->verdict == "ok");
      CHECK(rep.tls->checked_name == "127.0.0.1");
      CHECK_FALSE(rep.tls->not_after.empty());  // for sipprobe_tls_cert_not_after_timestamp_seconds
    }
    std::vector<std::string> names;
    for (const auto& p : rep.phases) names.push_back(p.name);
    if (t == transport::tls) CHECK(names == std::vector<std::string>{"dns", "connect", "tls", "challenge", "register"});
    else CHECK(names == std::vector<std::string>{"dns", "connect", "challenge", "register"});
  }
}

TEST_CASE("registration run: a stale nonce is answered once more with the fresh nonce") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  bool stale_sent = false;
  fake.on_request([&](const sip_request& r) -> answer {
    // RFC 7616 §3.3: the first credentials are right, but their nonce is declared stale.
    if (r.credentials() && !stale_sent && fake.verify(r).ok()) {
      stale_sent = true;
      challenge_spec stale;
      stale.stale = true;
      return fake.challenge(r, {stale});
    }
    return fake.registrar(r);
  });
  const auto rep = rig.run(account_of(), quick_settings(), route_to(fake));
  CHECK(code_of(rep) == "registered");
  CHECK(has_finding(rep, finding_code::stale_nonce));
  const auto sent = registers(fake);
  REQUIRE(sent.size() == 4);  // challenge, stale, fresh nonce, clean-up
  const auto first = sent[1]->credentials();
  const auto fresh = sent[2]->credentials();
  REQUIRE(first);
  REQUIRE(fresh);
  CHECK(fresh->nonce != first->nonce);
  CHECK(fresh->nc == 1);  // a new nonce counts from 1 again
  CHECK(fake.verify(*sent[2]).ok());
  CHECK(fake.binding_count() == 0);
}

TEST_CASE("registration run: 423 Interval Too Brief is retried once with Min-Expires") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  fake.min_expires = 600;
  auto settings = quick_settings();
  settings.expires = 60;
  const auto rep = rig.run(account_of(), settings, route_to(fake));
  CHECK(code_of(rep) == "registered");
  CHECK(expires_sent(fake) == std::vector<std::uint32_t>{60, 60, 600, 0});
  CHECK(has_finding(rep, finding_code::expires_raised));
  REQUIRE(rep.registration);
  CHECK(rep.registration->requested_expires == 60);
  CHECK(rep.registration->expires == 600);
  CHECK(fake.binding_count() == 0);
}

TEST_CASE("registration run: a 401 to the credentials is the 401 loop, not tried again") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  const auto rep = rig.run(account_of("sip:alice@sip.test", "wrong"), quick_settings(), route_to(fake));
  CHECK(code_of(rep) == "auth_failed");
  CHECK(registers(fake).size() == 2);
  CHECK(evidence_of(rep).find("401 Unauthorized again after Authorization was sent (realm \"sip.test\")") != std::string::npos);
  CHECK(fake.binding_count() == 0);
}

TEST_CASE("registration run: a 407 is answered with Proxy-Authorization") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  challenge_spec proxy;
  proxy.proxy = true;
  proxy.realm = "proxy.test";
  fake.challenges = {proxy};

  SUBCASE("the right password passes, the clean-up too") {
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake));
    CHECK(code_of(rep) == "registered");
    const auto sent = registers(fake);
    REQUIRE(sent.size() == 3);
    CHECK_FALSE(sent[1]->has("Authorization"));
    REQUIRE(sent[1]->credentials(true));
    CHECK(sent[1]->credentials(true)->realm == "proxy.test");
    CHECK(fake.verify(*sent[1], true).ok());
    CHECK(fake.verify(*sent[2], true).ok());
    CHECK(fake.binding_count() == 0);
  }
  SUBCASE("a wrong one is proxy_auth_failed") {
    const auto rep = rig.run(account_of("sip:alice@sip.test", "wrong"), quick_settings(), route_to(fake));
    CHECK(code_of(rep) == "proxy_auth_failed");
    CHECK(registers(fake).size() == 2);
  }
}

TEST_CASE("registration run: every Digest variant the registrar may offer is answered right") {
  struct row {
    const char* name;
    std::vector<challenge_spec> offered;
    sip::digest_algorithm algorithm;
    sip::digest_qop qop;
  };
  auto spec = [](std::string algorithm, std::string qop) {
    challenge_spec s;
    s.algorithm = std::move(algorithm);
    s.qop = std::move(qop);
    return s;
  };
  challenge_spec with_opaque = spec("MD5", "auth");
  with_opaque.opaque = "opaque-value";
  const row rows[] = {
      {"MD5, qop auth", {spec("MD5", "auth")}, sip::digest_algorithm::md5, sip::digest_qop::auth},
      {"no algorithm, no qop (RFC 2069)", {spec("", "")}, sip::digest_algorithm::md5, sip::digest_qop::none},
      {"SHA-256", {spec("SHA-256", "auth")}, sip::digest_algorithm::sha256, sip::digest_qop::auth},
      {"SHA-512-256", {spec("SHA-512-256", "auth")}, sip::digest_algorithm::sha512_256, sip::digest_qop::auth},
      {"MD5-sess", {spec("MD5-sess", "auth")}, sip::digest_algorithm::md5_sess, sip::digest_qop::auth},
      {"qop auth and auth-int: auth", {spec("MD5", "auth,auth-int")}, sip::digest_algorithm::md5, sip::digest_qop::auth},
      {"qop auth-int only", {spec("MD5", "auth-int")}, sip::digest_algorithm::md5, sip::digest_qop::auth_int},
      {"SHA-256 and MD5: SHA-256 (RFC 8760)",
       {spec("MD5", "auth"), spec("SHA-256", "auth")},
       sip::digest_algorithm::sha256,
       sip::digest_qop::auth},
      {"opaque echoed", {with_opaque}, sip::digest_algorithm::md5, sip::digest_qop::auth},
  };
  for (const auto& x : rows) {
    CAPTURE(x.name);
    registration_rig rig;
    fake_registrar fake(rig.io);
    fake.add_account("alice", "secret");
    fake.challenges = x.offered;
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake));
    CHECK(code_of(rep) == "registered");
    const auto sent = registers(fake);
    REQUIRE(sent.size() == 3);
    const auto cr = sent[1]->credentials();
    REQUIRE(cr);
    CHECK(cr->algorithm == x.algorithm);
    CHECK(cr->qop == x.qop);
    const auto v = fake.verify(*sent[1]);
    CHECK_MESSAGE(v.ok(), why(v));
    CHECK(fake.binding_count() == 0);
  }
}

TEST_CASE("registration run: a query lists the bindings and changes nothing") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  fake.bindings()["alice@sip.test"] = {{"sip:alice@192.0.2.10:5060", 1800}};
  auto settings = quick_settings();
  settings.query = true;
  const auto rep = rig.run(account_of(), settings, route_to(fake));
  CHECK(code_of(rep) == "credentials_valid");
  const auto sent = registers(fake);
  REQUIRE(sent.size() == 2);  // no clean-up: nothing was registered
  for (const auto* r : sent) {
    CHECK(r->contacts().empty());
    CHECK_FALSE(r->expires());
  }
  REQUIRE(rep.registration);
  REQUIRE(rep.registration->bindings.size() == 1);
  CHECK(rep.registration->bindings[0].contact == "sip:alice@192.0.2.10:5060");
  CHECK(rep.registration->bindings[0].expires == 1800);
  CHECK(fake.binding_count() == 1);
}

TEST_CASE("registration run: --expires 0 removes the named binding, with no clean-up after it") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  fake.bindings()["alice@sip.test"] = {{"sip:alice@192.0.2.10:5060", 1800}, {"sip:alice@192.0.2.11:5060", 900}};
  auto settings = quick_settings();
  settings.expires = 0;
  settings.contact = "sip:alice@192.0.2.10:5060";
  const auto rep = rig.run(account_of(), settings, route_to(fake));
  CHECK(code_of(rep) == "unregistered");
  CHECK(expires_sent(fake) == std::vector<std::uint32_t>{0, 0});
  REQUIRE(fake.bindings()["alice@sip.test"].size() == 1);
  CHECK(fake.bindings()["alice@sip.test"][0].contact == "sip:alice@192.0.2.11:5060");
  CHECK(evidence_of(rep).find("the binding sip:alice@192.0.2.10:5060 is gone") != std::string::npos);
  CHECK(evidence_of(rep).find("1 other binding remains: sip:alice@192.0.2.11:5060") != std::string::npos);
}

TEST_CASE("registration run: each final refusal has its diagnosis, and is not retried") {
  struct row {
    int status;
    const char* code;
    const char* extra_header;
    const char* evidence;
  };
  const row rows[] = {
      {403, "forbidden", nullptr, "403 Forbidden"},
      {404, "not_found", nullptr, "404 Not Found"},
      {480, "temporarily_unavailable", nullptr, "480 Temporarily Unavailable"},
      {500, "server_error", nullptr, "500 Server Internal Error"},
      {503, "service_unavailable", "120", "Retry-After: 120 s"},
      {606, "unexpected_response", nullptr, "606 Whatever"},
  };
  for (const auto& x : rows) {
    CAPTURE(x.status);
    registration_rig rig;
    fake_registrar fake(rig.io);
    fake.on_request([&](const sip_request& r) -> answer {
      response out(r, x.status);
      if (x.extra_header) out.header("Retry-After", x.extra_header);
      return out;
    });
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake));
    CHECK(code_of(rep) == x.code);
    CHECK(registers(fake).size() == 1);
    CHECK(evidence_of(rep).find(x.evidence) != std::string::npos);
  }
}

TEST_CASE("registration run: silence over UDP is retransmitted on Timer E, then no_response") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.on_request([](const sip_request&) { return answer::silence(); });
  const auto rep = rig.run(account_of(), quick_settings(), route_to(fake), 400ms);
  CHECK(code_of(rep) == "no_response");
  REQUIRE(rep.transactions.size() == 1);
  const auto& copies = fake.requests();
  // Every copy is the same request: one branch, CSeq 1 (RFC 3261 §17.1.2.2).
  CHECK(copies.size() == static_cast<std::size_t>(1 + rep.transactions[0].retransmissions));
  for (const auto& c : copies) {
    CHECK(c.branch() == copies[0].branch());
    CHECK(c.cseq() == 1);
  }
  // T1 = 20 ms doubling to T2 = 80 ms: sent at 0, 20, 60, 140, 220, 300, 380 ms.
  CHECK(rep.transactions[0].retransmissions >= 4);
  CHECK(rep.transactions[0].retransmissions <= 7);
  REQUIRE(copies.size() >= 4);
  const auto gap = [&](std::size_t i) { return copies[i + 1].at - copies[i].at; };
  CHECK(gap(2) > 2 * gap(0));  // the interval doubles: 20, 40, 80 ms
  CHECK(evidence_of(rep).find(std::to_string(rep.transactions[0].retransmissions) + " retransmissions") != std::string::npos);
}

TEST_CASE("registration run: provisional responses then silence say the request arrived") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.on_request([](const sip_request& r) {
    answer a;
    for (int i = 0; i < 20; ++i) a.messages.push_back(response(r, 100).wire());
    return a;
  });
  const auto rep = rig.run(account_of(), quick_settings(), route_to(fake), 250ms);
  CHECK(code_of(rep) == "no_response");
  REQUIRE(rep.transactions.size() == 1);
  CHECK(rep.transactions[0].provisional_count == 20);
  CHECK(rep.transactions[0].provisional == std::vector<int>{100, 100});
  CHECK(evidence_of(rep).find("no final response after") != std::string::npos);
  CHECK(evidence_of(rep).find("20 provisional responses (the first 100, the last 100)") != std::string::npos);
  // RFC 3261 §17.1.2.2: after a provisional response, retransmissions go at T2 (80 ms).
  CHECK(rep.transactions[0].retransmissions <= 5);
}

TEST_CASE("registration run: a reply that is not SIP is malformed_response, kept as evidence") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.on_request([](const sip_request&) { return answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); });
  const auto rep = rig.run(account_of(), quick_settings(), route_to(fake), 150ms);
  CHECK(code_of(rep) == "malformed_response");
  CHECK(evidence_of(rep).find("reply is not valid SIP") != std::string::npos);
}

TEST_CASE("registration run over TCP: garbage on the stream, and a connection closed without a word") {
  SUBCASE("garbage") {
    registration_rig rig;
    fake_registrar fake(rig.io);
    fake.on_request([](const sip_request&) { return answer("\x16\x03\x01 not SIP at all\r\n\r\n"); });
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake, transport::tcp), 300ms);
    CHECK(code_of(rep) == "malformed_response");
  }
  SUBCASE("closed") {
    registration_rig rig;
    fake_registrar fake(rig.io);
    fake.on_request([](const sip_request&) { return answer::silence().then_close(); });
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake, transport::tcp), 300ms);
    CHECK(code_of(rep) == "no_response");
    CHECK(evidence_of(rep).find("the peer accepted the connection and closed it without sending anything") != std::string::npos);
    CHECK(registers(fake).size() == 1);
  }
}

TEST_CASE("registration run: nothing listens on the port: port_unreachable") {
  registration_rig rig;
  probe::registration::route_options route;
  route.registrar = "127.0.0.1:" + std::to_string(test_net::closed_udp_port(rig.io, test_net::loopback4()));
  route.transport = transport::udp;
  const auto rep = rig.run(account_of(), quick_settings(), route, 300ms);
  CHECK(code_of(rep) == "port_unreachable");
}

namespace {

// A zone where sip.test has two UDP servers by SRV (RFC 2782 priority 10, then 20), at
// 127.0.0.1 on the two ports given.
fake_dns::server::responder two_servers(std::uint16_t first, std::uint16_t second) {
  using namespace fake_dns;
  return [first, second](const question& q, bool) -> std::optional<bytes> {
    if (q.name == "_sip._udp.sip.test" && q.type == t_srv)
      return fake_dns::response(q, noerror,
                                {{q.name, t_srv, 60, srv_rdata(10, 0, first, "one.sip.test")},
                                 {q.name, t_srv, 60, srv_rdata(20, 0, second, "two.sip.test")}});
    if ((q.name == "one.sip.test" || q.name == "two.sip.test") && q.type == t_a)
      return fake_dns::response(q, noerror, {{q.name, t_a, 60, a_rdata("127.0.0.1")}});
    if (q.name == "one.sip.test" || q.name == "two.sip.test" || q.name == "sip.test") return fake_dns::response(q, noerror, {});
    return fake_dns::response(q, nxdomain, {});
  };
}

}  // namespace

TEST_CASE("registration run: RFC 3263 §4.3 failover to the next target on silence, refusal and 503") {
  struct row {
    const char* what;
    const char* first_result;  // in the report's first target
  };
  const row rows[] = {{"silence", "no response after"}, {"refusal", "refused"}, {"503", "503 Service Unavailable"}};
  for (const auto& x : rows) {
    CAPTURE(x.what);
    registration_rig rig;
    fake_registrar first(rig.io), second(rig.io);
    second.add_account("alice", "secret");
    if (std::string(x.what) == "silence") first.on_request([](const sip_request&) { return answer::silence(); });
    if (std::string(x.what) == "503")
      first.on_request([](const sip_request& r) { return answer(response(r, 503).header("Retry-After", "30")); });
    std::uint16_t first_port = first.port();
    if (std::string(x.what) == "refusal") first_port = test_net::closed_udp_port(rig.io, test_net::loopback4());
    fake_dns::server dns(rig.io, two_servers(first_port, second.port()));
    probe::registration::route_options route;
    route.transport = transport::udp;
    route.dns_servers = {dns.address()};
    const auto rep = rig.run(account_of(), quick_settings(), route, 400ms);

    CHECK(code_of(rep) == "registered");
    CHECK(has_finding(rep, finding_code::srv_failover));
    REQUIRE(rep.targets.size() == 2);
    CHECK(rep.targets[0].port == first_port);
    CHECK(rep.targets[0].result.find(x.first_result) != std::string::npos);
    CHECK(rep.targets[1].result == "registered");
    CHECK(registers(second).size() == 3);
    CHECK(second.binding_count() == 0);
  }
}

TEST_CASE("registration run: every target silent ends as no_response naming each") {
  registration_rig rig;
  fake_registrar first(rig.io), second(rig.io);
  for (auto* f : {&first, &second}) f->on_request([](const sip_request&) { return answer::silence(); });
  fake_dns::server dns(rig.io, two_servers(first.port(), second.port()));
  probe::registration::route_options route;
  route.transport = transport::udp;
  route.dns_servers = {dns.address()};
  const auto rep = rig.run(account_of(), quick_settings(), route, 300ms);
  CHECK(code_of(rep) == "no_response");
  CHECK(rep.primary.evidence.size() == 2);
  CHECK_FALSE(first.requests().empty());
  CHECK_FALSE(second.requests().empty());
}

TEST_CASE("registration run: a redirect is followed once, and only once") {
  registration_rig rig;
  fake_registrar redirector(rig.io), target(rig.io);
  target.add_account("alice", "secret");
  const std::string there = "sip:127.0.0.1:" + std::to_string(target.port());
  redirector.on_request([&](const sip_request& r) { return answer(response(r, 302).contact(there)); });

  SUBCASE("followed") {
    const auto rep = rig.run(account_of(), quick_settings(), route_to(redirector));
    CHECK(code_of(rep) == "registered");
    CHECK(registers(redirector).size() == 1);
    CHECK(registers(target).size() == 3);
    CHECK(evidence_of(rep).find("followed the redirect to " + there) != std::string::npos);
    REQUIRE(rep.targets.size() == 2);
    CHECK(rep.targets[0].result == "redirected to " + there);
    CHECK(target.binding_count() == 0);
  }
  SUBCASE("a second redirect is not followed") {
    const std::string back = "sip:127.0.0.1:" + std::to_string(redirector.port());
    target.on_request([&](const sip_request& r) { return answer(response(r, 302).contact(back)); });
    const auto rep = rig.run(account_of(), quick_settings(), route_to(redirector));
    CHECK(code_of(rep) == "redirected");
    CHECK(registers(redirector).size() == 1);
    CHECK(registers(target).size() == 1);
  }
}

namespace {

// Requests `interrupt` (as a signal would) `after` the run started.
void interrupt_after(boost::asio::io_context& io, probe::registration::run_interrupt& interrupt, std::chrono::milliseconds after,
                     int times = 1) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io, after);
  timer->async_wait([timer, &interrupt, times](const boost::system::error_code& ec) {
    if (ec) return;
    for (int i = 0; i < times; ++i) interrupt.request("SIGINT");
  });
}

}  // namespace

TEST_CASE("registration run: an interrupt in the middle leaves nothing registered") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  probe::registration::run_interrupt interrupt;

  SUBCASE("while the first REGISTER waits for its challenge: no second REGISTER") {
    fake.on_request([&](const sip_request& r) { return fake.registrar(r).after(100ms); });
    interrupt_after(rig.io, interrupt, 30ms);
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake), 1000ms, &interrupt);
    CHECK(code_of(rep) == "interrupted");
    CHECK(registers(fake).size() == 1);
    CHECK(evidence_of(rep).find("after the registrar answered 401 Unauthorized, before the next REGISTER") != std::string::npos);
  }
  SUBCASE("while the authenticated REGISTER is in flight: its 200 is waited for, the binding removed") {
    fake.on_request([&](const sip_request& r) {
      auto a = fake.registrar(r);
      if (r.credentials() && r.expires() != 0u) a.after(100ms);
      return a;
    });
    interrupt_after(rig.io, interrupt, 30ms);
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake), 1000ms, &interrupt);
    CHECK(interrupt.requested());
    CHECK(code_of(rep) == "registered");
    CHECK(expires_sent(fake) == std::vector<std::uint32_t>{3600, 3600, 0});
    CHECK(fake.binding_count() == 0);
    REQUIRE(rep.registration);
    CHECK(rep.registration->removed);
  }
  SUBCASE("a second interrupt quits at once and says what may remain") {
    fake.on_request([&](const sip_request& r) {
      auto a = fake.registrar(r);
      if (r.credentials()) a.after(500ms);
      return a;
    });
    interrupt_after(rig.io, interrupt, 30ms, 2);
    const auto started = std::chrono::steady_clock::now();
    const auto rep = rig.run(account_of(), quick_settings(), route_to(fake), 1000ms, &interrupt);
    CHECK(std::chrono::steady_clock::now() - started < 400ms);
    CHECK(code_of(rep) == "interrupted");
    CHECK(evidence_of(rep).find("quit at a second SIGINT without waiting for the answer to the REGISTER in flight") !=
          std::string::npos);
    CHECK(evidence_of(rep).find("may remain for up to 3600 s") != std::string::npos);
  }
}
