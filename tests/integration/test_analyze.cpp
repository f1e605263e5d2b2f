// `sipprobe analyze` on captures the test makes itself: tcpdump on `lo` around a real
// `sipprobe register` against the lab Kamailio, then the capture analysed by the binary.
#include <ostream>
#include <doctest/doctest.h>

#include "support/capture.hpp"
#include "support/lab.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using test_support::capture;
using test_support::lab_service;
using test_support::shell_quote;

namespace {

struct result {
  int exit_code;
  nlohmann::json report;
  std::string out;
};

result sipprobe(const std::string& args, const std::string& password = "") {
  std::string cmd = "PW=" + shell_quote(password) + " " + shell_quote(SIPPROBE_BINARY) + " " + args;
  if (!password.empty()) cmd += " --password-env PW";
  auto r = test_support::run(cmd + " --json 2>&1");
  return {r.exit_code, nlohmann::json::parse(r.out, nullptr, false), r.out};
}

}  // namespace

TEST_CASE("analyze: a capture of a wrong password, then of a right one, against Kamailio") {
  lab_service kam("kamailio");
  const std::string port = kam.get("SIP_PORT");
  const std::string reg = "register sip:alice@sip.test --registrar 127.0.0.1:" + port;

  for (const bool right : {false, true}) {
    CAPTURE(right);
    const std::string dir = test_support::make_temp_dir(right ? "cap-ok" : "cap-bad");
    std::string file;
    {
      capture cap(dir, port);
      auto r = sipprobe(reg, right ? "alice-secret" : "not-the-password");
      INFO(r.out);
      CHECK(r.exit_code == (right ? 0 : 1));
      file = cap.stop();
    }
    auto a = sipprobe("analyze " + shell_quote(file));
    INFO(a.out);
    REQUIRE_FALSE(a.report.is_discarded());
    CHECK(a.exit_code == (right ? 0 : 1));
    CHECK(a.report["schema"] == "sipprobe.report/1");
    CHECK(a.report["input"]["files"][0]["format"] == "pcap");
    // sipprobe registers, then removes its binding: two attempts of one Call-ID, each with
    // its own code, the removal last (issue 13, item 1).
    CHECK(a.report["diagnosis"]["code"] == (right ? "unregistered" : "auth_failed"));
    if (right) {
      REQUIRE(a.report["attempts"].size() == 2);
      CHECK(a.report["attempts"][0]["diagnosis"]["code"] == "registered");
      CHECK(a.report["attempts"][1]["diagnosis"]["code"] == "unregistered");
      CHECK(a.report["findings"].empty());
    }
    CHECK(a.report["aor"] == "sip:alice@sip.test");
    REQUIRE(!a.report["attempts"].empty());
    CHECK(a.report["attempts"][0]["messages"][0]["src"].get<std::string>().starts_with("127.0.0.1:"));
    CHECK(a.report["attempts"][0]["messages"][0]["dst"] == "127.0.0.1:" + port);

    // With the password the phone (here: sipprobe) used, the analysis can tell a wrong
    // password from one the server refused.
    auto checked = sipprobe("analyze " + shell_quote(file), "alice-secret");
    INFO(checked.out);
    std::string evidence;
    for (const auto& e : checked.report["diagnosis"]["evidence"]) evidence += e.get<std::string>();
    if (!right) CHECK(evidence.find("does not produce the response the phone sent") != std::string::npos);
    else CHECK(evidence.find("produces the response the phone sent") != std::string::npos);
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("analyze: live captures of a closed port and of replies that are not SIP") {
  SUBCASE("ICMP port unreachable") {
    const std::string dir = test_support::make_temp_dir("cap-closed");
    auto port = test_support::run("bash -c 'source " + shell_quote(std::string(SIPPROBE_LAB_DIR) + "/lib.sh") +
                                  " && lab_free_port both'");
    REQUIRE(port.exit_code == 0);
    port.out.erase(port.out.find_last_not_of("\n") + 1);
    std::string file;
    {
      capture cap(dir, port.out);
      auto r = sipprobe("register sip:alice@sip.test --registrar 127.0.0.1:" + port.out + " --transport udp --timeout 2", "x");
      INFO(r.out);
      CHECK(r.report["diagnosis"]["code"] == "port_unreachable");
      file = cap.stop();
    }
    auto a = sipprobe("analyze " + shell_quote(file));
    INFO(a.out);
    CHECK(a.exit_code == 1);
    CHECK(a.report["diagnosis"]["code"] == "port_unreachable");
    std::filesystem::remove_all(dir);
  }
  SUBCASE("junk, then a 200 that is not valid SIP") {
    lab_service sipp("sipp", {{"SCENARIO", "malformed_junk_then_200"}});
    const std::string port = sipp.get("SIP_PORT");
    const std::string dir = test_support::make_temp_dir("cap-junk");
    std::string file;
    {
      capture cap(dir, port);
      auto r = sipprobe("register sip:alice@sip.test --registrar 127.0.0.1:" + port + " --transport udp --timeout 2", "x");
      INFO(r.out);
      CHECK(r.report["diagnosis"]["code"] == "malformed_response");
      file = cap.stop();
    }
    auto a = sipprobe("analyze " + shell_quote(file));
    INFO(a.out);
    CHECK(a.exit_code == 1);
    CHECK(a.report["diagnosis"]["code"] == "malformed_response");
    CHECK(a.report["registration"].is_null());
    std::filesystem::remove_all(dir);
  }
}
