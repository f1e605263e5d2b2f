// probe/locate/target.hpp — what `sipprobe dns` accepts as its target, reduced to an RFC 3263
// request: a domain, an AOR, a SIP/SIPS URI or host[:port].
//
//   example.com   host:port   [::1]:5070   ::1   127.0.0.1   alice@example.com
//   sip:alice@example.com   sips:alice@example.com:5061;transport=tcp   <sip:example.com>
//
// Deliberately tiny: only what locating the server needs (scheme, host, port, transport
// parameter). The full RFC 3261 URI grammar lives in sip/uri.hpp.
#pragma once

#include "netcheck/rfc3263.hpp"
#include "probe/core/expected.hpp"
#include "probe/locate/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace probe::locate {

struct dns_target {
  std::string scheme;  // "sip", "sips" or "" (no scheme given)
  std::string user;    // "" when none
  std::string host;    // domain (lower case, no trailing dot) or IP literal (no brackets)
  std::optional<std::uint16_t> port;
  std::optional<netcheck::transport> transport;  // from ;transport= (sips + tcp → tls)
  bool secure() const noexcept { return scheme == "sips"; }
};

// Why a text is not a target: a locate::errc, and for errc::bad_host_character the
// character. Nothing else of the text: it may be an option's value, and a value may be a
// secret typed in the wrong place.
struct target_error {
  std::error_code code;
  char character = 0;
  // One line for the user: "empty port after ':'", "character '$' not allowed in a host name".
  std::string message() const;
};

// Parses `text` into the target, or says why it is not one.
expected<dns_target, target_error> parse_dns_target(std::string_view text);

}  // namespace probe::locate
