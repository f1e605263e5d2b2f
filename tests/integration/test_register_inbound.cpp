// `sipprobe register --inbound` against the lab Kamailio, which routes requests for its
// users to their registered contacts (tests/lab/kamailio/kamailio.cfg.in, route[TO_USER]).
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/lab_checks.hpp"
#include "support/probe_run.hpp"

#include <nlohmann/json.hpp>

#include <regex>
#include <string>
#include <vector>

using test_support::bindings;
using test_support::lab_service;
using test_support::sipprobe;

TEST_CASE("register --inbound: the OPTIONS to the AOR reaches the registered flow over UDP, TCP and TLS") {
  lab_service kam("kamailio");
  const std::string udp = "--registrar 127.0.0.1:" + kam.get("SIP_PORT");
  const std::string tls = "--registrar 127.0.0.1:" + kam.get("TLS_PORT") + " --transport tls --ca-file " + kam.get("CA_FILE");
  for (const std::string& route : std::vector<std::string>{udp, udp + " --transport tcp", tls}) {
    CAPTURE(route);
    auto p = sipprobe("register sip:alice@sip.test --inbound " + route, "alice-secret");
    CHECK(p.exit_code == 0);
    CHECK(p.report["diagnosis"]["code"] == "registered");
    REQUIRE(p.report.contains("inbound"));
    CHECK(p.report["inbound"]["result"] == "reached");
    CHECK(p.report["inbound"]["status"] == 200);
    CHECK(p.report["inbound"]["elapsed_ms"] < 2000);
    CHECK(p.report["registration"]["removed"] == true);
    CHECK(bindings(kam, "alice").empty());
    // No NAT on loopback: nothing to measure.
    CHECK_FALSE(test_support::has_finding(p.report, "nat_lifetime_unmeasured"));
  }
}

TEST_CASE("register --inbound: over TCP the request comes back on the REGISTER's connection") {
  lab_service kam("kamailio");
  for (const std::string& route : std::vector<std::string>{
           "--registrar 127.0.0.1:" + kam.get("SIP_PORT") + " --transport tcp",
           "--registrar 127.0.0.1:" + kam.get("TLS_PORT") + " --transport tls --ca-file " + kam.get("CA_FILE")}) {
    CAPTURE(route);
    auto p = sipprobe("register sip:alice@sip.test --inbound --trace " + route, "alice-secret", false);
    INFO(p.out);
    CHECK(p.exit_code == 0);
    CHECK(p.out.find("Inbound: reached (200)") != std::string::npos);
    // The relayed OPTIONS must arrive on the REGISTER's flow, the one sent from the second
    // socket on another port.
    test_support::check_inbound_on_register_connection(p.out, R"(127\.0\.0\.1)");
    CHECK(p.out.find("OPTIONS sip:alice@") != std::string::npos);
  }
}

TEST_CASE("register --inbound: a Contact nobody listens on is inbound_unreachable") {
  lab_service kam("kamailio");
  auto p = sipprobe(
      "register sip:alice@sip.test --inbound --contact sip:alice@127.0.0.1:9 --registrar 127.0.0.1:" + kam.get("SIP_PORT"),
      "alice-secret");
  CHECK(p.exit_code == 1);
  CHECK(p.report["verdict"] == "failed");
  CHECK(p.report["diagnosis"]["code"] == "inbound_unreachable");
  CHECK(p.report["inbound"]["result"] == "not_reached");
  CHECK(p.report["inbound"]["status"] == 408);  // Kamailio's fr_timer on the dead contact
  std::string evidence;
  for (const auto& e : p.report["diagnosis"]["evidence"]) evidence += e.get<std::string>() + "\n";
  CHECK(evidence.find("nothing arrived on the registered flow") != std::string::npos);
  CHECK(evidence.find("the registrar holds the Contact sip:alice@127.0.0.1:9") != std::string::npos);
  CHECK(p.report["registration"]["removed"] == true);
  CHECK(bindings(kam, "alice").empty());
}

TEST_CASE("register: without --inbound the report has no inbound object, with --query it is skipped") {
  lab_service kam("kamailio");
  const std::string route = " --registrar 127.0.0.1:" + kam.get("SIP_PORT");
  auto plain = sipprobe("register sip:alice@sip.test" + route, "alice-secret");
  CHECK(plain.exit_code == 0);
  CHECK_FALSE(plain.report.contains("inbound"));
  auto query = sipprobe("register sip:alice@sip.test --inbound --query" + route, "alice-secret");
  CHECK(query.exit_code == 0);
  CHECK(query.report["inbound"]["result"] == "skipped");
  CHECK(query.report["inbound"]["status"].is_null());
}

TEST_CASE("diagnose: the inbound check runs after a successful registration, unless --no-inbound") {
  lab_service kam("kamailio");
  const std::string route = " --registrar 127.0.0.1:" + kam.get("SIP_PORT");
  auto d = sipprobe("diagnose sip:alice@sip.test" + route, "alice-secret");
  CHECK(d.exit_code == 0);
  REQUIRE(d.report.contains("inbound"));
  CHECK(d.report["inbound"]["result"] == "reached");
  auto off = sipprobe("diagnose sip:alice@sip.test --no-inbound" + route, "alice-secret");
  CHECK(off.exit_code == 0);
  CHECK_FALSE(off.report.contains("inbound"));
  auto dead = sipprobe("diagnose sip:alice@sip.test --contact sip:alice@127.0.0.1:9" + route, "alice-secret");
  CHECK(dead.exit_code == 1);
  CHECK(dead.report["diagnosis"]["code"] == "inbound_unreachable");
}
