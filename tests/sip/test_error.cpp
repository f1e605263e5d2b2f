// Every code of sip::errc (sip/error.hpp) and sip::digest_errc (sip/digest.hpp), walked once
// (tests/support/error_category.hpp).
#include <ostream>
#include <doctest/doctest.h>

#include "sip/digest.hpp"
#include "sip/error.hpp"
#include "support/error_category.hpp"

TEST_CASE("sip error: every enumerator has the sip category and a message of its own") {
  test_support::walk_error_category(sip::category(), "sip", sip::errc::bad_header_value, "unknown sip error");
}

TEST_CASE("sip digest error: every enumerator has the sip.digest category and a message of its own") {
  test_support::walk_error_category(sip::digest_category(), "sip.digest", sip::digest_errc::hash_failure, "unknown digest error");
}
