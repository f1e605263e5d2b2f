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

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace probe::locate {

struct dns_target {
  std::string scheme;  // "sip", "sips" or "" (no scheme given)
  std::string user;    // "" when none
  std::string host;    // domain (lower case, no trailing dot) or IP literal (no brackets)
  std::optional<std::uint16_t> port;
  std::optional<netcheck::transport> transport;  // from ;transport= (sips + tcp → tls)
  bool secure() const noexcept { return scheme == "sips"; }
};

// Parses `text`; on failure returns nullopt and sets `error` to one line for the user that
// says what is wrong without quoting `text` (it may be an option's value, and a value may
// be a secret typed in the wrong place).
std::optional<dns_target> parse_dns_target(std::string_view text, std::string& error);

}  // namespace probe::locate
