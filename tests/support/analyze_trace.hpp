// tests/support/analyze_trace.hpp — `sipprobe analyze` on files of the trace corpus
// (tests/data/traces), through the library, and what the tests read of its JSON.
//
//   auto j = test_support::analyze_trace("pcap/registered_ether.pcap");
//   CHECK(j["diagnosis"]["code"] == "registered");
//
// Each file is read as `sipprobe analyze FILE…` reads it; the JSON is the command's.
// Include after <doctest/doctest.h>: a file that cannot be read fails the test.
#pragma once

#include "probe/analyze/run.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace test_support {

inline std::string trace_path(const std::string& rel) { return std::string(SIPPROBE_TEST_DATA) + "/traces/" + rel; }

// The JSON report of the corpus files `rel`, read in order as one run.
inline nlohmann::json analyze_traces(const std::vector<std::string>& rel, probe::analyze::run_options o = {}) {
  probe::analyze::trace_analyzer a(o);
  for (const auto& r : rel) {
    auto read = a.add(trace_path(r));
    REQUIRE_MESSAGE(read, (read ? std::string() : read.error()));
  }
  a.finish();
  return probe::analyze::to_json(a.result());
}

inline nlohmann::json analyze_trace(const std::string& rel, probe::analyze::run_options o = {}) {
  return analyze_traces({rel}, std::move(o));
}

// The codes of the findings of a report (or of one attempt of it), in order.
inline std::vector<std::string> finding_codes_of(const nlohmann::json& j) {
  std::vector<std::string> v;
  for (const auto& f : j["findings"]) v.push_back(f["code"]);
  return v;
}

inline std::string finding_detail_of(const nlohmann::json& j, const std::string& code) {
  for (const auto& f : j["findings"])
    if (f["code"] == code) return f["detail"];
  return "";
}

// Every evidence line of the diagnosis of a report (or of one attempt), one per line.
inline std::string evidence_of(const nlohmann::json& j) {
  std::string all;
  for (const auto& e : j["diagnosis"]["evidence"]) all += e.get<std::string>() + "\n";
  return all;
}

}  // namespace test_support
