// Lexical helpers of sip/scan.hpp (RFC 3261 §25.1).
#include <ostream>
#include <doctest/doctest.h>

#include "sip/detail/byte_scan.hpp"
#include "sip/error.hpp"
#include "sip/scan.hpp"

#include <algorithm>

using namespace std::literals;

TEST_CASE("scan: token characters and case-insensitive compare") {
  for (char c : "abcXYZ019-.!%*_+`'~"sv) CHECK(sip::is_token_char(c));
  for (char c : " \t\"(),/:;<=>?@[\\]{}\0"sv) CHECK_FALSE(sip::is_token_char(c));
  CHECK(sip::iequals("Call-ID", "cALL-id"));
  CHECK_FALSE(sip::iequals("Call-ID", "Call-IE"));
  CHECK_FALSE(sip::iequals("To", "Top"));
}

TEST_CASE("scan: LWS includes folding, CRLF or LF") {
  CHECK(sip::skip_lws(" \t x") == "x");
  CHECK(sip::skip_lws("\r\n  x") == "x");
  CHECK(sip::skip_lws("\n\tx") == "x");
  CHECK(sip::skip_lws("\r\nx") == "\r\nx");  // a line break without WSP is not LWS
  CHECK(sip::trim_lws("  a b \r\n ") == "a b");
  CHECK(sip::trim_lws("") == "");
}

TEST_CASE("scan: quoted strings with escapes") {
  std::string_view raw, rest;
  REQUIRE_FALSE(sip::read_quoted(R"(  "a \"b\" \\c" <x>)", raw, rest));
  CHECK(raw == R"(a \"b\" \\c)");
  CHECK(rest == " <x>");
  CHECK(sip::unescape_quoted(raw) == R"(a "b" \c)");
  CHECK(sip::read_quoted(R"("open)", raw, rest) == sip::errc::bad_quoted_string);
  CHECK(sip::read_quoted(R"("ends in escape\")", raw, rest) == sip::errc::bad_quoted_string);
  CHECK(sip::read_quoted("noquote", raw, rest) == sip::errc::bad_quoted_string);
}

TEST_CASE("scan: split_commas respects quotes and angle brackets") {
  std::vector<std::string_view> out;
  REQUIRE_FALSE(sip::split_commas(R"("a, b" <sip:x;p=1,2>, <sip:y> ,, z)", out));
  REQUIRE(out.size() == 3);
  CHECK(out[0] == R"("a, b" <sip:x;p=1,2>)");
  CHECK(out[1] == "<sip:y>");
  CHECK(out[2] == "z");
  out.clear();
  CHECK(sip::split_commas(R"("a, b)", out) == sip::errc::bad_quoted_string);
}

TEST_CASE("scan: parameters") {
  std::vector<sip::param> ps;
  REQUIRE_FALSE(sip::parse_params(" ; tag = abc ;lr; x=\"q v\" ;received=[2001:db8::1]", ps));
  REQUIRE(ps.size() == 4);
  CHECK(ps[0].name == "tag");
  CHECK(ps[0].value == "abc");
  CHECK(ps[1].name == "lr");
  CHECK_FALSE(ps[1].has_value);
  CHECK(ps[2].quoted);
  CHECK(ps[2].value == "q v");
  CHECK(ps[3].value == "[2001:db8::1]");
  CHECK(sip::find_param(ps, "TAG") == &ps[0]);
  CHECK(sip::find_param(ps, "nope") == nullptr);
  ps.clear();
  CHECK(sip::parse_params(";;", ps) == sip::errc::bad_parameter);
  CHECK(sip::parse_params("x=1", ps) == sip::errc::bad_parameter);
  CHECK(sip::parse_params(";a=", ps) == sip::errc::bad_parameter);
}

TEST_CASE("scan: parse_decimal bounds") {
  CHECK(sip::parse_decimal("0", 10) == 0u);
  CHECK(sip::parse_decimal("0068", 255) == 68u);
  CHECK(sip::parse_decimal("255", 255) == 255u);
  CHECK_FALSE(sip::parse_decimal("256", 255));
  CHECK_FALSE(sip::parse_decimal("9", 5));  // max below the digit: no unsigned wrap
  CHECK(sip::parse_decimal("5", 5) == 5u);
  CHECK(sip::parse_decimal("18446744073709551615", UINT64_MAX) == UINT64_MAX);
  CHECK_FALSE(sip::parse_decimal("18446744073709551616", UINT64_MAX));
  CHECK_FALSE(sip::parse_decimal("", 10));
  CHECK_FALSE(sip::parse_decimal("-1", 10));
  CHECK_FALSE(sip::parse_decimal(" 1", 10));
}

TEST_CASE("scan: first_comma_element is split_commas' first element") {
  std::string_view first;
  REQUIRE_FALSE(sip::first_comma_element(R"( , "a, b" <sip:x;p=1,2>, <sip:y>)", first));
  CHECK(first == R"("a, b" <sip:x;p=1,2>)");
  REQUIRE_FALSE(sip::first_comma_element("SIP/2.0/UDP h;branch=z9hG4bKa", first));
  CHECK(first == "SIP/2.0/UDP h;branch=z9hG4bKa");
  REQUIRE_FALSE(sip::first_comma_element(" ,, ", first));
  CHECK(first.empty());
  CHECK(sip::first_comma_element(R"("a, b)", first) == sip::errc::bad_quoted_string);
}

TEST_CASE("scan: find_control finds the first control byte at every position and length") {
  // Every position of the byte in every length up to 40 crosses the 16- and 8-byte steps.
  for (unsigned char c : {0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x7f}) {
    for (std::size_t len = 1; len <= 40; ++len) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(c);
        if (at + 1 < len) s[at + 1] = '\x01';  // a later one must not win
        CAPTURE(int(c));
        CAPTURE(len);
        CAPTURE(at);
        CHECK(sip::find_control(s.data(), 0, s.size()) == at);
        CHECK(sip::find_control(s.data(), at + 1, s.size()) == (at + 1 < len ? at + 1 : len));
      }
    }
  }
  // Not controls: space, '~', bytes >= 0x80 (UTF-8), and 0x20 just above the range.
  const std::string plain = "a ~\x80\xff\xc3\xa9 0123456789abcdefghijklmnopqrstuvwxyz";
  CHECK(sip::find_control(plain.data(), 0, plain.size()) == plain.size());
  CHECK(sip::find_control(plain.data(), 5, 5) == 5);
}

TEST_CASE("scan: the header-line scan notes a colon only before the control byte, in the first block") {
  // A line "name:value\r\n" with the colon at `colon` and the CR at `cr`, in a buffer of
  // `len` bytes: against the plain definitions, for every placement around the block.
  for (std::size_t len = 1; len <= 40; ++len) {
    for (std::size_t cr = 0; cr <= len; ++cr) {
      for (std::size_t colon = 0; colon <= len; ++colon) {
        std::string s(len, 'a');
        if (colon < len) s[colon] = ':';
        if (cr < len && cr != colon) s[cr] = '\r';
        CAPTURE(len);
        CAPTURE(cr);
        CAPTURE(colon);
        const std::size_t control = s.find('\r') == std::string::npos ? len : s.find('\r');
        const std::size_t first_colon = s.find(':') == std::string::npos ? len : s.find(':');
        std::size_t seen = 0;
        CHECK(sip::detail::find_control_noting(s.data(), 0, len, ':', seen) == control);
        const bool expect_seen = len >= sip::detail::scan_block && first_colon < control && first_colon < sip::detail::scan_block;
        CHECK(seen == (expect_seen ? first_colon : sip::detail::not_seen));
        CHECK(sip::detail::find_byte(s.data(), 0, len, ':') == first_colon);
        CHECK(sip::detail::find_byte(s.data(), 0, std::min(cr, len), ':') == std::min(first_colon, std::min(cr, len)));
      }
    }
  }
}
