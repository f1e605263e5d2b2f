// Every code of netcheck::errc (netcheck/error.hpp), walked once
// (tests/support/error_category.hpp).
#include <ostream>
#include <doctest/doctest.h>

#include "netcheck/error.hpp"
#include "support/error_category.hpp"

TEST_CASE("netcheck error: every enumerator has the netcheck category and a message of its own") {
  test_support::walk_error_category(netcheck::category(), "netcheck", netcheck::errc::bad_ca_file, "unknown netcheck error");
}
