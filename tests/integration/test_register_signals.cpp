// Signals in the middle of a run, sent to the real binary as a terminal or a supervisor
// would: whatever ends the run, it removes what it registered and reports what it started.
// The lab Kamailio's user "slow" is answered 700 ms late (tests/lab/kamailio), so a signal
// lands while the REGISTER that creates the binding is in flight; its bindings script
// tells what stayed registered.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/lab_checks.hpp"
#include "support/process.hpp"
#include "support/sockets.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using test_support::background;
using test_support::bindings;
using test_support::jsonl;
using test_support::lab_service;
using test_support::shell_quote;
using test_support::slurp;
using test_support::wait_for_text;

namespace {

struct signal_case {
  int sig;
  std::string name;
};
const signal_case every_signal[] = {{SIGINT, "SIGINT"}, {SIGTERM, "SIGTERM"}, {SIGHUP, "SIGHUP"}, {SIGPIPE, "SIGPIPE"}};

}  // namespace

TEST_CASE("register: a signal while the registrar is slow waits for the late 200 and removes its binding") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("signals");
  for (const auto& s : every_signal) {
    CAPTURE(s.name);
    background run(
        "env PW=slow-secret " + shell_quote(SIPPROBE_BINARY) +
        " register sip:slow@sip.test --transport tcp --timeout 5 --json --trace --password-env PW --registrar 127.0.0.1:" +
        kam.get("SIP_PORT") + " >" + shell_quote(dir + "/out.json") + " 2>" + shell_quote(dir + "/err.txt"));
    // The authenticated REGISTER is sent: Kamailio holds it for 700 ms.
    REQUIRE(wait_for_text(dir + "/err.txt", "CSeq: 2 REGISTER"));
    test_support::sleep_ms(100);
    run.signal(s.sig);
    const int rc = run.wait();
    test_support::sleep_ms(600);  // past the registrar's 700 ms: a late binding would exist now
    CHECK(bindings(kam, "slow").empty());
    const auto err = slurp(dir + "/err.txt");
    INFO("stderr: " << err);
    INFO("stdout: " << slurp(dir + "/out.json"));
    CHECK(rc == 0);  // the run reached its verdict: registered, and removed afterwards
    auto report = nlohmann::json::parse(slurp(dir + "/out.json"), nullptr, false);
    REQUIRE_FALSE(report.is_discarded());
    CHECK(report["diagnosis"]["code"] == "registered");
    CHECK(report["registration"]["removed"] == true);
    CHECK(err.find(std::string(s.name) + ": finishing the request in flight") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("register: interrupted before a challenge is answered: interrupted, nothing sent after") {
  lab_service sipp("sipp", {{"SCENARIO", "slow_challenge"}, {"SIPP_TRANSPORT", "tcp"}});
  const std::string dir = test_support::make_temp_dir("signals");
  background run(
      "env PW=x " + shell_quote(SIPPROBE_BINARY) +
      " register sip:alice@sip.test --transport tcp --timeout 5 --json --trace --password-env PW --registrar 127.0.0.1:" +
      sipp.get("SIP_PORT") + " >" + shell_quote(dir + "/out.json") + " 2>" + shell_quote(dir + "/err.txt"));
  REQUIRE(wait_for_text(dir + "/err.txt", "CSeq: 1 REGISTER"));  // SIPp answers it a second later
  run.signal(SIGINT);
  CHECK(run.wait() == 1);
  auto report = nlohmann::json::parse(slurp(dir + "/out.json"), nullptr, false);
  INFO(slurp(dir + "/out.json"));
  REQUIRE_FALSE(report.is_discarded());
  CHECK(report["diagnosis"]["code"] == "interrupted");
  CHECK(report["verdict"] == "failed");
  REQUIRE(report["transactions"].size() == 1);  // the 401 was waited for, not answered
  CHECK(report["transactions"][0]["status"] == 401);
  CHECK(report["diagnosis"]["evidence"].dump().find("nothing is registered") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("register: a second signal quits at once, and says what may remain") {
  lab_service sipp("sipp", {{"SCENARIO", "silence"}, {"SIPP_TRANSPORT", "tcp"}});
  const std::string dir = test_support::make_temp_dir("signals");
  const auto start = std::chrono::steady_clock::now();
  background run(
      "env PW=x " + shell_quote(SIPPROBE_BINARY) +
      " register sip:alice@sip.test --transport tcp --timeout 8 --json --trace --password-env PW --registrar 127.0.0.1:" +
      sipp.get("SIP_PORT") + " >" + shell_quote(dir + "/out.json") + " 2>" + shell_quote(dir + "/err.txt"));
  REQUIRE(wait_for_text(dir + "/err.txt", "CSeq: 1 REGISTER"));  // never answered
  run.signal(SIGINT);
  test_support::sleep_ms(200);
  run.signal(SIGINT);
  CHECK(run.wait() == 1);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));  // not the 8 s timeout
  auto report = nlohmann::json::parse(slurp(dir + "/out.json"), nullptr, false);
  INFO(slurp(dir + "/out.json"));
  REQUIRE_FALSE(report.is_discarded());
  CHECK(report["diagnosis"]["code"] == "interrupted");
  CHECK(report["diagnosis"]["evidence"].dump().find("without waiting") != std::string::npos);
  CHECK(report["diagnosis"]["evidence"].dump().find("may remain") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("register: a signal while nothing is sent yet (DNS) ends the run at once") {
  const int port = test_support::closed_port(SOCK_DGRAM);
  test_support::udp_black_hole silent_dns(port);
  const std::string dir = test_support::make_temp_dir("signals");
  const auto start = std::chrono::steady_clock::now();
  background run("env PW=x " + shell_quote(SIPPROBE_BINARY) +
                 " register sip:alice@sip.test --timeout 8 --json --password-env PW --dns-server 127.0.0.1:" +
                 std::to_string(port) + " >" + shell_quote(dir + "/out.json") + " 2>/dev/null");
  test_support::sleep_ms(500);  // started, and waiting for DNS that never answers
  run.signal(SIGTERM);
  CHECK(run.wait() == 1);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));  // not the 8 s timeout
  auto report = nlohmann::json::parse(slurp(dir + "/out.json"), nullptr, false);
  INFO(slurp(dir + "/out.json"));
  REQUIRE_FALSE(report.is_discarded());
  CHECK(report["diagnosis"]["code"] == "interrupted");
  CHECK(report["diagnosis"]["evidence"].dump().find("SIGTERM while the registrar was being located") != std::string::npos);
  CHECK(report["transactions"].empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: SIGHUP and SIGPIPE remove the bindings of the rows in flight and report each started row") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("signals");
  std::string text = "aor,password\n";
  for (int i = 0; i < 30; ++i) text += "sip:slow@sip.test,slow-secret\n";
  std::ofstream(dir + "/slow.csv", std::ios::binary) << text;
  const std::string batch = shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(dir + "/slow.csv") +
                            " --rate 0 --concurrency 2 --transport tcp --summary --registrar 127.0.0.1:" + kam.get("SIP_PORT");

  SUBCASE("SIGHUP") {
    // With --out, the summary goes to stdout.
    background run(batch + " --out " + shell_quote(dir + "/out.jsonl") + " >" + shell_quote(dir + "/summary.txt") + " 2>" +
                   shell_quote(dir + "/err.txt"));
    REQUIRE(wait_for_text(dir + "/out.jsonl", "\"row\":2"));  // a row is done, others are in flight
    test_support::sleep_ms(300);
    run.signal(SIGHUP);
    CHECK(run.wait() == 1);
    test_support::sleep_ms(800);  // past the registrar's 700 ms: a late binding would exist now
    const auto err = slurp(dir + "/err.txt");
    INFO("stderr: " << err);
    auto lines = jsonl(slurp(dir + "/out.jsonl"));
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.size() < 30);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CHECK(lines[i]["row"] == static_cast<int>(i) + 2);
      CHECK(lines[i]["code"] == "registered");
    }
    // Every started row has its line: the summary and the last word count the same rows.
    const auto summary = slurp(dir + "/summary.txt");
    INFO("summary: " << summary);
    char total[64];
    std::snprintf(total, sizeof total, "%-24s %6zu  (", "total", lines.size());
    CHECK(summary.find(total) != std::string::npos);
    CHECK(summary.find("interrupted: rows not started have no result") != std::string::npos);
    CHECK(err.find("batch interrupted after " + std::to_string(lines.size()) + " rows") != std::string::npos);
  }
  SUBCASE("SIGPIPE: the reader of the results went away") {
    // `| head -1`: head exits after the first line, the next write raises SIGPIPE.
    background run("bash -c " +
                   shell_quote(batch + " 2>" + shell_quote(dir + "/err.txt") + " | head -1 >" + shell_quote(dir + "/head.txt") +
                               "; echo ${PIPESTATUS[0]} >" + shell_quote(dir + "/rc.txt")));
    CHECK(run.wait() == 0);
    test_support::sleep_ms(800);
    const auto err = slurp(dir + "/err.txt");
    INFO("stderr: " << err);
    CHECK(jsonl(slurp(dir + "/head.txt")).size() == 1);
    const int rc = std::stoi(slurp(dir + "/rc.txt"));
    CHECK(rc != 128 + SIGPIPE);  // not killed by it: it stopped, finished the rows in flight
    CHECK(rc != 0);              // and said that its results could not all be written
  }
  CHECK(bindings(kam, "slow").empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("register --inbound: a signal during the inbound check stops it at once and removes the binding") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("signals");
  // A dead Contact: Kamailio waits 3 s for it, the check up to --timeout 8.
  background run("env PW=alice-secret " + shell_quote(SIPPROBE_BINARY) +
                 " register sip:alice@sip.test --inbound --contact sip:alice@127.0.0.1:9 --timeout 8 --json --trace"
                 " --password-env PW --registrar 127.0.0.1:" +
                 kam.get("SIP_PORT") + " >" + shell_quote(dir + "/out.json") + " 2>" + shell_quote(dir + "/err.txt"));
  REQUIRE(wait_for_text(dir + "/err.txt", "OPTIONS sip:alice@sip.test"));
  const auto start = std::chrono::steady_clock::now();
  run.signal(SIGINT);
  const int rc = run.wait();
  const auto waited = std::chrono::steady_clock::now() - start;
  INFO("stderr: " << slurp(dir + "/err.txt"));
  CHECK(waited < std::chrono::milliseconds(1500));  // not the registrar's 3 s
  CHECK(rc == 0);
  CHECK(bindings(kam, "alice").empty());
  auto report = nlohmann::json::parse(slurp(dir + "/out.json"), nullptr, false);
  REQUIRE_FALSE(report.is_discarded());
  CHECK(report["diagnosis"]["code"] == "registered");
  CHECK(report["inbound"]["result"] == "skipped");
  CHECK(report["registration"]["removed"] == true);
  std::filesystem::remove_all(dir);
}
