// probe/locate/error.hpp — error codes of the locate room: why a target the user typed
// (target.hpp) cannot be used.
//
// The messages are what the user reads after "cannot use the value: ": they say what is
// wrong without quoting the text, which may be a secret typed in the wrong place.
#pragma once

#include <string>
#include <system_error>

namespace probe::locate {

enum class errc {
  ok = 0,
  empty_target = 1,
  space_or_control,           // a space or a control character anywhere in the text
  unsupported_scheme,         // "tel:…", "http:…": only sip:, sips:, a domain or host:port
  empty_user,                 // "@example.com"
  parameters_without_scheme,  // "example.com;transport=tcp"
  missing_bracket,            // "[::1" without its ']'
  text_after_bracket,         // "[::1]x"
  empty_port,                 // "example.com:"
  bad_bracketed_ipv6,         // "[example.com]"
  bad_ipv6,                   // an IPv6 address with a port but no brackets, or in a URI
  bad_port,                   // not a number from 1 to 65535
  empty_host,
  host_too_long,          // more than 253 characters (RFC 1035 §2.3.4)
  empty_label,            // "a..b"
  label_too_long,         // more than 63 characters (RFC 1035 §2.3.4)
  bad_host_character,     // target_error::character names it
  not_ipv4,               // only digits and dots, but not an IPv4 address
  unsupported_transport,  // transport= other than udp, tcp or tls
  sips_over_udp,          // sips: with transport=udp (RFC 3261 §26.2: SIPS needs TLS)
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace probe::locate

template <>
struct std::is_error_code_enum<probe::locate::errc> : std::true_type {};
