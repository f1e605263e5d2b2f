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
    CHECK(a.report["diagnosis"]["code"] == (right ? "registered" : "auth_failed"));
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
