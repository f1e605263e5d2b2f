// sip/uri.hpp — SIP, SIPS (RFC 3261 §19.1, §25.1) and TEL (RFC 3966) URIs.
//
// parse_uri() validates the whole URI and stores it decoded: %-escapes in the user,
// password, parameters and headers are resolved, so "sip:%61lice@h" and "sip:alice@h"
// give equal fields. to_string() re-escapes what the grammar requires, so
// parse_uri(u.to_string()) gives `u` back.
//
// detail::scan_uri() is the allocation-free validator behind parse_uri(); the message
// parser uses it on the Request-URI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace sip {

struct uri {
  std::string scheme;      // "sip", "sips" or "tel", lower case
  std::string user;        // decoded; for tel: the number ("+1-201-555-0123")
  std::string password;    // decoded; empty when absent
  std::string host;        // without the brackets of an IPv6 reference; empty for tel
  bool ipv6 = false;       // host is an IPv6 literal
  std::uint16_t port = 0;  // 0 = absent (":0" is rejected)
  // `;name[=value]` in order, decoded; a parameter without value has an empty value.
  std::vector<std::pair<std::string, std::string>> params;
  // `?name=value&...` in order, decoded.
  std::vector<std::pair<std::string, std::string>> headers;

  // Canonical text form: scheme lower case, reserved characters %-escaped.
  std::string to_string() const;
  // "host", "host:port", "[v6]" or "[v6]:port".
  std::string host_port() const;
  // Value of the first parameter named `name` (case-insensitive); "" for a flag
  // parameter like ";lr", nullopt when absent.
  std::optional<std::string> param(std::string_view name) const;
  std::optional<std::string> header(std::string_view name) const;
};

// Parses `text` (no surrounding LWS or <>). Errors: bad_uri (no scheme/empty),
// bad_uri_scheme (not sip/sips/tel), bad_uri_user, bad_uri_host, bad_uri_port,
// bad_uri_parameter, bad_uri_header, bad_escape. `out` is unspecified on error.
std::error_code parse_uri(std::string_view text, uri& out);

// Decodes %HH escapes; errc::bad_escape on a malformed one.
std::error_code percent_decode(std::string_view in, std::string& out);

namespace detail {

// The parts of a sip/sips/tel URI as views into the text, still escaped.
struct uri_parts {
  std::string_view scheme, user, password, host;
  bool has_userinfo = false;
  bool has_password = false;
  bool ipv6 = false;
  std::uint16_t port = 0;
  std::string_view params;   // ";a=b;c" including the leading ';' (may be empty)
  std::string_view headers;  // "a=b&c=d" without the '?' (may be empty)
  bool has_headers = false;
};

// Validates `text` as a URI of a supported scheme; no allocation.
std::error_code scan_uri(std::string_view text, uri_parts& out) noexcept;
// True for an absoluteURI of any scheme: scheme ":" 1*(visible, non-space chars).
bool is_absolute_uri(std::string_view text) noexcept;
bool is_ipv6_literal(std::string_view text) noexcept;  // without brackets
bool is_ipv4_literal(std::string_view text) noexcept;
bool is_hostname(std::string_view text) noexcept;  // RFC 3261 §25.1 hostname

}  // namespace detail
}  // namespace sip
