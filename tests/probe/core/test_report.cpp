#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/report.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>

namespace {

probe::report sample() {
  probe::report r;
  r.aor = "sip:alice@example.com";
  r.primary.code = probe::diagnosis_code::auth_failed;
  r.primary.evidence = {"401 after Authorization (CSeq 2)"};
  r.findings.push_back({probe::finding_code::realm_mismatch, "expected \"a\", server sent \"b\""});
  r.targets.push_back({"udp", "example.com", "127.0.0.1", 5060, "srv", "tried"});
  probe::transaction_record t1;
  t1.request = "REGISTER";
  t1.cseq = 1;
  t1.transport = "udp";
  t1.remote = "127.0.0.1:5060";
  t1.status = 401;
  t1.reason = "Unauthorized";
  t1.rtt_ms = 1.234;
  probe::transaction_record t2 = t1;
  t2.cseq = 2;
  t2.note = "Digest MD5";
  t2.retransmissions = 2;
  r.transactions = {t1, t2};
  r.elapsed_ms = 12.345;
  return r;
}

}  // namespace

TEST_CASE("report: JSON follows sipprobe.report/1") {
  auto j = probe::to_json(sample());
  CHECK(j["schema"] == "sipprobe.report/1");
  CHECK(j["aor"] == "sip:alice@example.com");
  CHECK(j["verdict"] == "failed");
  CHECK(j["diagnosis"]["code"] == "auth_failed");
  CHECK(j["diagnosis"]["fixes"].size() == probe::describe(probe::diagnosis_code::auth_failed).fixes.size());
  CHECK(j["diagnosis"]["evidence"][0] == "401 after Authorization (CSeq 2)");
  CHECK(j["findings"][0]["code"] == "realm_mismatch");
  CHECK(j["targets"][0]["via"] == "srv");
  CHECK(j["transactions"].size() == 2);
  CHECK(j["transactions"][0]["rtt_ms"] == doctest::Approx(1.2));
  CHECK(j["transactions"][1]["note"] == "Digest MD5");
  CHECK(j["transactions"][1]["retransmissions"] == 2);
  CHECK(j["registration"].is_null());
  CHECK(j["elapsed_ms"] == doctest::Approx(12.3));
}

TEST_CASE("report: registered JSON carries bindings") {
  auto r = sample();
  r.primary = {probe::diagnosis_code::registered, {}};
  r.registration = probe::registration_record{3600, 1800, {{"sip:a@127.0.0.1:5062", 1800, true}}, true, false};
  auto j = probe::to_json(r);
  CHECK(j["verdict"] == "registered");
  CHECK(j["registration"]["expires"] == 1800);
  CHECK(j["registration"]["bindings"][0]["ours"] == true);
  CHECK(j["registration"]["removed"] == true);
}

TEST_CASE("report: the NAT binding lifetime in JSON and text") {
  auto r = sample();
  r.primary = {probe::diagnosis_code::registered, {}};
  probe::nat_lifetime_record n;
  n.alive_after_s = 15;
  n.dead_after_s = 30;
  n.recommended_keepalive_s = 12;
  n.max_idle_s = 60;
  n.method = "gruu";
  n.complete = true;
  n.probes = {{15, "alive", ""}, {30, "gone", "408 Request Timeout"}, {45, "skipped", ""}};
  n.elapsed_s = 33.04;
  r.nat_lifetime = n;
  auto j = probe::to_json(r);
  const auto& o = j["nat_lifetime"];
  CHECK(o["alive_after_s"] == 15);
  CHECK(o["dead_after_s"] == 30);
  CHECK(o["recommended_keepalive_s"] == 12);
  CHECK(o["method"] == "gruu");
  CHECK(o["complete"] == true);
  CHECK(o["stopped"].is_null());
  CHECK(o["elapsed_s"] == 33.0);
  REQUIRE(o["probes"].size() == 3);
  CHECK(o["probes"][1] == nlohmann::json{{"idle_s", 30}, {"result", "gone"}, {"detail", "408 Request Timeout"}});
  CHECK_FALSE(o["probes"][0].contains("detail"));
  std::ostringstream text;
  probe::write_text(text, r, probe::color_mode::never);
  CHECK(text.str().find("  NAT binding: alive after 15 s idle, gone after 30 s → keep-alives or re-register every 12 s\n") !=
        std::string::npos);

  // Outlived --max-idle: no end, and the text says it was the longest tried.
  r.nat_lifetime->alive_after_s = 60;
  r.nat_lifetime->dead_after_s.reset();
  r.nat_lifetime->recommended_keepalive_s = 48;
  CHECK(probe::to_json(r)["nat_lifetime"]["dead_after_s"].is_null());
  text.str("");
  probe::write_text(text, r, probe::color_mode::never);
  CHECK(text.str().find(
            "NAT binding: alive after 60 s idle (the longest tried, --max-idle) → keep-alives or re-register every 48 s") !=
        std::string::npos);

  // Interrupted before anything was learned: no recommendation, the reason.
  r.nat_lifetime = probe::nat_lifetime_record{};
  r.nat_lifetime->stopped = "interrupted";
  j = probe::to_json(r);
  CHECK(j["nat_lifetime"]["recommended_keepalive_s"].is_null());
  CHECK(j["nat_lifetime"]["stopped"] == "interrupted");
  text.str("");
  probe::write_text(text, r, probe::color_mode::never);
  CHECK(text.str().find("NAT binding: lifetime not measured (interrupted)\n") != std::string::npos);
  // Without --nat-lifetime the key is absent.
  r.nat_lifetime.reset();
  CHECK_FALSE(probe::to_json(r).contains("nat_lifetime"));
}

TEST_CASE("report: no answer is null rtt, not zero") {
  auto r = sample();
  r.transactions[1].status = 0;
  r.transactions[1].rtt_ms = -1;
  r.transactions[1].reason = "timeout after 10.0 s";
  auto j = probe::to_json(r);
  CHECK(j["transactions"][1]["rtt_ms"].is_null());
  std::ostringstream text;
  probe::write_text(text, r, probe::color_mode::never);
  CHECK(text.str().find("✗ timeout after 10.0 s") != std::string::npos);
}

TEST_CASE("report: text shows the ladder, diagnosis, fixes and findings") {
  std::ostringstream out;
  probe::write_text(out, sample(), probe::color_mode::never);
  const auto s = out.str();
  CHECK(s.find("REGISTER (CSeq 1) → 127.0.0.1:5060 udp") != std::string::npos);
  CHECK(s.find("← 401 Unauthorized  1.2 ms") != std::string::npos);
  CHECK(s.find("(2 retransmissions)") != std::string::npos);
  CHECK(s.find("✘ auth_failed: ") != std::string::npos);
  CHECK(s.find("What to fix:\n    1. ") != std::string::npos);
  CHECK(s.find("• realm_mismatch") != std::string::npos);
  CHECK(s.find("\033[") == std::string::npos);  // no colour when asked for none
  std::ostringstream coloured;
  probe::write_text(coloured, sample(), probe::color_mode::always);
  CHECK(coloured.str().find("\033[31m") != std::string::npos);
}

TEST_CASE("report: colour resolution honours --color and NO_COLOR") {
  CHECK(probe::resolve_color("always", false) == probe::color_mode::always);
  CHECK(probe::resolve_color("never", true) == probe::color_mode::never);
  ::unsetenv("NO_COLOR");
  CHECK(probe::resolve_color("auto", true) == probe::color_mode::always);
  CHECK(probe::resolve_color("auto", false) == probe::color_mode::never);
  ::setenv("NO_COLOR", "1", 1);
  CHECK(probe::resolve_color("auto", true) == probe::color_mode::never);
  CHECK(probe::resolve_color("always", true) == probe::color_mode::always);
  ::unsetenv("NO_COLOR");
}
