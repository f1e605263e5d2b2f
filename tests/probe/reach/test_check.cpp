// The certificate-expiry finding: a pure function of a TLS report.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/reach/check.hpp"

TEST_CASE("tls finding: a certificate that has expired says so, not 'in -2 days'") {
  netcheck::tls_report t;
  t.has_certificate = true;
  t.subject_cn = "sip.test";
  t.not_after = "2026-12-05T00:00:00Z";
  t.days_left = -2;
  auto f = probe::reach::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("in -") == std::string::npos);
  // days_left is floored: -2 may be 1 day and 2 minutes ago, so no count is claimed.
  CHECK(f->detail.find("expired 2026-12-05T00:00:00Z") != std::string::npos);
  CHECK(f->detail.find("ago") == std::string::npos);
  t.days_left = 0;
  f = probe::reach::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("expires 2026-12-05T00:00:00Z, within a day") != std::string::npos);
  t.days_left = 12;
  f = probe::reach::certificate_expiry_finding("127.0.0.1:5061", t);
  REQUIRE(f);
  CHECK(f->detail.find("expires 2026-12-05T00:00:00Z, in 12 days") != std::string::npos);
  t.days_left = 30;
  CHECK_FALSE(probe::reach::certificate_expiry_finding("127.0.0.1:5061", t));
}
