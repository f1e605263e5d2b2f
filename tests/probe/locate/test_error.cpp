// Every code of probe::locate::errc (probe/locate/error.hpp), walked once
// (tests/support/error_category.hpp).
#include <ostream>
#include <doctest/doctest.h>

#include "probe/locate/error.hpp"
#include "support/error_category.hpp"

TEST_CASE("locate error: every enumerator has the probe.locate category and a message of its own") {
  test_support::walk_error_category(probe::locate::category(), "probe.locate", probe::locate::errc::sips_over_udp,
                                    "unknown probe.locate error");
}
