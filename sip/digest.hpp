// sip/digest.hpp — HTTP Digest authentication as used by SIP (RFC 3261 §22.4, RFC 7616,
// RFC 8760): parse challenges (WWW-Authenticate / Proxy-Authenticate) and credentials
// (Authorization / Proxy-Authorization), choose the strongest challenge, compute the
// response, build the credentials header value, and verify captured credentials.
//
// Parsing (digest.cpp), choosing (digest_choose.cpp) and hashing / building / verifying
// (digest_compute.cpp) are pure functions: no I/O, no clock, no random source — the
// caller passes the cnonce in.
// Parsed values are owned (std::string) so a challenge can be kept across requests.
// No function throws or asserts on input; failures are std::error_code from digest_errc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sip {

enum class digest_errc {
  ok = 0,
  // parsing
  empty_value = 1,      // no challenge / credentials in the header value
  value_too_long,       // header value over digest_limits::max_value
  too_many_challenges,  // over digest_limits::max_challenges in one value
  too_many_params,      // over digest_limits::max_params in one challenge / credentials
  bad_scheme,           // no auth-scheme token where one is expected
  bad_auth_param,       // not `name=value` (or token68) where an auth-param is expected
  bad_quoted_string,    // unterminated quoted string
  duplicate_param,      // a parameter given twice (RFC 7235 §2.1)
  missing_realm,
  missing_nonce,
  bad_qop,  // empty qop, or not a single value in credentials
  missing_username,
  missing_uri,
  missing_response,
  missing_cnonce,        // qop present without cnonce (RFC 7616 §3.4)
  missing_nc,            // qop present without nc
  bad_nc,                // nc is not 8 hex digits
  bad_username_star,     // username* not an RFC 8187 ext-value, or given with username
  multiple_credentials,  // an Authorization value holding more than one credentials
  // choosing, computing, building
  unsupported_scheme,             // not Digest
  unsupported_algorithm,          // algorithm outside the six of RFC 7616 §3.2 / RFC 8760
  unsupported_qop,                // qop not auth / auth-int, or not one the challenge offered
  no_supported_challenge,         // for callers: choose_challenge found nothing usable
  bad_input,                      // CR, LF or another control byte in a value for a header (injection)
  bad_ha1,                        // precomputed HA1 is not hex of the algorithm's digest size
  missing_username_for_userhash,  // verify: userhash credentials need the clear username
  hash_failure,                   // OpenSSL EVP_Digest failed
};

const std::error_category& digest_category() noexcept;

inline std::error_code make_error_code(digest_errc e) noexcept { return {static_cast<int>(e), digest_category()}; }

}  // namespace sip

template <>
struct std::is_error_code_enum<sip::digest_errc> : std::true_type {};

namespace sip {

// Limits applied by the parsers.
struct digest_limits {
  static constexpr std::size_t max_value = 8192;     // bytes of one header value
  static constexpr std::size_t max_challenges = 16;  // challenges in one header value
  static constexpr std::size_t max_params = 32;      // auth-params per challenge
};

// RFC 7616 §3.2 / RFC 8760 §2.2 algorithms; anything else parses as `unknown`.
enum class digest_algorithm : std::uint8_t { md5, md5_sess, sha256, sha256_sess, sha512_256, sha512_256_sess, unknown };

// Quality of protection. `none` is the RFC 2069 form (no qop, no cnonce, no nc);
// `unknown` is a qop value in credentials other than auth / auth-int.
enum class digest_qop : std::uint8_t { none, auth, auth_int, unknown };

// Canonical spelling ("MD5", "SHA-512-256-sess", …; "unknown").
std::string_view to_string(digest_algorithm a) noexcept;
// "auth", "auth-int"; "" for none and unknown.
std::string_view to_string(digest_qop q) noexcept;
// Case-insensitive; an empty string is MD5 (RFC 7616 §3.3: absent means MD5).
digest_algorithm parse_digest_algorithm(std::string_view s) noexcept;
bool is_sess(digest_algorithm a) noexcept;

// An auth-param kept as received: name as sent, value with quoted-pairs resolved.
struct auth_param {
  std::string name;
  std::string value;
  bool quoted = false;
};

// One challenge of a WWW-Authenticate / Proxy-Authenticate value. Non-Digest schemes
// keep their scheme, token68 and params; the Digest fields stay empty for them.
struct digest_challenge {
  std::string scheme;   // as received: "Digest", "Basic", "Bearer", …
  std::string token68;  // non-Digest `Scheme token68` form
  std::string realm;
  std::vector<std::string> domain;  // domain="uri uri" split at spaces
  std::string nonce;
  std::optional<std::string> opaque;  // present (even empty) must be echoed back
  bool stale = false;                 // "true" case-insensitive; anything else is false
  digest_algorithm algorithm = digest_algorithm::md5;
  std::string algorithm_text;    // as received; empty when absent
  std::vector<std::string> qop;  // qop options in order; empty: none offered
  bool userhash = false;
  std::string charset;
  std::vector<auth_param> other;  // unknown params, in order

  bool is_digest() const noexcept;
  bool offers(digest_qop q) const noexcept;  // auth / auth-int listed in qop
};

// Credentials of an Authorization / Proxy-Authorization value.
struct digest_credentials {
  std::string scheme;
  std::string token68;         // non-Digest `Scheme token68` form (Basic)
  std::string username;        // username, or username* decoded to UTF-8
  bool username_star = false;  // came from username* (RFC 7616 §3.4.4, RFC 8187)
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  digest_algorithm algorithm = digest_algorithm::md5;
  std::string algorithm_text;  // as received; empty when absent
  std::string cnonce;
  std::optional<std::string> opaque;
  digest_qop qop = digest_qop::none;
  std::string qop_text;   // as received; empty when absent
  std::uint32_t nc = 0;   // 0 when absent
  bool userhash = false;  // `username` is H(username ":" realm)
  std::vector<auth_param> other;

  bool is_digest() const noexcept;
};

// Parses one WWW-Authenticate / Proxy-Authenticate value and appends its challenges to
// `out` (one header may carry several; several headers are several calls). Commas
// separate both auth-params and challenges: a new challenge starts at a token followed
// by whitespace and not by "=". Digest challenges need realm and nonce. On error nothing
// is appended and, when `error_offset` is given, it receives the byte offset in `value`.
std::error_code parse_challenges(std::string_view value, std::vector<digest_challenge>& out, std::size_t* error_offset = nullptr);

// Parses one Authorization / Proxy-Authorization value (exactly one credentials). Digest
// credentials need username (or username*), realm, nonce, uri and response; with qop also
// cnonce and nc. `out` is overwritten; on error its content is unspecified.
std::error_code parse_credentials(std::string_view value, digest_credentials& out, std::size_t* error_offset = nullptr);

// The result of choosing among challenges.
struct digest_choice {
  std::optional<std::size_t> index;   // into the challenges; nullopt: none usable
  digest_qop qop = digest_qop::none;  // the qop to answer with
  std::string reason;                 // one line for the report, e.g.
                                      // "SHA-256 preferred over MD5 (RFC 8760)" or
                                      // "no supported challenge; offered: Basic, …"
  std::vector<std::string> offered;   // one short description per challenge, in order
};

// Picks the strongest usable Digest challenge: SHA-512-256 > SHA-256 > MD5 (the -sess
// form ranks with its base algorithm), then qop: auth > auth-int > none when the body is
// not known (auth-int > auth > none when `body_known`), then header order (RFC 7616 §3.7:
// servers list the preferred first).
digest_choice choose_challenge(std::span<const digest_challenge> challenges, bool body_known = false);

// Everything the response depends on besides the challenge. Views must outlive the call.
struct digest_inputs {
  std::string_view username;  // clear username (hashed here when userhash)
  std::string_view password;  // used when `ha1` is empty
  std::string_view ha1;       // precomputed hex H(username:realm:password); for
                              // -sess algorithms it is re-hashed with nonce and
                              // cnonce (RFC 7616 §3.4.2)
  std::string_view method;    // "REGISTER"
  std::string_view uri;       // digest-uri: the Request-URI as sent
  std::string_view body;      // message body, for qop=auth-int
  std::string_view cnonce;    // caller-generated (RAND_bytes); unused for qop none
                              // unless the algorithm is a -sess one
  std::uint32_t nc = 1;       // nonce count
};

// Lower-case hex of H(data) for the algorithm (its -sess form hashes the same way).
std::error_code digest_hash_hex(digest_algorithm a, std::string_view data, std::string& out);
// nc as 8 lower-case hex digits ("00000001").
std::string format_nc(std::uint32_t nc);
// RFC 7616 §3.4.4: H(username ":" realm).
std::error_code compute_userhash(digest_algorithm a, std::string_view username, std::string_view realm, std::string& out);
// HA1 per RFC 7616 §3.4.2, -sess form included (then nonce and cnonce are used).
std::error_code compute_ha1(digest_algorithm a, std::string_view realm, std::string_view nonce, const digest_inputs& in,
                            std::string& out);
// The `response` value (RFC 7616 §3.4.1; RFC 2069 form for qop none).
std::error_code compute_response(digest_algorithm a, digest_qop qop, std::string_view realm, std::string_view nonce,
                                 const digest_inputs& in, std::string& out);

// Builds the Authorization / Proxy-Authorization value (without the header name) that
// answers `ch` with `qop` (which the challenge must offer; `none` only when it offers
// nothing). Quotes username, realm, nonce, uri, response, cnonce, opaque (escaping `"`
// and `\`); algorithm, qop and nc are tokens. Control bytes (CR, LF, …) in any value
// give digest_errc::bad_input so nothing can inject a header.
std::error_code build_authorization(const digest_challenge& ch, digest_qop qop, const digest_inputs& in, std::string& out);

// Field-by-field verification of captured credentials against the challenge they answer.
enum class digest_mismatch : std::uint32_t {
  none = 0,
  scheme = 1u << 0,     // credentials are not Digest
  realm = 1u << 1,      // realm differs from the challenge's
  nonce = 1u << 2,      // nonce differs from the challenge's
  uri = 1u << 3,        // uri differs from the expected Request-URI
  algorithm = 1u << 4,  // algorithm differs from the challenge's
  qop = 1u << 5,        // qop not offered, or missing although offered
  opaque = 1u << 6,     // opaque not echoed unchanged
  username = 1u << 7,   // username (or its userhash) differs from the expected one
  userhash = 1u << 8,   // challenge asked for userhash, credentials did not use it
};

struct digest_verify_result {
  bool response_ok = false;          // the response hash matches the expected secret
  std::uint32_t mismatches = 0;      // bitmask of digest_mismatch
  std::vector<std::string> details;  // one line per mismatch or problem, for the report
  std::string expected_response;     // what the response should have been (empty if
                                     // it could not be computed)
  std::error_code error;             // why the response could not be computed

  bool has(digest_mismatch m) const noexcept { return (mismatches & static_cast<std::uint32_t>(m)) != 0; }
  bool ok() const noexcept { return response_ok && mismatches == 0; }
};

// Verifies `cr` against `ch`. The response is recomputed from the credentials' own
// realm, nonce, uri, algorithm, qop, cnonce and nc with `expect.password` (or
// `expect.ha1`), so `response_ok` answers "was the secret right?" independently of the
// field mismatches. `expect.uri` / `expect.username` are compared when non-empty;
// `expect.cnonce` and `expect.nc` are ignored (taken from the credentials).
digest_verify_result verify_credentials(const digest_challenge& ch, const digest_credentials& cr, const digest_inputs& expect);

}  // namespace sip
