// The monitoring-plugin line (probe/core/report_nagios.cpp): a pure function of a report.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/report.hpp"

using probe::diagnosis_code;

TEST_CASE("nagios: a run without a verdict is UNKNOWN, a problem with the registrar CRITICAL") {
  probe::report r;
  r.aor = "sip:alice@sip.test";
  struct row {
    diagnosis_code code;
    int status;
  };
  const row rows[] = {
      {diagnosis_code::registered, 0},  {diagnosis_code::unregistered, 0}, {diagnosis_code::credentials_valid, 0},
      {diagnosis_code::auth_failed, 2}, {diagnosis_code::no_response, 2},  {diagnosis_code::network_unreachable, 2},
      {diagnosis_code::interrupted, 3},
  };
  for (const auto& x : rows) {
    CAPTURE(probe::describe(x.code).code);
    r.primary.code = x.code;
    const auto n = probe::nagios_line(r, 0, 0);
    CHECK(n.status == x.status);
    static const char* names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    CHECK(n.line.rfind(std::string("SIPPROBE ") + names[x.status] + " - ", 0) == 0);
  }
}

namespace {

using probe::finding_code;

// A report of `code` for alice, `elapsed_ms` long, with the findings given.
probe::report report_of(diagnosis_code code, double elapsed_ms, std::vector<finding_code> findings = {}) {
  probe::report r;
  r.aor = "sip:alice@sip.test";
  r.primary.code = code;
  r.elapsed_ms = elapsed_ms;
  for (auto f : findings) r.findings.push_back({f, "detail"});
  return r;
}

// "SIPPROBE <STATUS> - <code>: <title> (sip:alice@sip.test)": the plugin's text before the
// bracketed reasons and the performance data.
std::string head(const char* status, diagnosis_code code) {
  const auto& e = probe::describe(code);
  return std::string("SIPPROBE ") + status + " - " + std::string(e.code) + ": " + std::string(e.title) + " (sip:alice@sip.test)";
}

}  // namespace

TEST_CASE("nagios: status, the reasons for it and the performance data, row by row") {
  struct row {
    const char* what;
    probe::report r;
    double warning_ms, critical_ms;
    int status;
    std::string line;
  };
  const auto ok = diagnosis_code::registered;
  const auto failed = diagnosis_code::auth_failed;
  const std::string perf = " | rtt=0.0ms;;;0 total=100.0ms;;;0 expires=0s";
  const row rows[] = {
      {"a success", report_of(ok, 100), 0, 0, 0, head("OK", ok) + perf},
      {"a finding a monitor should see", report_of(ok, 100, {finding_code::expires_raised}), 0, 0, 1,
       head("WARNING", ok) + " [expires_raised]" + perf},
      {"each such finding, in order",
       report_of(ok, 100,
                 {finding_code::sip_alg_suspected, finding_code::stale_nonce, finding_code::tls_certificate_expiring,
                  finding_code::nat_private_contact, finding_code::tls_certificate_unverified, finding_code::nat_binding_short}),
       0, 0, 1,
       head("WARNING", ok) +
           " [sip_alg_suspected, tls_certificate_expiring, nat_private_contact, tls_certificate_unverified, nat_binding_short]" +
           perf},
      {"an offer to measure is only information", report_of(ok, 100, {finding_code::nat_lifetime_unmeasured}), 0, 0, 0,
       head("OK", ok) + perf},
      {"a finding that is only information", report_of(ok, 100, {finding_code::stale_nonce, finding_code::srv_failover}), 0, 0, 0,
       head("OK", ok) + perf},
      {"slower than --warning", report_of(ok, 1500), 1000, 0, 1,
       head("WARNING", ok) + " [slow] | rtt=0.0ms;;;0 total=1500.0ms;1000;;0 expires=0s"},
      {"slower than --critical", report_of(ok, 2500), 1000, 2000, 2,
       head("CRITICAL", ok) + " [slow] | rtt=0.0ms;;;0 total=2500.0ms;1000;2000;0 expires=0s"},
      {"a warning finding and slower than --warning: both reasons", report_of(ok, 1500, {finding_code::expires_raised}), 1000, 0,
       1, head("WARNING", ok) + " [expires_raised, slow] | rtt=0.0ms;;;0 total=1500.0ms;1000;;0 expires=0s"},
      {"a warning finding and slower than --critical", report_of(ok, 2500, {finding_code::expires_raised}), 1000, 2000, 2,
       head("CRITICAL", ok) + " [expires_raised, slow] | rtt=0.0ms;;;0 total=2500.0ms;1000;2000;0 expires=0s"},
      {"a failure: its findings and its time are not reasons", report_of(failed, 2500, {finding_code::expires_raised}), 1000,
       2000, 2, head("CRITICAL", failed) + " | rtt=0.0ms;;;0 total=2500.0ms;1000;2000;0 expires=0s"},
      {"thresholds as %g", report_of(ok, 100), 0.5, 1e6, 1,
       head("WARNING", ok) + " [slow] | rtt=0.0ms;;;0 total=100.0ms;0.5;1e+06;0 expires=0s"},
      {"interrupted", report_of(diagnosis_code::interrupted, 100), 0, 0, 3, head("UNKNOWN", diagnosis_code::interrupted) + perf},
  };
  for (const auto& x : rows) {
    CAPTURE(x.what);
    const auto n = probe::nagios_line(x.r, x.warning_ms, x.critical_ms);
    CHECK(n.status == x.status);
    CHECK(n.line == x.line);
  }
}

TEST_CASE("nagios: rtt is the last answered transaction's, expires the granted one, never negative") {
  auto r = report_of(diagnosis_code::registered, 56.78);
  r.transactions.resize(3);
  r.transactions[0].rtt_ms = 3.21;
  r.transactions[1].rtt_ms = 12.34;
  r.transactions[2].rtt_ms = -1;  // the clean-up got no answer
  r.registration.emplace();
  r.registration->expires = 3600;
  CHECK(probe::nagios_line(r, 0, 0).line ==
        head("OK", diagnosis_code::registered) + " | rtt=12.3ms;;;0 total=56.8ms;;;0 expires=3600s");
  r.registration->expires = -1;  // our binding was not listed
  CHECK(probe::nagios_line(r, 0, 0).line.ends_with(" expires=0s"));
}

TEST_CASE("nagios: the AOR is printed with its control characters escaped") {
  auto r = report_of(diagnosis_code::registered, 1);
  r.aor = "sip:\x1b[2Jalice@sip.test";
  const auto line = probe::nagios_line(r, 0, 0).line;
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.find("(sip:\\x1b[2Jalice@sip.test)") != std::string::npos);
}
