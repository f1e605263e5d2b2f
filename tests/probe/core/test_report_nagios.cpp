// The monitoring-plugin line: a pure function of a report.
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
