// `sipprobe register` against odd and hostile registrars scripted with SIPp
// (tests/lab/sipp/scenarios/*.xml), through the real binary with --json or --nagios.
// Each scenario runs in its own SIPp instance on free 127.0.0.1 ports, stopped by PID when
// the test case ends, failed or not. The scenarios check what sipprobe sends (algorithm,
// nonce, Proxy-Authorization, Expires) and answer a telling 400/403 when it is wrong, so
// a client bug shows up as a wrong diagnosis with the reason in the evidence.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/sockets.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>
#include <string>

using test_support::finding_detail;
using test_support::has_finding;
using test_support::lab_service;
using test_support::sipprobe;

namespace {

// The password the scenarios that verify the digest (SIPp verifyauth) expect for alice.
const std::string password = "alice-secret";

// A SIPp UAS playing tests/lab/sipp/scenarios/<scenario>.xml.
class sipp_registrar {
 public:
  explicit sipp_registrar(const std::string& scenario, const std::string& transport = "udp")
      : lab_("sipp", {{"SCENARIO", scenario}, {"SIPP_TRANSPORT", transport}}) {}

  // --registrar for sipprobe; `extra` goes after it (--keep, --transport …).
  std::string args(const std::string& extra = "") const {
    return "register sip:alice@sip.test --registrar 127.0.0.1:" + lab_.get("SIP_PORT") + " --timeout 3" +
           (extra.empty() ? "" : " " + extra);
  }

 private:
  lab_service lab_;
};

bool contains(const nlohmann::json& text, const std::string& part) {
  return text.is_string() && text.get<std::string>().find(part) != std::string::npos;
}

// True when one line of the diagnosis evidence contains `part`.
bool evidence_mentions(const nlohmann::json& report, const std::string& part) {
  for (const auto& e : report["diagnosis"]["evidence"])
    if (contains(e, part)) return true;
  return false;
}

}  // namespace

TEST_CASE("register/sipp: 407, Proxy-Authorization, 407 again is proxy_auth_failed") {
  sipp_registrar proxy("proxy_auth_rejected");
  auto p = sipprobe(proxy.args("--transport udp"), password);
  INFO(p.out);
  CHECK(p.exit_code == 1);
  CHECK(p.report["diagnosis"]["code"] == "proxy_auth_failed");
  CHECK(evidence_mentions(p.report, "realm \"proxy.test\""));
  REQUIRE(p.report["transactions"].size() == 2);
  CHECK(p.report["transactions"][0]["status"] == 407);
  CHECK(p.report["transactions"][1]["status"] == 407);
}

TEST_CASE("register/sipp: 407 answered with the proxy digest, then 200 is registered") {
  sipp_registrar proxy("proxy_auth_accepted");
  auto p = sipprobe(proxy.args("--transport udp --keep"), password);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  REQUIRE(p.report["transactions"].size() == 2);
  CHECK(p.report["transactions"][0]["status"] == 407);
  CHECK(p.report["transactions"][1]["status"] == 200);
  CHECK(contains(p.report["transactions"][1]["note"], "proxy Digest MD5 for realm \"proxy.test\""));
  CHECK(p.report["registration"]["kept"] == true);
}

TEST_CASE("register/sipp: 503 with Retry-After is service_unavailable, Retry-After in the evidence") {
  // No --transport: the IP literal gives UDP, TCP and TLS targets; the 503 sends sipprobe
  // on to TCP and TLS (RFC 3263 section 4.3), which are refused, and the 503 must still be
  // the diagnosis with its Retry-After.
  sipp_registrar busy("service_unavailable");
  auto p = sipprobe(busy.args(), password);
  INFO(p.out);
  CHECK(p.exit_code == 1);
  CHECK(p.report["diagnosis"]["code"] == "service_unavailable");
  CHECK(evidence_mentions(p.report, "503 Service Unavailable"));
  CHECK(evidence_mentions(p.report, "Retry-After: 120"));
  REQUIRE_FALSE(p.report["transactions"].empty());
  CHECK(p.report["transactions"][0]["status"] == 503);
}

TEST_CASE("register/sipp: a SHA-256-only challenge is answered with SHA-256") {
  sipp_registrar reg("sha256_only");
  auto p = sipprobe(reg.args("--transport udp --keep"), password);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  REQUIRE(p.report["transactions"].size() == 2);
  CHECK(p.report["transactions"][0]["status"] == 401);
  CHECK(contains(p.report["transactions"][0]["note"], "challenge: SHA-256"));
  CHECK(p.report["transactions"][1]["status"] == 200);
  CHECK(contains(p.report["transactions"][1]["note"], "Digest SHA-256 for realm \"sip.test\""));
}

TEST_CASE("register/sipp: offered MD5 first and SHA-256 second, sipprobe picks SHA-256") {
  sipp_registrar reg("md5_and_sha256");
  auto p = sipprobe(reg.args("--transport udp --keep"), password);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  REQUIRE(p.report["transactions"].size() == 2);
  CHECK(contains(p.report["transactions"][0]["note"], "SHA-256 preferred over MD5"));
  CHECK(contains(p.report["transactions"][1]["note"], "Digest SHA-256"));
}

TEST_CASE("register/sipp: a challenge with only unsupported algorithms is auth_unsupported") {
  const std::map<std::string, std::string> offered = {{"unsupported_sha1", "SHA-1"}, {"unsupported_basic", "Basic"}};
  for (const auto& [scenario, what] : offered) {
    CAPTURE(scenario);
    sipp_registrar reg(scenario);
    auto p = sipprobe(reg.args("--transport udp"), password);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "auth_unsupported");
    CHECK(evidence_mentions(p.report, what));
    CHECK(p.report["transactions"].size() == 1);  // nothing to answer with: no second REGISTER
  }
}

TEST_CASE("register/sipp: 401 stale=true is retried with the new nonce and registers") {
  sipp_registrar reg("stale_nonce");
  auto p = sipprobe(reg.args("--transport udp --keep"), password);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  CHECK(has_finding(p.report, "stale_nonce"));
  REQUIRE(p.report["transactions"].size() == 3);
  CHECK(p.report["transactions"][0]["status"] == 401);
  CHECK(p.report["transactions"][1]["status"] == 401);
  CHECK(p.report["transactions"][2]["status"] == 200);
}

TEST_CASE("register/sipp: a rewritten Via or Contact in the 200 OK is sip_alg_suspected") {
  SUBCASE("Via sent-by rewritten") {
    sipp_registrar reg("alg_via_rewritten");
    auto p = sipprobe(reg.args("--transport udp --keep"), password);
    INFO(p.out);
    CHECK(p.exit_code == 0);
    CHECK(p.report["diagnosis"]["code"] == "registered");
    CHECK(has_finding(p.report, "sip_alg_suspected"));
    CHECK(finding_detail(p.report, "sip_alg_suspected").find("192.0.2.10:5060") != std::string::npos);
  }
  SUBCASE("Contact host rewritten") {
    sipp_registrar reg("alg_contact_rewritten");
    auto p = sipprobe(reg.args("--transport udp"), password);
    INFO(p.out);
    CHECK(p.exit_code == 0);
    CHECK(p.report["diagnosis"]["code"] == "registered");
    CHECK(has_finding(p.report, "sip_alg_suspected"));
    REQUIRE(p.report["registration"]["bindings"].size() == 1);
    CHECK(p.report["registration"]["bindings"][0]["ours"] == false);
    CHECK(p.report["transactions"].size() == 1);  // nothing of ours to remove
  }
  SUBCASE("both: one finding with both signs") {
    sipp_registrar reg("alg_both_rewritten");
    auto p = sipprobe(reg.args("--transport udp"), password);
    INFO(p.out);
    CHECK(p.exit_code == 0);
    CHECK(p.report["diagnosis"]["code"] == "registered");
    int alg = 0;
    for (const auto& f : p.report["findings"]) alg += f["code"] == "sip_alg_suspected";
    CHECK(alg == 1);
    const std::string detail = finding_detail(p.report, "sip_alg_suspected");
    CHECK(detail.find("192.0.2.10:5060") != std::string::npos);
    CHECK(detail.find("does not list the Contact") != std::string::npos);
  }
}

TEST_CASE("register/sipp: a reply that is not SIP is malformed_response within --timeout") {
  SUBCASE("an HTTP status line (UDP, TCP and TLS targets)") {
    sipp_registrar reg("malformed_http");
    auto p = sipprobe(reg.args(), password);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "malformed_response");
    CHECK(evidence_mentions(p.report, "not valid SIP"));
    CHECK(p.report["elapsed_ms"] < 3500);
  }
  SUBCASE("a broken SIP version") {
    sipp_registrar reg("malformed_version");
    auto p = sipprobe(reg.args("--transport udp"), password);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "malformed_response");
    CHECK(evidence_mentions(p.report, "SIP version"));
    CHECK(p.report["registration"].is_null());
    CHECK(p.report["elapsed_ms"] < 3500);
  }
}

TEST_CASE("register/sipp: a registrar that never answers is no_response, with retransmissions") {
  SUBCASE("silence") {
    sipp_registrar reg("silence");
    const auto start = std::chrono::steady_clock::now();
    auto p = sipprobe(reg.args("--transport udp"), password);
    const auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "no_response");
    REQUIRE(p.report["transactions"].size() == 1);
    CHECK(p.report["transactions"][0]["retransmissions"] >= 2);
    CHECK(p.report["transactions"][0]["status"] == 0);
    CHECK(evidence_mentions(p.report, "no response after"));
    CHECK(p.report["elapsed_ms"] < 4000);
    CHECK(wall < 4.5);
  }
  SUBCASE("100 Trying, then silence: the evidence says the request arrived") {
    sipp_registrar reg("trying_then_silence");
    auto p = sipprobe(reg.args("--transport udp"), password);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "no_response");
    REQUIRE(p.report["transactions"].size() == 1);
    CHECK(p.report["transactions"][0]["provisional"] == nlohmann::json::array({100}));
    CHECK(evidence_mentions(p.report, "no final response after"));
    CHECK(evidence_mentions(p.report, "answered 100, then nothing"));
    CHECK(evidence_mentions(p.report, "the request reached it, so look at the registrar"));
    CHECK(p.report["elapsed_ms"] < 4000);
  }
}

TEST_CASE("register/sipp: a flood of 100 Trying is counted, the first and the last kept") {
  sipp_registrar reg("trying_flood", "tcp");  // TCP: all 200 arrive, the count is exact
  auto p = sipprobe(reg.args("--transport tcp"), password);
  INFO(p.out.substr(0, 2000));
  CHECK(p.exit_code == 1);
  CHECK(p.report["diagnosis"]["code"] == "no_response");
  REQUIRE(p.report["transactions"].size() == 1);
  const auto& t = p.report["transactions"][0];
  CHECK(t["provisional_count"] == 200);
  CHECK(t["provisional"] == nlohmann::json::array({100, 100}));  // the first and the last
  CHECK(evidence_mentions(p.report, "200 provisional responses (the first 100, the last 100)"));
  for (const auto& e : p.report["diagnosis"]["evidence"]) CHECK(e.get<std::string>().size() < 400);
  CHECK(p.out.size() < 8000);  // the JSON stays bounded

  sipp_registrar again("trying_flood", "tcp");
  auto text = sipprobe(again.args("--transport tcp"), password, false);
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') < 30);
  CHECK(text.out.find("← 100 (provisional, the first of 200)") != std::string::npos);
  CHECK(text.out.find("← 100 (provisional, the last of 200)") != std::string::npos);
}

TEST_CASE("register/sipp: 423 that cannot be satisfied is interval_too_brief") {
  SUBCASE("no Min-Expires") {
    sipp_registrar reg("interval_no_min_expires");
    auto p = sipprobe(reg.args("--transport udp"), password);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "interval_too_brief");
    CHECK(evidence_mentions(p.report, "Min-Expires"));
    CHECK(p.report["transactions"].size() == 1);
  }
  SUBCASE("423 again after retrying with Min-Expires") {
    sipp_registrar reg("interval_still_too_brief");
    auto p = sipprobe(reg.args("--transport udp"), password);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "interval_too_brief");
    REQUIRE(p.report["transactions"].size() == 2);
    CHECK(p.report["transactions"][1]["status"] == 423);
    CHECK(contains(p.report["transactions"][1]["note"], "Expires 7200"));
    CHECK(evidence_mentions(p.report, "423 again with Min-Expires 7200"));
  }
  SUBCASE("a first 423 whose Min-Expires is not above what was asked: no retry") {
    sipp_registrar reg("interval_still_too_brief");
    auto p = sipprobe(reg.args("--transport udp --expires 7200"), password);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "interval_too_brief");
    CHECK(p.report["transactions"].size() == 1);
    CHECK(evidence_mentions(p.report, "423 with Min-Expires 7200 although 7200 s was asked for"));
  }
  SUBCASE("one second below Min-Expires: retried once, with exactly Min-Expires") {
    sipp_registrar reg("interval_still_too_brief");
    auto p = sipprobe(reg.args("--transport udp --expires 7199"), password);
    INFO(p.out);
    CHECK(p.report["diagnosis"]["code"] == "interval_too_brief");
    REQUIRE(p.report["transactions"].size() == 2);
    CHECK(contains(p.report["transactions"][0]["note"], "Expires 7199"));
    CHECK(contains(p.report["transactions"][1]["note"], "Expires 7200"));
  }
}

TEST_CASE("register/sipp: a 302 is followed once, to the registrar it names") {
  lab_service kam("kamailio");
  lab_service redirect("sipp", {{"SCENARIO", "redirect"}, {"SIPP_REDIRECT_TO", "127.0.0.1:" + kam.get("SIP_PORT")}});
  auto p = sipprobe("register sip:alice@sip.test --timeout 5 --transport udp --registrar 127.0.0.1:" + redirect.get("SIP_PORT"),
                    password);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  CHECK(evidence_mentions(p.report, "followed the redirect to sip:127.0.0.1:" + kam.get("SIP_PORT")));
  REQUIRE(p.report["targets"].size() == 2);
  CHECK(p.report["targets"][1]["port"] == std::stoi(kam.get("SIP_PORT")));
  REQUIRE(p.report["transactions"].size() >= 3);
  CHECK(p.report["transactions"][0]["status"] == 302);
  CHECK(p.report["transactions"][1]["status"] == 401);
  CHECK(p.report["transactions"][2]["status"] == 200);
}

TEST_CASE("register/sipp: a 302 to a dead registrar says where it led") {
  const int dead = test_support::closed_port(SOCK_DGRAM);
  lab_service redirect("sipp", {{"SCENARIO", "redirect"}, {"SIPP_REDIRECT_TO", "127.0.0.1:" + std::to_string(dead)}});
  auto p = sipprobe("register sip:alice@sip.test --timeout 3 --transport udp --registrar 127.0.0.1:" + redirect.get("SIP_PORT"),
                    password);
  INFO(p.out);
  CHECK(p.exit_code == 1);
  CHECK(p.report["diagnosis"]["code"] == "port_unreachable");
  CHECK(evidence_mentions(p.report, "followed the redirect to sip:127.0.0.1:" + std::to_string(dead)));
}

TEST_CASE("register/sipp: 404 over TCP is not_found (SIP framed on a stream)") {
  sipp_registrar reg("not_found", "tcp");
  auto p = sipprobe(reg.args("--transport tcp"), password);
  INFO(p.out);
  CHECK(p.exit_code == 1);
  CHECK(p.report["diagnosis"]["code"] == "not_found");
  REQUIRE(p.report["transactions"].size() == 1);
  CHECK(p.report["transactions"][0]["transport"] == "tcp");
  CHECK(p.report["transactions"][0]["status"] == 404);
  CHECK(p.report["transactions"][0]["retransmissions"] == 0);
}

TEST_CASE("register/sipp: 100 Trying is recorded, and the binding is removed afterwards") {
  sipp_registrar reg("trying_then_ok");
  auto p = sipprobe(reg.args("--transport udp"), password);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  REQUIRE(p.report["transactions"].size() == 2);
  CHECK(p.report["transactions"][0]["provisional"] == nlohmann::json::array({100}));
  CHECK(p.report["transactions"][0]["status"] == 200);
  CHECK(p.report["transactions"][0]["rtt_ms"] >= 250);  // the 200 came 300 ms after the 100
  CHECK(contains(p.report["transactions"][1]["note"], "Expires: 0"));
  CHECK(p.report["transactions"][1]["status"] == 200);
  CHECK(p.report["registration"]["removed"] == true);
}

TEST_CASE("register/sipp: --nagios status, line and perfdata") {
  const std::regex perf_rtt(R"(\| rtt=[0-9]+\.[0-9]ms;)");
  SUBCASE("503: CRITICAL") {
    sipp_registrar reg("service_unavailable");
    auto p = sipprobe(reg.args("--transport udp --nagios"), password, false);
    INFO(p.out);
    CHECK(p.exit_code == 2);
    CHECK(p.out.rfind("SIPPROBE CRITICAL - service_unavailable", 0) == 0);
    CHECK(std::regex_search(p.out, perf_rtt));
  }
  SUBCASE("registered after a stale nonce: OK") {
    sipp_registrar reg("stale_nonce");
    auto p = sipprobe(reg.args("--transport udp --keep --nagios"), password, false);
    INFO(p.out);
    CHECK(p.exit_code == 0);
    CHECK(p.out.rfind("SIPPROBE OK - registered", 0) == 0);
    CHECK(std::regex_search(p.out, perf_rtt));
  }
  SUBCASE("registered with the interval raised by a 423: WARNING") {
    sipp_registrar reg("interval_raised");
    auto p = sipprobe(reg.args("--transport udp --keep --nagios"), password, false);
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.out.rfind("SIPPROBE WARNING - registered", 0) == 0);
    CHECK(p.out.find("[expires_raised]") != std::string::npos);
    CHECK(p.out.find("expires=7200s") != std::string::npos);
  }
}
