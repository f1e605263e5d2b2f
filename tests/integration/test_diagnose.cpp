// `sipprobe diagnose` and `sipprobe reach` against the lab registrar: the network-level
// reasoning of the catalog, through the real binary with --json.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"
#include "support/sockets.hpp"

#include <nlohmann/json.hpp>

#include <string>

using test_support::lab_service;

namespace {

struct json_run {
  int exit_code = -1;
  nlohmann::json j;
};

json_run run_json(const std::string& args, const std::string& password = "") {
  auto p = test_support::sipprobe(args, password);
  return {p.exit_code, p.report};
}

const nlohmann::json* check_for(const nlohmann::json& j, const std::string& transport) {
  for (const auto& c : j["checks"])
    if (c["transport"] == transport) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("diagnose: UDP swallowed but TCP answers is wrong_transport, within the time limit") {
  lab_service kam("kamailio");
  test_support::udp_black_hole hole(std::stoi(kam.get("TCP_ONLY_PORT")));
  auto r = run_json("diagnose sip:alice@sip.test --transport udp --timeout 3 --registrar 127.0.0.1:" + kam.get("TCP_ONLY_PORT"),
                    "alice-secret");
  CHECK(r.exit_code == 1);
  CHECK(r.j["diagnosis"]["code"] == "wrong_transport");
  auto* udp = check_for(r.j, "udp");
  auto* tcp = check_for(r.j, "tcp");
  REQUIRE(udp != nullptr);
  REQUIRE(tcp != nullptr);
  CHECK((*udp)["verdict"] == "no_answer");
  CHECK((*tcp)["verdict"] == "ok");
  CHECK(r.j["elapsed_ms"] < 4500);  // transports in parallel: one timeout, not one per transport
}

TEST_CASE("diagnose: a dead port on every transport is port_unreachable") {
  const int port = test_support::closed_port();
  auto r = run_json("diagnose sip:alice@sip.test --timeout 3 --registrar 127.0.0.1:" + std::to_string(port), "x");
  CHECK(r.exit_code == 1);
  CHECK(r.j["diagnosis"]["code"] == "port_unreachable");
  CHECK(r.j["elapsed_ms"] < 2000);
}

TEST_CASE("diagnose: a working account is registered, with every transport checked") {
  lab_service kam("kamailio");
  auto r = run_json("diagnose sip:alice@sip.test --registrar 127.0.0.1:" + kam.get("SIP_PORT"), "alice-secret");
  CHECK(r.exit_code == 0);
  CHECK(r.j["diagnosis"]["code"] == "registered");
  REQUIRE(check_for(r.j, "udp") != nullptr);
  CHECK((*check_for(r.j, "udp"))["verdict"] == "ok");
  CHECK((*check_for(r.j, "tcp"))["verdict"] == "ok");
  CHECK(r.j["registration"]["removed"] == true);
}

TEST_CASE("reach: verdicts per transport, TLS details, and failures") {
  lab_service kam("kamailio");
  SUBCASE("UDP and TCP on the SIP port answer, with the server's view of us") {
    auto r = run_json("reach 127.0.0.1:" + kam.get("SIP_PORT"));
    CHECK(r.exit_code == 0);
    CHECK(r.j["schema"] == "sipprobe.reach/1");
    CHECK(r.j["diagnosis"].is_null());
    auto* udp = check_for(r.j, "udp");
    REQUIRE(udp != nullptr);
    CHECK((*udp)["verdict"] == "ok");
    CHECK((*udp)["status"] == 200);
    CHECK((*udp)["server"] == "sipprobe-lab-kamailio");
    CHECK((*udp)["received"] == "127.0.0.1");
    CHECK((*udp)["rport"].is_number());
    REQUIRE(check_for(r.j, "tcp") != nullptr);
    CHECK((*check_for(r.j, "tcp"))["connect_ms"].is_number());
  }
  SUBCASE("TLS with the lab CA: certificate reported") {
    auto r = run_json("reach 127.0.0.1:" + kam.get("TLS_PORT") + " --transport tls --ca-file " + kam.get("CA_FILE"));
    CHECK(r.exit_code == 0);
    auto* tls = check_for(r.j, "tls");
    REQUIRE(tls != nullptr);
    CHECK((*tls)["verdict"] == "ok");
    const auto& t = (*tls)["tls"];
    CHECK(t["verdict"] == "ok");
    CHECK(t["subject_cn"] == "sip.test");
    CHECK(t["san_ip"][0] == "127.0.0.1");
    CHECK(t["days_left"] > 300);
    CHECK(t["protocol"].get<std::string>().rfind("TLSv1.", 0) == 0);
  }
  SUBCASE("TLS without the CA: tls_error, untrusted") {
    auto r = run_json("reach 127.0.0.1:" + kam.get("TLS_PORT") + " --transport tls");
    CHECK(r.exit_code == 1);
    CHECK(r.j["diagnosis"]["code"] == "tls_failure");
    CHECK((*check_for(r.j, "tls"))["verdict"] == "tls_error");
    CHECK((*check_for(r.j, "tls"))["tls"]["verdict"] == "untrusted");
  }
  SUBCASE("TLS name mismatch") {
    auto r = run_json("reach 127.0.0.1:" + kam.get("TLS_BADNAME_PORT") + " --transport tls --ca-file " + kam.get("CA_FILE"));
    CHECK(r.exit_code == 1);
    CHECK((*check_for(r.j, "tls"))["tls"]["verdict"] == "name_mismatch");
  }
  SUBCASE("closed ports are refused, quickly") {
    auto r = run_json("reach 127.0.0.1:" + std::to_string(test_support::closed_port()) + " --timeout 3");
    CHECK(r.exit_code == 1);
    CHECK(r.j["diagnosis"]["code"] == "port_unreachable");
    CHECK((*check_for(r.j, "tcp"))["verdict"] == "refused");
    CHECK(r.j["elapsed_ms"] < 2000);
  }
  SUBCASE("a UDP port that swallows packets: no_answer after retransmissions, TCP answers") {
    test_support::udp_black_hole hole(std::stoi(kam.get("TCP_ONLY_PORT")));
    auto r = run_json("reach 127.0.0.1:" + kam.get("TCP_ONLY_PORT") + " --timeout 2");
    CHECK(r.exit_code == 1);
    CHECK(r.j["diagnosis"]["code"] == "wrong_transport");
    CHECK((*check_for(r.j, "udp"))["verdict"] == "no_answer");
    CHECK((*check_for(r.j, "udp"))["retransmissions"] >= 2);
    CHECK((*check_for(r.j, "tcp"))["verdict"] == "ok");
  }
}
