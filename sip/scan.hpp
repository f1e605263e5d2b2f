// sip/scan.hpp — the lexical pieces of RFC 3261 §25.1 shared by every parser in sip/:
// tokens, linear white space (including header folding), quoted strings, comma-separated
// header values and `;name=value` parameter lists.
//
// All functions take and return std::string_view into the caller's buffer; nothing
// allocates except where a std::string or std::vector is returned by value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sip {

namespace detail {
// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~").
// A table: the parser asks for every byte of every header name.
constexpr std::array<bool, 256> make_token_table() noexcept {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> token_table = make_token_table();
bool iequals_any_case(std::string_view a, std::string_view b) noexcept;
}  // namespace detail

// RFC 3261 §25.1 `token` characters.
inline bool is_token_char(char c) noexcept { return detail::token_table[static_cast<unsigned char>(c)]; }
// Case-insensitive ASCII comparison. Inline: it mostly compares with a literal, written
// as the peer wrote it ("SIP/2.0", "sip", "REGISTER"), which one compare then finds.
inline bool iequals(std::string_view a, std::string_view b) noexcept { return a == b || detail::iequals_any_case(a, b); }

// Index of the first control byte (below 0x20, or DEL) in `p[from, stop)`, or `stop`.
// Every header value sipprobe writes or reads goes through it (sip/detail/byte_scan.hpp).
std::size_t find_control(const char* p, std::size_t from, std::size_t stop) noexcept;

// Linear white space: SP, HTAB, and a CRLF (or LF) followed by SP/HTAB (folding).
std::string_view trim_lws(std::string_view s) noexcept;
std::string_view skip_lws(std::string_view s) noexcept;

// Reads a quoted-string at the start of `s` (after optional LWS). On success `raw` is the
// text between the quotes with escapes left in, `rest` what follows the closing quote.
std::error_code read_quoted(std::string_view s, std::string_view& raw, std::string_view& rest);
// Resolves `\x` escapes of a quoted string's contents.
std::string unescape_quoted(std::string_view raw);

// Splits a header value at top-level commas: commas inside quotes or <…> do not split.
// Empty elements (",,") are dropped. Returns errc::bad_quoted_string on an open quote.
std::error_code split_commas(std::string_view value, std::vector<std::string_view>& out);
// The first element split_commas() would give, without building the list (a response's
// top Via is all a client reads); errc::bad_quoted_string as above, "" when there is none.
std::error_code first_comma_element(std::string_view value, std::string_view& out);

// A `;name[=value]` parameter. `value` is unquoted (escapes left in) when `quoted`.
struct param {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
  bool quoted = false;
};

// Parses `;a=b;c;d="x"` (leading `;` required for each). Stops at end of input only;
// anything that is not a parameter is an error (errc::bad_parameter).
std::error_code parse_params(std::string_view s, std::vector<param>& out);
// The first parameter named `name` (case-insensitive) in `s`, without building the list:
// parses as parse_params() up to it (errors after it are not seen). nullopt when absent.
std::error_code first_param(std::string_view s, std::string_view name, std::optional<param>& out);
// First parameter named `name` (case-insensitive), or nullptr.
const param* find_param(const std::vector<param>& ps, std::string_view name) noexcept;

// A decimal number with at most `max` as value; no sign, no spaces.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) noexcept;

}  // namespace sip
