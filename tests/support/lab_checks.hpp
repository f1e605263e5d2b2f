// tests/support/lab_checks.hpp — what integration tests read back after a run: the
// bindings the lab Kamailio holds, a file the binary wrote, JSON lines.
// Include after <doctest/doctest.h>: the helpers report through doctest.
#pragma once

#include "support/lab.hpp"
#include "support/process.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace test_support {

// The contacts the lab Kamailio `kam` holds for `user`, one per line ("" when none).
inline std::string bindings(const lab_service& kam, const std::string& user) {
  auto r = run(shell_quote(kam.script("bindings")) + " " + shell_quote(kam.dir()) + " " + user + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, "kamcmd failed: " << r.out);
  return r.out;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until the file at `path` holds `text` (a run in the background got that far);
// false after `timeout_ms`.
inline bool wait_for_text(const std::string& path, const std::string& text, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (slurp(path).find(text) != std::string::npos) return true;
    sleep_ms(10);
  }
  return false;
}

// One JSON value per line; the test fails on a line that is not JSON.
inline std::vector<nlohmann::json> jsonl(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    INFO("line: " << line);
    REQUIRE_FALSE(j.is_discarded());
    lines.push_back(std::move(j));
  }
  return lines;
}

}  // namespace test_support
