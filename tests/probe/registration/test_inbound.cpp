// register --inbound (probe/registration/inbound.hpp) against the fake registrar routing
// requests to its bindings: reached, not_reached, rejected, skipped, and the keep-alives
// and requests the registered flow answers.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/registration/inbound.hpp"
#include "support/fake_registrar.hpp"
#include "support/registration_rig.hpp"

#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

using namespace test_support;
using netcheck::transport;

namespace {

probe::registration::register_settings inbound_settings() {
  auto s = quick_settings();
  s.inbound = true;
  return s;
}

std::string code_of(const probe::report& r) { return std::string(probe::describe(r.primary.code).code); }

std::string evidence_of(const probe::report& r) {
  std::string all;
  for (const auto& e : r.primary.evidence) all += e + "\n";
  return all;
}

// A run with `s` against a fake that knows alice/secret, routes to bindings when `relay`
// (before any script) and answers the requests `script` takes (nullopt: the built-in
// registrar).
probe::report run_scripted(const probe::registration::register_settings& s, bool relay,
                           const std::function<std::optional<answer>(fake_registrar&, const sip_request&)>& script) {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  fake.relay = relay;
  fake.on_request([&fake, &script](const sip_request& q) -> answer {
    if (auto a = script(fake, q)) return *a;
    return fake.registrar(q);
  });
  return rig.run(account_of(), s, route_to(fake));
}

}  // namespace

TEST_CASE("inbound: the verdict from the final status and whether the flow saw the request") {
  using probe::registration::classify_inbound;
  const std::vector<std::tuple<int, bool, std::string>> table{
      {200, true, "reached"},   {202, true, "reached"},     {200, false, "not_reached"}, {0, false, "not_reached"},
      {0, true, "not_reached"}, {408, true, "not_reached"}, {408, false, "not_reached"}, {404, false, "rejected"},
      {480, false, "rejected"}, {403, false, "rejected"},   {500, false, "rejected"},
  };
  for (const auto& [status, arrived, want] : table) {
    CAPTURE(status);
    CAPTURE(arrived);
    CHECK(classify_inbound(status, arrived) == want);
  }
}

TEST_CASE("inbound: the OPTIONS to the AOR reaches the registered flow, over UDP, TCP and TLS") {
  const fake_pki pki;
  for (const auto t : {transport::udp, transport::tcp, transport::tls}) {
    CAPTURE(netcheck::to_string(t));
    registration_rig rig;
    fake_registrar fake(rig.io, &pki.leaf);
    fake.add_account("alice", "secret");
    fake.relay = true;
    auto route = route_to(fake, t);
    route.ca_file = pki.ca_file;
    const auto r = rig.run(account_of(), inbound_settings(), route);
    CHECK(code_of(r) == "registered");
    REQUIRE(r.inbound);
    CHECK(r.inbound->result == "reached");
    CHECK(r.inbound->status == 200);
    CHECK(fake.relayed() == 1);
    // The OPTIONS came from a second socket; the registered flow's answer went back to the fake.
    std::vector<const sip_request*> options;
    for (const auto* q : fake.firsts())
      if (q->method() == "OPTIONS") options.push_back(q);
    REQUIRE(options.size() == 1);
    CHECK(options.front()->view().request_uri == "sip:alice@sip.test");
    CHECK(options.front()->source != fake.firsts().front()->source);
    if (t != transport::udp) CHECK(options.front()->connection != fake.firsts().front()->connection);
    REQUIRE(fake.relayed_responses().size() == 1);
    CHECK(fake.relayed_responses().front().rfind("SIP/2.0 200 OK\r\n", 0) == 0);
    // The binding is still removed afterwards.
    REQUIRE(r.registration);
    CHECK(r.registration->removed);
    CHECK(fake.binding_count() == 0);
  }
}

TEST_CASE("inbound: a CRLF ping on the registered TCP connection gets its pong") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  fake.relay = true;
  fake.ping_before_relay = true;
  const auto r = rig.run(account_of(), inbound_settings(), route_to(fake, transport::tcp));
  REQUIRE(r.inbound);
  CHECK(r.inbound->result == "reached");
  CHECK(fake.keepalives_received() == 1);
}

TEST_CASE("inbound: a registrar that answers for the user is not_reached, a dead contact too") {
  SUBCASE("200 from the registrar itself, never seen by the flow") {
    registration_rig rig;
    fake_registrar fake(rig.io);
    fake.add_account("alice", "secret");  // relay off: the fake answers OPTIONS itself
    const auto r = rig.run(account_of(), inbound_settings(), route_to(fake));
    REQUIRE(r.inbound);
    CHECK(r.inbound->result == "not_reached");
    CHECK(r.inbound->status == 200);
    CHECK(code_of(r) == "inbound_unreachable");
    CHECK(evidence_of(r).find("nothing arrived on the registered flow") != std::string::npos);
    CHECK(probe::exit_status_for(r.primary.code) == 1);
    CHECK(fake.binding_count() == 0);  // removed all the same
  }
  SUBCASE("a Contact nobody listens on: 408 from the registrar") {
    auto s = inbound_settings();
    s.contact = "sip:alice@127.0.0.1:9";
    // What a registrar whose relay to that Contact timed out answers (RFC 3261 §16.7);
    // the fake answers the OPTIONS itself.
    const auto r = run_scripted(s, false, [](fake_registrar&, const sip_request& q) -> std::optional<answer> {
      if (q.method() == "OPTIONS") return answer(response(q, 408));
      return std::nullopt;
    });
    REQUIRE(r.inbound);
    CHECK(r.inbound->result == "not_reached");
    CHECK(r.inbound->status == 408);
    CHECK(code_of(r) == "inbound_unreachable");
    CHECK(evidence_of(r).find("the registrar holds the Contact sip:alice@127.0.0.1:9") != std::string::npos);
  }
}

TEST_CASE("inbound: 404 and 480 from the registrar are rejected") {
  SUBCASE("480: no binding to route to") {
    // The 200 OK lists the Contact, but the fake keeps no binding for the OPTIONS's user.
    const auto r = run_scripted(
        inbound_settings(), true, [](fake_registrar& fake, const sip_request& q) -> std::optional<answer> {
          if (q.method() != "REGISTER" || !fake.verify(q).ok()) return std::nullopt;
          fake.bindings().clear();
          return answer(response(q, 200).contact(q.contacts().empty() ? "sip:x@y" : q.contacts().front(), 3600));
        });
    REQUIRE(r.inbound);
    CHECK(r.inbound->result == "rejected");
    CHECK(r.inbound->status == 480);
    CHECK(code_of(r) == "inbound_unreachable");
  }
  SUBCASE("404: the registrar does not know the user") {
    registration_rig rig;
    fake_registrar fake(rig.io);
    fake.add_account("alice", "secret");
    fake.relay = true;
    fake.challenges.clear();  // bob registers without credentials, but is no account
    const auto r = rig.run(account_of("sip:bob@sip.test"), inbound_settings(), route_to(fake));
    REQUIRE(r.inbound);
    CHECK(r.inbound->result == "rejected");
    CHECK(r.inbound->status == 404);
  }
}

TEST_CASE("inbound: skipped when nothing was registered, absent when not asked") {
  registration_rig rig;
  fake_registrar fake(rig.io);
  fake.add_account("alice", "secret");
  fake.relay = true;
  auto q = inbound_settings();
  q.query = true;
  auto r = rig.run(account_of(), q, route_to(fake));
  REQUIRE(r.inbound);
  CHECK(r.inbound->result == "skipped");
  CHECK(r.inbound->status == 0);
  CHECK(code_of(r) == "credentials_valid");

  r = rig.run(account_of("sip:alice@sip.test", "wrong"), inbound_settings(), route_to(fake));
  REQUIRE(r.inbound);
  CHECK(r.inbound->result == "skipped");
  CHECK(code_of(r) == "auth_failed");

  r = rig.run(account_of(), quick_settings(), route_to(fake));
  CHECK_FALSE(r.inbound);
  CHECK(fake.relayed() == 0);
  CHECK(code_of(r) == "registered");
}
