// sip/headers.hpp — typed values of the headers sipprobe reads (RFC 3261 §20).
//
// The parse_* functions read one header value (as found in a header_view). Views in the
// results (std::string_view, sip::param) point into that value, hence into the message
// buffer: same lifetime as the message_view. name_addr::display_name and the uri are
// decoded copies.
//
// The accessors in namespace sip::get read a header of a message_view. Each returns
// std::error_code: errc::header_absent when the message has no such header, the parse
// error when it is malformed. The first header line is used for single-valued headers.
#pragma once

#include "sip/message.hpp"
#include "sip/parse.hpp"
#include "sip/scan.hpp"
#include "sip/uri.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sip {

// One via-parm (RFC 3261 §20.42): "SIP/2.0/UDP host:port;branch=...;received=...;rport".
struct via {
  std::string_view protocol_name;     // "SIP"
  std::string_view protocol_version;  // "2.0"
  std::string_view transport;         // as written: "UDP", "tcp", "TLS", "WSS"...
  std::string_view host;              // sent-by host, without the [] of an IPv6 reference
  bool ipv6 = false;
  std::uint16_t port = 0;  // sent-by port; 0 = absent
  std::vector<sip::param> params;

  std::string_view branch() const noexcept;  // "" when absent
  std::optional<std::string_view> received() const noexcept;
  bool has_rport() const noexcept;                      // ";rport" with or without a value
  std::optional<std::uint16_t> rport() const noexcept;  // the value of ";rport=N"
  std::optional<std::string_view> param(std::string_view name) const noexcept;
};

// From, To, Contact, Route... (RFC 3261 §20.10, §25.1 name-addr / addr-spec).
struct name_addr {
  std::string display_name;        // unquoted and unescaped; "" when absent
  bool angle = false;              // written as name-addr (<...>) rather than addr-spec
  std::string_view uri_text;       // the URI as written
  uri addr;                        // decoded URI when the scheme is sip, sips or tel
  std::error_code uri_error;       // errc::bad_uri_scheme for any other (valid) scheme
  std::vector<sip::param> params;  // header parameters: tag, expires, q, +sip.instance...

  std::string_view tag() const noexcept;  // "" when absent
  std::optional<std::string_view> param(std::string_view name) const noexcept;
  // Contact ;expires=N (RFC 3261 §20.10); nullopt when absent or malformed.
  std::optional<std::uint32_t> expires() const noexcept;
  // Contact ;q= in thousandths (RFC 3261 §20.10 qvalue "0.5" -> 500); nullopt when absent
  // or malformed.
  std::optional<std::uint16_t> q() const noexcept;
};

struct cseq {
  std::uint32_t number = 0;  // < 2**31 (RFC 3261 §8.1.1.5)
  std::string_view method;
};

// RFC 3261 §20.33: Retry-After: delta-seconds [ comment ] *( SEMI retry-param )
struct retry_after {
  std::uint32_t seconds = 0;
  std::string_view comment;  // inside the outer parentheses, escapes left in
  std::optional<std::uint32_t> duration;
  std::vector<sip::param> params;
};

std::error_code parse_via(std::string_view one, via& out);  // errc::bad_via
// Appends each comma-separated via-parm of a Via value.
std::error_code parse_via_list(std::string_view value, std::vector<via>& out);
// errc::bad_name_addr, bad_quoted_string, bad_parameter or a URI error.
std::error_code parse_name_addr(std::string_view value, name_addr& out);
// Appends each contact; `star` is set for "Contact: *" (RFC 3261 §10.2.2), which must
// stand alone.
std::error_code parse_contact_list(std::string_view value, std::vector<name_addr>& out, bool& star);
std::error_code parse_cseq(std::string_view value, cseq& out);  // errc::bad_cseq
// delta-seconds = 1*DIGIT, at most 2**32-1 (errc::bad_number otherwise, RFC 4475 §3.1.2.11).
std::error_code parse_delta_seconds(std::string_view value, std::uint32_t& out);
std::error_code parse_retry_after(std::string_view value, retry_after& out);

// The branch parameter of the first via-parm of a Via header value, by a plain scan
// (RFC 3261 §20.42, §17.1.3: a client matches responses by it); "" when there is none.
std::string_view via_branch(std::string_view via_value) noexcept;

namespace get {

std::error_code top_via(const message_view& m, via& out);
// via_branch() of the top Via, without parsing the Via; "" when there is none.
std::string_view top_via_branch(const message_view& m) noexcept;
std::error_code vias(const message_view& m, std::vector<via>& out);  // all, in order
std::error_code from(const message_view& m, name_addr& out);
// The From tag without decoding the rest (the URI is checked for its shape only); "" when
// the From has no tag. Errors as for from() on a malformed header.
std::error_code from_tag(const message_view& m, std::string_view& tag);
std::error_code to(const message_view& m, name_addr& out);
std::error_code call_id(const message_view& m, std::string_view& out);
std::error_code cseq(const message_view& m, sip::cseq& out);
std::error_code contacts(const message_view& m, std::vector<name_addr>& out, bool& star);
std::error_code expires(const message_view& m, std::uint32_t& out);
std::error_code min_expires(const message_view& m, std::uint32_t& out);
std::error_code content_length(const message_view& m, std::uint32_t& out);
std::error_code max_forwards(const message_view& m, std::uint32_t& out);  // 0..255
std::error_code retry_after(const message_view& m, sip::retry_after& out);
std::error_code user_agent(const message_view& m, std::string_view& out);
std::error_code server(const message_view& m, std::string_view& out);
std::error_code allow(const message_view& m, std::vector<std::string_view>& out);
// Raw challenge / credentials values, one per header line, in order (sip/digest parses
// them). header_absent when there is none.
std::error_code www_authenticate(const message_view& m, std::vector<std::string_view>& out);
std::error_code proxy_authenticate(const message_view& m, std::vector<std::string_view>& out);
std::error_code authorization(const message_view& m, std::vector<std::string_view>& out);
std::error_code proxy_authorization(const message_view& m, std::vector<std::string_view>& out);

}  // namespace get

// Runs the typed parser of every known header present (Via, From, To, Call-ID, CSeq,
// Contact, Expires, Min-Expires, Max-Forwards, Retry-After, Content-Length, Route,
// Record-Route). Returns the first error; `offset` is relative to m.raw, `line` is the
// 1-based line in m.raw. Does not check that required headers are present (parse() does).
parse_result validate(const message_view& m);

}  // namespace sip
