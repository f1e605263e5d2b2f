// Every code of sip::errc (sip/error.hpp), walked once (tests/support/error_category.hpp).
#include <ostream>
#include <doctest/doctest.h>

#include "sip/error.hpp"
#include "support/error_category.hpp"

TEST_CASE("sip error: every enumerator has the sip category and a message of its own") {
  test_support::walk_error_category(sip::category(), "sip", sip::errc::bad_header_value, "unknown sip error");
}
