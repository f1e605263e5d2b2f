// The monitoring-plugin line and the certificate-expiry finding: pure functions of a report.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/reach.hpp"
#include "probe/register_cli.hpp"

using probe::diagnosis_code;

TEST_CASE("nagios: a run without a verdict is UNKNOWN, a problem with the registrar CRITICAL") {
  probe::report r;
  r.aor = "sip:alice@sip.test";
  struct row {
    diagnosis_code code;
    int status;
  };
  const row rows[] = {
      {diagnosis_code::registered, 0},   {diagnosis_code::unregistered, 0}, {diagnosis_code::credentials_valid, 0},
      {diagnosis_code::auth_failed, 2},  {diagnosis_code::no_response, 2},  {diagnosis_code::network_unreachable, 2},
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

TEST_CASE("tls finding: a certificate that has expired says so, not 'in -2 days'") {
  netcheck::tls_report t;
  t.has_certificate = true;
  t.subject_cn = "sip.test";
  t.not_after = "2026-12-05T00:00:00Z";
  t.days_left = -2;
  auto f = probe::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("in -") == std::string::npos);
  CHECK(f->detail.find("expired 2026-12-05T00:00:00Z, 2 days ago") != std::string::npos);
  t.days_left = 0;
  f = probe::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("today") != std::string::npos);
  t.days_left = 12;
  f = probe::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("expires 2026-12-05T00:00:00Z, in 12 days") != std::string::npos);
  t.days_left = 30;
  CHECK_FALSE(probe::certificate_expiry_finding("127.0.0.1:5061", t));
}
