// probe/analyze/headers.hpp — what the analysis reads of a REGISTER and its answers, shared
// by the attempt tracker, the diagnosis and the findings: credentials and challenges,
// expiries and Contacts (RFC 3261 §10.2), and a plain scan of bytes that did not parse.
#pragma once

#include "sip/digest.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probe::analyze {

// The credentials of a request: Authorization, else Proxy-Authorization (`proxy` tells
// which). nullopt when there are none or they do not parse.
std::optional<sip::digest_credentials> credentials(const sip::message_view& m, bool* proxy = nullptr);

// The challenges of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
std::vector<sip::digest_challenge> challenges(const sip::message_view& m);

// Expiry asked for: the first Contact's ;expires, else the Expires header (RFC 3261
// §10.2.1.1); -1 when neither says.
std::int64_t requested_expires(const sip::message_view& m);

// The request removes bindings: Contact: * (RFC 3261 §10.2.2), or every Contact's expiry
// (its ;expires, else the Expires header) is 0.
bool is_removal(const sip::message_view& m);

// The first Contact of a message (not "*"), parsed.
std::optional<sip::name_addr> first_contact(const sip::message_view& m);

// "user@host:port" of a Contact, the port defaulted (5060, 5061 for sips): what tells a
// binding apart in a registrar's list.
std::string contact_key(const sip::name_addr& c);

// The value of the first header line `name` (or its compact form, when not empty) in bytes
// that may not parse as SIP: a plain, case-insensitive scan of the lines before the first
// empty one; "" when absent.
std::string_view scan_header(std::string_view bytes, std::string_view name, std::string_view compact);

// Whether the reason phrase of a status line names the nonce ("nonce has changed", "stale
// nonce", …): the registrar refused the nonce, not necessarily the password.
bool reason_names_nonce(std::string_view raw) noexcept;

}  // namespace probe::analyze
