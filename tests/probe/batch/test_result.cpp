// The batch result line: valid JSON whatever bytes a CSV label or a server's text holds.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/batch/scheduler.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

namespace {

probe::batch::row_result sample() {
  probe::batch::row_result r;
  r.row = 7;
  r.label = "desk \"7\", 2nd floor\\back";
  r.aor = "sip:alice@sip.test";
  r.code = "auth_failed";
  r.verdict = "failed";
  r.detail = "Wrong credentials";
  r.evidence = {"401 Unauthorized\r\nagain", "tab\there", std::string("nul\0x", 5)};
  r.elapsed_ms = 12.345;
  return r;
}

}  // namespace

TEST_CASE("batch result: the JSON line round-trips every field") {
  const auto r = sample();
  const auto line = probe::batch::jsonl_line(r);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // one line, whatever the fields hold
  const auto j = nlohmann::json::parse(line);
  CHECK(j["row"] == 7);
  CHECK(j["label"] == r.label);
  CHECK(j["aor"] == r.aor);
  CHECK(j["code"] == "auth_failed");
  CHECK(j["verdict"] == "failed");
  CHECK(j["detail"] == r.detail);
  REQUIRE(j["evidence"].size() == 3);
  CHECK(j["evidence"][0] == r.evidence[0]);
  CHECK(j["evidence"][1] == r.evidence[1]);
  CHECK(j["evidence"][2] == r.evidence[2]);
  CHECK(j["elapsed_ms"].get<double>() == doctest::Approx(12.3));
  // Keys sorted, as docs/json.md shows them.
  CHECK(line.rfind("{\"aor\":", 0) == 0);
}

TEST_CASE("batch result: bytes that are not UTF-8 become U+FFFD, valid UTF-8 stays") {
  auto r = sample();
  r.label = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e";  // é € 📞
  r.evidence = {"bad \xff\xfe end", "overlong \xc0\xaf", "surrogate \xed\xa0\x80", "cut \xe2\x82"};
  const auto j = nlohmann::json::parse(probe::batch::jsonl_line(r));
  CHECK(j["label"] == r.label);
  CHECK(j["evidence"][0] == "bad \xef\xbf\xbd\xef\xbf\xbd end");
  CHECK(j["evidence"][1] == "overlong \xef\xbf\xbd\xef\xbf\xbd");
  CHECK(j["evidence"][2] == "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(j["evidence"][3] == "cut \xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("batch result: elapsed_ms is written as printf's %.1f would") {
  auto r = sample();
  for (double ms : {0.0, 0.05, 0.25, 0.35, 1.45, 12.345, 999.95, 10000.0, 123456.789}) {
    r.elapsed_ms = ms;
    char expected[32];
    std::snprintf(expected, sizeof expected, "%.1f", ms);
    CAPTURE(ms);
    CHECK(probe::batch::jsonl_line(r).find(std::string("\"elapsed_ms\":") + expected + ",") != std::string::npos);
    CHECK(probe::batch::csv_line(r).find(std::string(",") + expected + "\n") != std::string::npos);
  }
}

TEST_CASE("report: ms_text writes milliseconds as the text reports always did (printf's %.1f ms)") {
  // The text reports (register, diagnose, reach) printed "%.1f ms" through snprintf; one
  // helper now writes them all.
  for (double ms : {0.0, 0.04, 0.05, 0.15, 2.25, 28.6, 1.0 / 3, 999.95, 3600000.0}) {
    char expected[48];
    std::snprintf(expected, sizeof expected, "%.1f ms", ms);
    CAPTURE(ms);
    CHECK(probe::ms_text(ms) == expected);
  }
}
