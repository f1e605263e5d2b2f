// `sipprobe register` against the real Kamailio registrar of tests/lab/kamailio, through
// the real binary with --json. Each test case starts its own registrar on free ports.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/lab_checks.hpp"
#include "support/sockets.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <string>
#include <vector>

using test_support::bindings;
using test_support::has_finding;
using test_support::lab_service;
using test_support::shell_quote;
using test_support::sipprobe;

namespace {

std::string registrar(const lab_service& kam, const char* key = "SIP_PORT") { return "--registrar 127.0.0.1:" + kam.get(key); }

}  // namespace

TEST_CASE("register: success over UDP, TCP and TLS, and the probe's binding is removed") {
  lab_service kam("kamailio");
  const std::string tls = "--registrar 127.0.0.1:" + kam.get("TLS_PORT") + " --transport tls --ca-file " + kam.get("CA_FILE");
  for (const std::string& route : std::vector<std::string>{registrar(kam), registrar(kam) + " --transport tcp", tls}) {
    CAPTURE(route);
    auto p = sipprobe("register sip:alice@sip.test " + route, "alice-secret");
    CHECK(p.exit_code == 0);
    CHECK(p.report["schema"] == "sipprobe.report/1");
    CHECK(p.report["verdict"] == "registered");
    CHECK(p.report["diagnosis"]["code"] == "registered");
    CHECK(p.report["registration"]["expires"] == 3600);
    CHECK(p.report["registration"]["removed"] == true);
    REQUIRE(p.report["transactions"].size() == 3);  // 401, 200, removal 200
    CHECK(p.report["transactions"][0]["status"] == 401);
    CHECK(p.report["transactions"][1]["status"] == 200);
    CHECK(p.report["transactions"][2]["status"] == 200);
    CHECK(bindings(kam, "alice").empty());
  }
}

TEST_CASE("register: --keep leaves the binding, --query lists it without touching it") {
  lab_service kam("kamailio");
  auto kept = sipprobe("register sip:bob@sip.test --keep " + registrar(kam), "bob-secret");
  CHECK(kept.exit_code == 0);
  CHECK(kept.report["registration"]["kept"] == true);
  const auto contact = kept.report["registration"]["bindings"][0]["contact"].get<std::string>();
  CHECK(bindings(kam, "bob").find(contact) != std::string::npos);

  auto query = sipprobe("register sip:bob@sip.test --query " + registrar(kam), "bob-secret");
  CHECK(query.exit_code == 0);
  // A query registers nothing: the credentials were accepted, no binding changed.
  CHECK(query.report["diagnosis"]["code"] == "credentials_valid");
  CHECK(query.report["verdict"] == "credentials_valid");
  CHECK(query.report["transactions"].size() == 2);  // 401, 200: nothing to remove afterwards
  CHECK(query.report["diagnosis"]["evidence"].dump().find("lists 1 binding") != std::string::npos);
  REQUIRE(query.report["registration"]["bindings"].size() == 1);
  CHECK(query.report["registration"]["bindings"][0]["contact"] == contact);
  CHECK(query.report["registration"]["removed"] == false);
  CHECK(bindings(kam, "bob").find(contact) != std::string::npos);

  // A query for an account without bindings adds none.
  auto empty = sipprobe("register sip:alice@sip.test --query " + registrar(kam), "alice-secret");
  CHECK(empty.exit_code == 0);
  CHECK(empty.report["diagnosis"]["code"] == "credentials_valid");
  CHECK(empty.report["diagnosis"]["evidence"].dump().find("no binding") != std::string::npos);
  auto text = sipprobe("register sip:alice@sip.test --query " + registrar(kam), "alice-secret", false);
  CHECK(text.out.find("✔ registered") == std::string::npos);
  CHECK(text.out.find("can receive calls") == std::string::npos);
  CHECK(text.out.find("✔ credentials_valid") != std::string::npos);
  CHECK(empty.report["registration"]["bindings"].empty());
  CHECK(bindings(kam, "alice").empty());
}

TEST_CASE("register: --expires 0 removes a binding and says which are gone and which remain") {
  lab_service kam("kamailio");
  auto kept = sipprobe("register sip:bob@sip.test --keep " + registrar(kam), "bob-secret");
  REQUIRE(kept.exit_code == 0);
  const auto contact = kept.report["registration"]["bindings"][0]["contact"].get<std::string>();
  REQUIRE(bindings(kam, "bob").find(contact) != std::string::npos);

  // sipprobe's own contact (another port) is removed; bob's kept binding stays.
  auto other = sipprobe("register sip:bob@sip.test --expires 0 " + registrar(kam), "bob-secret");
  CHECK(other.exit_code == 0);
  CHECK(other.report["diagnosis"]["code"] == "unregistered");
  CHECK(other.report["verdict"] == "unregistered");
  CHECK(other.report["findings"].empty());  // no sip_alg_suspected from the missing Contact
  CHECK(other.report["diagnosis"]["evidence"].dump().find("1 other binding remains: " + contact) != std::string::npos);
  CHECK(bindings(kam, "bob").find(contact) != std::string::npos);

  // The kept binding itself, named with --contact: gone, none left, and no clean-up REGISTER.
  auto gone = sipprobe("register sip:bob@sip.test --expires 0 --contact " + contact + " " + registrar(kam), "bob-secret");
  CHECK(gone.exit_code == 0);
  CHECK(gone.report["diagnosis"]["code"] == "unregistered");
  CHECK(gone.report["findings"].empty());
  REQUIRE(gone.report["transactions"].size() == 2);  // 401, 200
  CHECK(gone.report["transactions"][1]["note"].get<std::string>().find("Expires 0") != std::string::npos);
  CHECK(gone.report["diagnosis"]["evidence"].dump().find("the binding " + contact + " is gone") != std::string::npos);
  CHECK(gone.report["diagnosis"]["evidence"].dump().find("no binding remains") != std::string::npos);
  CHECK(gone.report["registration"]["requested_expires"] == 0);
  CHECK(gone.report["registration"]["removed"] == false);  // "removed afterwards" is the probe's own clean-up
  CHECK(bindings(kam, "bob").empty());

  auto text = sipprobe("register sip:bob@sip.test --expires 0 " + registrar(kam), "bob-secret", false);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("✔ unregistered") != std::string::npos);
  CHECK(text.out.find("can receive calls") == std::string::npos);
  CHECK(text.out.find("sip_alg_suspected") == std::string::npos);
}

TEST_CASE("register: registrar answers map to the catalog") {
  lab_service kam("kamailio");
  struct row {
    const char* aor;
    const char* password;
    const char* code;
    int last_status;
  };
  const row rows[] = {
      {"sip:alice@sip.test", "wrong-password", "auth_failed", 401},
      {"sip:nobody@sip.test", "whatever", "not_found", 404},
      {"sip:carol@sip.test", "carol-secret", "forbidden", 403},
      {"sip:dave@sip.test", "dave-secret", "temporarily_unavailable", 480},
      {"sip:erin@sip.test", "erin-secret", "server_error", 500},
  };
  for (const auto& r : rows) {
    CAPTURE(r.aor);
    auto p = sipprobe(std::string("register ") + r.aor + " " + registrar(kam), r.password);
    CHECK(p.exit_code == 1);
    CHECK(p.report["verdict"] == "failed");
    CHECK(p.report["diagnosis"]["code"] == r.code);
    CHECK_FALSE(p.report["diagnosis"]["fixes"].empty());
    CHECK(p.report["transactions"].back()["status"] == r.last_status);
  }
}

TEST_CASE("register: 423 is retried with Min-Expires and reported") {
  lab_service kam("kamailio", {{"MIN_EXPIRES", "300"}});
  auto p = sipprobe("register sip:alice@sip.test --expires 30 " + registrar(kam), "alice-secret");
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  CHECK(has_finding(p.report, "expires_raised"));
  CHECK(p.report["registration"]["expires"] == 300);
  CHECK(p.report["registration"]["requested_expires"] == 30);
  bool saw_423 = false;
  for (const auto& t : p.report["transactions"]) saw_423 |= t["status"] == 423;
  CHECK(saw_423);
}

TEST_CASE("register: expiry reduced by the registrar is a finding") {
  lab_service kam("kamailio", {{"MAX_EXPIRES", "600"}});
  auto p = sipprobe("register sip:alice@sip.test --expires 3600 " + registrar(kam), "alice-secret");
  CHECK(p.exit_code == 0);
  CHECK(has_finding(p.report, "expires_reduced"));
  CHECK(p.report["registration"]["expires"] == 600);
}

TEST_CASE("register: network failures") {
  lab_service kam("kamailio");
  SUBCASE("a UDP port that swallows packets: no_response, with retransmissions") {
    test_support::udp_black_hole hole(std::stoi(kam.get("TCP_ONLY_PORT")));
    auto p = sipprobe("register sip:alice@sip.test --transport udp --timeout 2 " + registrar(kam, "TCP_ONLY_PORT"),
                      "alice-secret");
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "no_response");
    CHECK(p.report["transactions"][0]["retransmissions"] >= 2);
    CHECK(p.report["elapsed_ms"] < 3500);
  }
  SUBCASE("a closed UDP port: port_unreachable") {
    auto p = sipprobe("register sip:alice@sip.test --transport udp --timeout 3 " + registrar(kam, "TCP_ONLY_PORT"),
                      "alice-secret");
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "port_unreachable");
  }
  SUBCASE("a closed TCP port: port_unreachable") {
    auto p = sipprobe("register sip:alice@sip.test --transport tcp --timeout 3 --registrar 127.0.0.1:" +
                          std::to_string(test_support::closed_port()),
                      "alice-secret");
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "port_unreachable");
    CHECK(p.report["elapsed_ms"] < 1000);
  }
}

TEST_CASE("register: TLS certificate problems are tls_failure with the reason") {
  lab_service kam("kamailio");
  auto untrusted = sipprobe("register sip:alice@sip.test --transport tls --registrar 127.0.0.1:" + kam.get("TLS_PORT"),
                            "alice-secret");
  CHECK(untrusted.exit_code == 1);
  CHECK(untrusted.report["diagnosis"]["code"] == "tls_failure");
  CHECK(untrusted.report["diagnosis"]["evidence"][0].get<std::string>().find("untrusted") != std::string::npos);

  auto mismatch = sipprobe("register sip:alice@sip.test --transport tls --ca-file " + kam.get("CA_FILE") +
                               " --registrar 127.0.0.1:" + kam.get("TLS_BADNAME_PORT"),
                           "alice-secret");
  CHECK(mismatch.exit_code == 1);
  CHECK(mismatch.report["diagnosis"]["code"] == "tls_failure");
  CHECK(mismatch.report["diagnosis"]["evidence"][0].get<std::string>().find("name_mismatch") != std::string::npos);

  auto insecure = sipprobe("register sip:alice@sip.test --transport tls --insecure --registrar 127.0.0.1:" + kam.get("TLS_PORT"),
                           "alice-secret");
  CHECK(insecure.exit_code == 0);
  CHECK(insecure.report["diagnosis"]["code"] == "registered");
}

TEST_CASE("register: the password never appears in the trace or the report") {
  lab_service kam("kamailio");
  const std::string secret = "alice-secret";
  auto p = sipprobe("register sip:alice@sip.test --trace " + registrar(kam), secret, false);
  CHECK(p.exit_code == 0);
  CHECK(p.out.find("REGISTER sip:sip.test SIP/2.0") != std::string::npos);  // the trace is there
  CHECK(p.out.find("Authorization: Digest") != std::string::npos);
  CHECK(p.out.find(secret) == std::string::npos);
  auto j = sipprobe("register sip:alice@sip.test " + registrar(kam), secret);
  CHECK(j.report.dump().find(secret) == std::string::npos);
}

TEST_CASE("register: usage errors exit 2 with one line") {
  auto none = test_support::run("env -u SIPPROBE_PASSWORD " + shell_quote(SIPPROBE_BINARY) +
                                " register sip:alice@sip.test --registrar 127.0.0.1:9 </dev/null 2>&1");
  CHECK(none.exit_code == 2);
  CHECK(none.out.find("no password") != std::string::npos);
  auto bad_aor = test_support::run(shell_quote(SIPPROBE_BINARY) + " register 'sip:@' --password-env HOME 2>&1");
  CHECK(bad_aor.exit_code == 2);
  auto bad_opt = test_support::run(shell_quote(SIPPROBE_BINARY) + " register sip:a@b --expires abc 2>&1");
  CHECK(bad_opt.exit_code == 2);
  auto bad_header = test_support::run(shell_quote(SIPPROBE_BINARY) +
                                      " register sip:a@b --password-env HOME --header 'nocolon' 2>&1");
  CHECK(bad_header.exit_code == 2);
  CHECK(bad_header.out.find("--header needs") != std::string::npos);
  // A monitoring system reads a usage error as UNKNOWN, not as a registrar failure.
  auto nagios = test_support::run(shell_quote(SIPPROBE_BINARY) + " register sip:a@b --nagios --expires abc 2>&1");
  CHECK(nagios.exit_code == 3);
  CHECK(nagios.out.rfind("SIPPROBE UNKNOWN - ", 0) == 0);
}

TEST_CASE("register: RFC 3263 through DNS, with SRV failover from a dead target") {
  lab_service kam("kamailio");
  const int dead = test_support::closed_port(SOCK_DGRAM);
  lab_service dns("dnsmasq", {{"SIP_PORT", kam.get("SIP_PORT")}, {"DEAD_PORT", std::to_string(dead)}});
  auto p = sipprobe("register sip:alice@failover.test --dns-server " + dns.get("DNS_SERVER"), "alice-secret");
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  CHECK(has_finding(p.report, "srv_failover"));
  REQUIRE(p.report["targets"].size() == 2);
  CHECK(p.report["targets"][0]["via"] == "srv");
  CHECK(p.report["targets"][0]["port"] == dead);
  CHECK(p.report["targets"][1]["port"] == std::stoi(kam.get("SIP_PORT")));
  CHECK(p.report["targets"][1]["result"] == "registered");
  CHECK(p.report["transactions"][0]["status"] == 0);  // the dead target never answered

  auto missing = sipprobe("register sip:alice@nosuch.test --dns-server " + dns.get("DNS_SERVER"), "alice-secret");
  CHECK(missing.exit_code == 1);
  CHECK(missing.report["diagnosis"]["code"] == "dns_failure");
  CHECK(missing.report["diagnosis"]["evidence"][0].get<std::string>().find("nosuch.test") != std::string::npos);
}
