// `sipprobe register --nat-lifetime` through a real NAT (tests/lab/netns/start) whose
// conntrack forgets a silent UDP mapping after UDP_TIMEOUT seconds: the bracket must
// contain the timeout, be at most 15 s wide, come well within 2 × timeout + 60 s, and leave
// no binding behind — with a registrar that gives GRUUs (every idle period probed at once)
// and with one that does not (one binding after another).
#include "support/lab_checks.hpp"
#include "support/probe_run.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>

using test_support::in_ns;
using test_support::lab_service;
using test_support::shell_quote;

namespace {

constexpr int conntrack_timeout = 20;

std::map<std::string, std::string> lab_env(bool gruu) {
  auto env = test_support::netns_lab_env(conntrack_timeout, false);
  env["GRUU"] = gruu ? "1" : "0";
  return env;
}

std::string lifetime_args(const lab_service& lab, int max_idle) {
  return "register sip:alice@sip.test --nat-lifetime --max-idle " + std::to_string(max_idle) + " --timeout 6 --registrar " +
         lab.get("SERVER_IP") + ":" + lab.get("NAT_PORT");
}

// kamcmd ul.dump: the registrar's location table, every binding of every user.
std::string location_table(const lab_service& lab) {
  auto r = test_support::run("kamcmd -s " + shell_quote(lab.get("CTL")) + " ul.dump 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, "kamcmd ul.dump failed: " << r.out);
  return r.out;
}

void check_bracket(const nlohmann::json& n, const char* method) {
  INFO(n.dump(2));
  CHECK(n["method"] == method);
  CHECK(n["complete"] == true);
  CHECK(n["stopped"].is_null());
  REQUIRE(n["dead_after_s"].is_number());
  const long alive = n["alive_after_s"], dead = n["dead_after_s"];
  CHECK(alive < conntrack_timeout + 1);  // a probe at exactly the timeout may still find it
  CHECK(dead >= conntrack_timeout);
  CHECK(dead - alive <= 15);
  CHECK(alive > 0);
  CHECK(n["recommended_keepalive_s"] == std::max(10L, alive * 4 / 5));
  bool saw_alive = false, saw_gone = false;
  for (const auto& p : n["probes"]) {
    if (p["result"] == "alive") saw_alive = true;
    if (p["result"] == "gone") saw_gone = true;
    CHECK(p["result"] != "failed");
  }
  CHECK(saw_alive);
  CHECK(saw_gone);
}

void measure_and_check(bool gruu, const char* method) {
  lab_service lab("netns", lab_env(gruu));
  REQUIRE(lab.get("GRUU") == (gruu ? "1" : "0"));
  const auto began = std::chrono::steady_clock::now();
  auto p = test_support::sipprobe_prefixed(in_ns(lab, "PHONE_NS"), lifetime_args(lab, 90), "alice-secret");
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.report["diagnosis"]["code"] == "registered");
  CHECK(p.report["inbound"]["result"] == "reached");
  REQUIRE(p.report.contains("nat_lifetime"));
  check_bracket(p.report["nat_lifetime"], method);
  // The issue's bound: a bracket in well under 2 × lifetime + 60 s.
  CHECK(took < 2 * conntrack_timeout + 60);
  // The registrar expects a refresh every 3600 s: far too late for this NAT.
  CHECK(test_support::has_finding(p.report, "nat_binding_short"));
  CHECK(test_support::finding_detail(p.report, "nat_binding_short").find("keep-alives every") != std::string::npos);
  // Every binding the measurement made is gone, and so is the run's own.
  const auto table = location_table(lab);
  CHECK_MESSAGE(table.find("alice") == std::string::npos, table);
}

}  // namespace

TEST_CASE("nat lifetime: with GRUUs every idle period is probed at once and the bracket holds the conntrack timeout") {
  measure_and_check(true, "gruu");
}

TEST_CASE("nat lifetime: without GRUUs one binding after another still brackets the conntrack timeout") {
  measure_and_check(false, "aor");
}

TEST_CASE("nat lifetime: the text report prints the bracket and the keep-alive interval") {
  lab_service lab("netns", lab_env(true));
  auto p = test_support::sipprobe_prefixed(in_ns(lab, "PHONE_NS"), lifetime_args(lab, 30), "alice-secret", false);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(std::regex_search(
      p.out, std::regex(R"(NAT binding: alive after 15 s idle, gone after 30 s → keep-alives or re-register every 12 s)")));
  // Progress goes to a terminal only: none here (stderr is a pipe).
  CHECK(p.out.find("NAT lifetime:") == std::string::npos);
}

TEST_CASE("nat lifetime: Ctrl-C prints what was learned and removes every binding") {
  lab_service lab("netns", lab_env(true));
  const auto dir = test_support::make_temp_dir("lifetime-int");
  test_support::background run("env PW=alice-secret " + in_ns(lab, "PHONE_NS") + " " + shell_quote(SIPPROBE_BINARY) + " " +
                               lifetime_args(lab, 120) + " --json --trace --password-env PW >" + shell_quote(dir + "/out.json") +
                               " 2>" + shell_quote(dir + "/err.txt"));
  // The binding idle for 15 s is asked for by its GRUU; its answer comes within milliseconds.
  REQUIRE(test_support::wait_for_text(dir + "/err.txt", "OPTIONS sip:alice@sip.test;gr=urn:uuid:", 40000));
  test_support::sleep_ms(1500);
  CHECK(location_table(lab).find("alice") != std::string::npos);  // the other bindings wait
  run.signal(SIGINT);
  const int rc = run.wait();
  const auto out = test_support::slurp(dir + "/out.json");
  INFO(out);
  INFO(test_support::slurp(dir + "/err.txt").substr(0, 2000));
  CHECK(rc == 0);  // the registration and the inbound check had their verdict
  auto report = nlohmann::json::parse(out, nullptr, false);
  REQUIRE_FALSE(report.is_discarded());
  const auto& n = report["nat_lifetime"];
  CHECK(n["alive_after_s"] == 15);
  CHECK(n["dead_after_s"].is_null());
  CHECK(n["complete"] == false);
  CHECK(n["stopped"] == "interrupted");
  CHECK(n["recommended_keepalive_s"] == 12);
  const auto table = location_table(lab);
  CHECK_MESSAGE(table.find("alice") == std::string::npos, table);
}

TEST_CASE("nat lifetime: usage errors name the option") {
  struct usage_case {
    std::string args, says;
  };
  for (const auto& c : std::vector<usage_case>{
           {"--nat-lifetime --transport tcp", "--nat-lifetime measures how long a NAT keeps a UDP binding"},
           {"--nat-lifetime --query", "not with --query"},
           {"--nat-lifetime --expires 0", "not with --expires 0"},
           {"--max-idle 60", "--max-idle requires --nat-lifetime"},
           {"--nat-lifetime --max-idle 5", "--max-idle"},
           {"--nat-lifetime --max-idle 901", "--max-idle"},
       }) {
    CAPTURE(c.args);
    auto p = test_support::sipprobe("register sip:alice@sip.test --registrar 127.0.0.1:9 " + c.args, "x", false);
    CHECK(p.exit_code == 2);
    CHECK_MESSAGE(p.out.find(c.says) != std::string::npos, p.out);
    CHECK(std::count(p.out.begin(), p.out.end(), '\n') <= 2);
  }
}

TEST_CASE("nat lifetime: diagnose --nat-lifetime measures it after its checks, and only when asked") {
  lab_service lab("netns", lab_env(true));
  const auto route = " --timeout 6 --registrar " + lab.get("SERVER_IP") + ":" + lab.get("NAT_PORT");
  auto d = test_support::sipprobe_prefixed(in_ns(lab, "PHONE_NS"),
                                           "diagnose sip:alice@sip.test --nat-lifetime --max-idle 30" + route, "alice-secret");
  INFO(d.out);
  CHECK(d.exit_code == 0);
  CHECK(d.report["inbound"]["result"] == "reached");
  REQUIRE(d.report.contains("nat_lifetime"));
  CHECK(d.report["nat_lifetime"]["alive_after_s"] == 15);
  CHECK(d.report["nat_lifetime"]["dead_after_s"] == 30);
  CHECK(test_support::has_finding(d.report, "nat_binding_short"));
  CHECK_FALSE(test_support::has_finding(d.report, "nat_lifetime_unmeasured"));  // measured instead
  CHECK(location_table(lab).find("alice") == std::string::npos);
  // Not by default: diagnose only offers it.
  auto plain = test_support::sipprobe_prefixed(in_ns(lab, "PHONE_NS"), "diagnose sip:alice@sip.test --transport udp" + route,
                                               "alice-secret");
  INFO(plain.out);
  CHECK_FALSE(plain.report.contains("nat_lifetime"));
  CHECK(test_support::has_finding(plain.report, "nat_lifetime_unmeasured"));
  CHECK(plain.report["elapsed_ms"] < 10000);
}
