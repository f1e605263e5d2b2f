// tests/support/probe_run.hpp — run the real sipprobe binary for an integration test and
// read its report.
//
//   auto p = test_support::sipprobe("register sip:alice@sip.test --registrar 127.0.0.1:5060", "secret");
//   CHECK(p.report["diagnosis"]["code"] == "registered");
//
// The password travels in the environment variable PW (--password-env PW), never in argv.
// With `json` the output must parse as JSON (the test fails with the output otherwise);
// without it `out` holds what the binary printed, stderr included.
// Include after <doctest/doctest.h>: the helpers report through doctest.
#pragma once

#include "support/process.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace test_support {

struct probe_run {
  int exit_code = -1;
  nlohmann::json report;  // parsed --json output (discarded when `json` was false)
  std::string out;        // stdout and stderr as printed
};

// sipprobe() with the binary run through `prefix` (e.g. "ip netns exec NS").
inline probe_run sipprobe_prefixed(const std::string& prefix, const std::string& args, const std::string& password = "",
                                   bool json = true) {
  std::string cmd = "PW=" + shell_quote(password) + " " + prefix + (prefix.empty() ? "" : " ") + shell_quote(SIPPROBE_BINARY) +
                    " " + args;
  if (!password.empty()) cmd += " --password-env PW";
  if (json) cmd += " --json";
  cmd += " 2>&1";
  auto r = run(cmd);
  probe_run p;
  p.exit_code = r.exit_code;
  p.out = r.out;
  if (json) {
    p.report = nlohmann::json::parse(r.out, nullptr, false);
    INFO("sipprobe output: " << r.out);
    REQUIRE_FALSE(p.report.is_discarded());
  }
  return p;
}

inline probe_run sipprobe(const std::string& args, const std::string& password = "", bool json = true) {
  return sipprobe_prefixed("", args, password, json);
}

// The codes of the report's findings, in order.
inline std::vector<std::string> finding_codes(const nlohmann::json& report) {
  std::vector<std::string> codes;
  for (const auto& f : report["findings"]) codes.push_back(f["code"]);
  return codes;
}

// The detail of the report's finding `code` ("" when there is none).
inline std::string finding_detail(const nlohmann::json& report, const std::string& code) {
  for (const auto& f : report["findings"])
    if (f["code"] == code) return f["detail"];
  return "";
}

inline bool has_finding(const nlohmann::json& report, const std::string& code) {
  auto codes = finding_codes(report);
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace test_support
