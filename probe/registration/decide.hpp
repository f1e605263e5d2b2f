// probe/registration/decide.hpp — the pure decisions of a registration (RFC 3261 §10.2,
// §22.2; RFC 7616; RFC 8760): given the final response to our latest REGISTER, what
// to do next, and what a 200 OK says about our binding. No I/O: table-tested.
#pragma once

#include "probe/core/catalog.hpp"
#include "sip/digest.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace probe::registration {

// What we have done so far in this registration.
struct exchange_state {
  bool sent_authorization = false;        // the latest request carried Authorization
  bool sent_proxy_authorization = false;  // … Proxy-Authorization
  bool stale_retried = false;             // RFC 7616 §3.3: one retry with the fresh nonce
  bool expires_retried = false;           // one retry with Min-Expires (RFC 3261 §10.2.8)
  std::uint32_t expires = 3600;           // what the latest request asked for
  bool query = false;                     // no Contact: a binding query (RFC 3261 §10.2.3)
};

enum class next_step {
  answer_challenge,  // send again with credentials for `challenge`
  retry_stale,       // same, the server said stale=true (a new nonce, not a new password)
  retry_expires,     // send again with Expires = new_expires
  finished,          // `code` is the outcome
};

struct decision {
  next_step step = next_step::finished;
  diagnosis_code code = diagnosis_code::unexpected_response;
  std::vector<std::string> evidence;
  bool proxy = false;  // the challenge is a 407 (Proxy-Authorization)
  std::optional<sip::digest_challenge> challenge;
  sip::digest_qop qop = sip::digest_qop::none;
  std::string choice_reason;  // "SHA-256 preferred over MD5 (RFC 8760)"
  std::uint32_t new_expires = 0;
};

// Decides from the final response `m` to the latest request.
decision decide(const exchange_state& st, const sip::message_view& m);

// A binding listed in a 200 OK.
struct listed_binding {
  std::string contact;        // URI as written
  std::int64_t expires = -1;  // its expires param, or the Expires header, or -1
  bool ours = false;
  std::string gruu;  // its pub-gruu (RFC 5627 §5.2), unquoted; "" when none
};

struct binding_summary {
  std::vector<listed_binding> bindings;
  std::int64_t granted = -1;  // expiry granted to our Contact (-1: not listed)
  bool ours_listed = false;
  std::string our_gruu;  // the pub-gruu the registrar gave our Contact ("" when none)
};

// Reads the Contact list of a 200 OK and finds ours (same scheme, user, host and port:
// RFC 3261 §10.3 step 6 compares URIs, we compare the parts a registrar must keep).
binding_summary read_bindings(const sip::message_view& ok, const std::string& our_contact);

// True when two SIP URIs name the same binding (scheme, user, host case-insensitive, port
// with the scheme's default). Unparsable URIs never match.
bool same_contact(const std::string& a, const std::string& b);

}  // namespace probe::registration
