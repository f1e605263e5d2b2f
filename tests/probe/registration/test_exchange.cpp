// One registration on one connected flow (probe/registration/exchange.hpp) against the fake
// registrar: what exchange_outcome tells the run (failover, redirect), and the steps between
// the first REGISTER and the clean-up.
#include <ostream>
#include <doctest/doctest.h>

#include "support/fake_registrar.hpp"
#include "support/registration_rig.hpp"

#include "netcheck/error.hpp"
#include "probe/registration/exchange.hpp"

#include <string>
#include <vector>

using namespace test_support;
using probe::finding_code;
using probe::registration::exchange_outcome;

namespace {

// A flow connected to the fake over UDP, and the registration run on it.
struct exchange_bench {
  registration_rig rig;
  fake_registrar fake{rig.io};
  probe::registration::account acct = account_of();
  probe::registration::register_settings settings = quick_settings();

  exchange_bench() { fake.add_account("alice", "secret"); }

  exchange_outcome run(std::chrono::milliseconds timeout = 150ms) {
    netcheck::flow f(rig.io, test_net::spec(netcheck::transport::udp, test_net::loopback4(), fake.port()));
    REQUIRE_FALSE(test_net::connect_sync(rig.io, f));
    std::optional<exchange_outcome> out;
    probe::registration::async_register_on_flow(f, acct, settings, rig.ids, std::chrono::steady_clock::now() + timeout,
                                                [&out](exchange_outcome o) { out = std::move(o); });
    test_net::run_until(
        rig.io, [&] { return out.has_value(); }, timeout + 2000ms);
    REQUIRE_MESSAGE(out, "the exchange ended without an outcome");
    return std::move(*out);
  }

  std::size_t registers() const {
    std::size_t n = 0;
    for (const auto* r : fake.firsts()) n += r->method() == "REGISTER";
    return n;
  }
};

std::string code_of(const exchange_outcome& o) { return std::string(probe::describe(o.primary.code).code); }

std::string evidence_of(const exchange_outcome& o) {
  std::string all;
  for (const auto& e : o.primary.evidence) all += e + "\n";
  return all;
}

bool has_finding(const exchange_outcome& o, finding_code c) {
  for (const auto& f : o.findings)
    if (f.code == c) return true;
  return false;
}

}  // namespace

TEST_CASE("registration exchange: the outcome says whether SIP answered, for the run's failover") {
  SUBCASE("registered: answered, the latest status is the clean-up's 200") {
    exchange_bench b;
    const auto o = b.run();
    CHECK(code_of(o) == "registered");
    CHECK(o.sip_answered);
    CHECK(o.final_status == 200);
    CHECK_FALSE(o.network_error);
    CHECK(o.transactions.size() == 3);
  }
  SUBCASE("silence: a network error and no SIP answer") {
    exchange_bench b;
    b.fake.on_request([](const sip_request&) { return answer::silence(); });
    const auto o = b.run();
    CHECK(code_of(o) == "no_response");
    CHECK_FALSE(o.sip_answered);
    CHECK(o.network_error == netcheck::errc::receive_timeout);
    CHECK(o.final_status == 0);
  }
  SUBCASE("503: answered, with the status the run fails over on") {
    exchange_bench b;
    b.fake.on_request([](const sip_request& r) { return answer(response(r, 503)); });
    const auto o = b.run();
    CHECK(code_of(o) == "service_unavailable");
    CHECK(o.sip_answered);
    CHECK(o.final_status == 503);
  }
  SUBCASE("302: the first Contact is where to go") {
    exchange_bench b;
    b.fake.on_request(
        [](const sip_request& r) { return answer(response(r, 302).contact("sip:one.test:5070").contact("sip:two.test")); });
    const auto o = b.run();
    CHECK(code_of(o) == "redirected");
    CHECK(o.redirect_to == "sip:one.test:5070");
    CHECK(evidence_of(o).find("redirected to sip:two.test") != std::string::npos);
  }
  SUBCASE("a reply that is not SIP: kept, and the network error of the silence after it") {
    exchange_bench b;
    b.fake.on_request([](const sip_request&) { return answer("SIP/2.0 two hundred\r\n\r\n"); });
    const auto o = b.run();
    CHECK(code_of(o) == "malformed_response");
    CHECK(o.malformed.size() == 1);
    CHECK_FALSE(o.sip_answered);
  }
}

TEST_CASE("registration exchange: a challenged clean-up is answered once with the new nonce") {
  exchange_bench b;
  bool rechallenged = false;
  b.fake.on_request([&](const sip_request& r) -> answer {
    if (r.expires() == 0u && !rechallenged) {
      rechallenged = true;
      return b.fake.challenge(r, b.fake.challenges);
    }
    return b.fake.registrar(r);
  });
  const auto o = b.run();
  CHECK(code_of(o) == "registered");
  CHECK(b.registers() == 4);
  REQUIRE(o.registration);
  CHECK(o.registration->removed);
  CHECK(b.fake.binding_count() == 0);
  CHECK(b.fake.verify(*b.fake.firsts().back()).ok());
}

TEST_CASE("registration exchange: a clean-up that gets no answer is said, the verdict stays registered") {
  exchange_bench b;
  b.fake.on_request([&](const sip_request& r) { return r.expires() == 0u ? answer::silence() : b.fake.registrar(r); });
  const auto o = b.run();
  CHECK(code_of(o) == "registered");
  CHECK(evidence_of(o).find("removing our binding got no answer") != std::string::npos);
  REQUIRE(o.registration);
  CHECK_FALSE(o.registration->removed);
  CHECK(b.fake.binding_count() == 1);
}

TEST_CASE("registration exchange: --keep leaves the binding, and says so") {
  exchange_bench b;
  b.settings.keep = true;
  const auto o = b.run();
  CHECK(code_of(o) == "registered");
  CHECK(b.registers() == 2);
  REQUIRE(o.registration);
  CHECK(o.registration->kept);
  CHECK(b.fake.binding_count() == 1);
}

TEST_CASE("registration exchange: a challenge without a password ends as auth_not_attempted") {
  exchange_bench b;
  b.acct.credentials.password.clear();
  const auto o = b.run();
  CHECK(code_of(o) == "auth_not_attempted");
  CHECK(b.registers() == 1);
}

TEST_CASE("registration exchange: the registrar's realm is not the one expected: realm_mismatch") {
  exchange_bench b;
  b.acct.expected_realm = "other.test";
  const auto o = b.run();
  CHECK(code_of(o) == "registered");
  CHECK(has_finding(o, finding_code::realm_mismatch));
}

TEST_CASE("registration exchange: what the 200 OK says about our binding") {
  SUBCASE("granted less than asked: expires_reduced") {
    exchange_bench b;
    b.fake.max_expires = 300;
    const auto o = b.run();
    CHECK(has_finding(o, finding_code::expires_reduced));
    REQUIRE(o.registration);
    CHECK(o.registration->expires == 300);
  }
  SUBCASE("our Contact missing from the list: sip_alg_suspected, and nothing to remove") {
    exchange_bench b;
    b.fake.on_request([&](const sip_request& r) -> answer {
      if (!r.credentials()) return b.fake.registrar(r);
      return answer(response(r, 200).contact("sip:alice@203.0.113.9:5060", 3600));
    });
    const auto o = b.run();
    CHECK(code_of(o) == "registered");
    CHECK(has_finding(o, finding_code::sip_alg_suspected));
    CHECK(b.registers() == 2);
  }
  SUBCASE("a Via rewritten on the way back: sip_alg_suspected naming it") {
    exchange_bench b;
    b.fake.on_request([&](const sip_request& r) -> answer {
      if (!r.credentials()) return b.fake.registrar(r);
      return answer(b.fake.bind(r).replace("Via", "SIP/2.0/UDP 10.9.9.9:5060;branch=" + r.branch()));
    });
    const auto o = b.run();
    CHECK(code_of(o) == "registered");
    CHECK(has_finding(o, finding_code::sip_alg_suspected));
    bool named = false;
    for (const auto& f : o.findings) named = named || f.detail.find("10.9.9.9:5060") != std::string::npos;
    CHECK(named);
  }
}

TEST_CASE("registration exchange: a deadline already passed sends nothing") {
  exchange_bench b;
  const auto o = b.run(-1ms);
  CHECK(code_of(o) == "no_response");
  CHECK(o.network_error == netcheck::errc::receive_timeout);
  CHECK(evidence_of(o).find("the time limit was reached before the next request could be sent") != std::string::npos);
  CHECK(b.fake.requests().empty());
}
