// sip/message.hpp — the parsed form of a SIP message (RFC 3261 §7).
//
// message_view is zero-copy: every std::string_view in it points into the buffer given
// to sip::parse() (sip/parse.hpp) and is valid only while that buffer is alive and
// unchanged. to_owned() copies the bytes into an owned_message that can be stored.
//
// Header values are trimmed of surrounding LWS but otherwise raw: a folded value still
// contains its CRLF + SP/HTAB continuation (RFC 3261 §7.3.1 says it equals one SP); the
// sip/scan.hpp helpers and the typed accessors of sip/headers.hpp treat it as LWS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sip {

// Headers sipprobe knows by name. `other` is any header not listed here.
enum class header_id : std::uint8_t {
  other,
  via,
  from,
  to,
  call_id,
  cseq,
  contact,
  max_forwards,
  expires,
  min_expires,
  content_length,
  content_type,
  content_encoding,
  content_disposition,
  content_language,
  www_authenticate,
  proxy_authenticate,
  authorization,
  proxy_authorization,
  authentication_info,
  retry_after,
  user_agent,
  server,
  allow,
  supported,
  require,
  proxy_require,
  unsupported,
  route,
  record_route,
  path,
  service_route,
  subject,
  event,
  allow_events,
  refer_to,
  referred_by,
  session_expires,
  min_se,
  accept,
  accept_encoding,
  accept_language,
  accept_contact,
  reject_contact,
  request_disposition,
  identity,
  identity_info,
  date,
  warning,
  timestamp,
  organization,
  priority,
  reply_to,
  in_reply_to,
  alert_info,
  call_info,
  error_info,
  mime_version,
  p_asserted_identity,
  p_preferred_identity,
  privacy,
  reason,
  rseq,
  rack,
  subscription_state,
  security_client,
  security_server,
  security_verify,
  count_  // number of ids; not a header
};

// Full or compact name (RFC 3261 §7.3.3 and the extensions' compact forms), any case.
header_id lookup_header(std::string_view name) noexcept;
// The canonical spelling ("Call-ID", "CSeq", "WWW-Authenticate"); "" for `other`.
std::string_view canonical_name(header_id id) noexcept;
// True for headers whose value is a comma-separated list that may be split or combined
// (RFC 3261 §7.3.1): Via, Contact, Route, Allow, Supported, ... False for the
// authentication headers (their commas separate parameters), Date, and `other`.
bool is_list_header(header_id id) noexcept;

struct header_view {
  std::string_view name;   // as written (may be compact, any case)
  std::string_view value;  // trimmed; may contain folded line breaks
  header_id id = header_id::other;
};

struct message_view {
  std::string_view raw;              // the whole message, start line to the end of the body
  std::string_view method;           // request only
  std::string_view request_uri;      // request only
  std::string_view version;          // "SIP/2.0" as written
  int status = 0;                    // response status code; 0 for a request
  std::string_view reason;           // response reason phrase (may be empty)
  std::vector<header_view> headers;  // in message order
  std::string_view body;

  bool is_request() const noexcept { return status == 0; }
  // First header with this id / this name (full or compact, any case), or nullptr.
  const header_view* find(header_id id) const noexcept;
  const header_view* find(std::string_view name) const noexcept;
  std::size_t count(header_id id) const noexcept;
  // Appends every value of the header in message order. List headers are split at
  // top-level commas (quotes and <...> respected); other headers give one value per
  // header line, whole. Errors: bad_quoted_string (unterminated quote in a list).
  std::error_code values(header_id id, std::vector<std::string_view>& out) const;
  std::error_code values(std::string_view name, std::vector<std::string_view>& out) const;
  // Empties the view; keeps the capacity of `headers` so a reused view stops allocating.
  void clear() noexcept;
};

// A message_view together with a private copy of its bytes: a value type that can be
// stored, moved and copied. Views stay valid across moves (the bytes live on the heap).
class owned_message {
 public:
  owned_message() = default;
  explicit owned_message(const message_view& v);
  // Takes the buffer a message was parsed from, and the view parsed from it: no copy.
  // `v` must lie inside `bytes`.
  owned_message(std::string&& bytes, message_view&& v);
  owned_message(const owned_message& o);
  owned_message& operator=(const owned_message& o);
  owned_message(owned_message&& o) noexcept;
  owned_message& operator=(owned_message&& o) noexcept;
  ~owned_message() = default;

  const message_view& view() const noexcept { return view_; }
  const message_view* operator->() const noexcept { return &view_; }
  const message_view& operator*() const noexcept { return view_; }

 private:
  std::string bytes_;
  message_view view_;
};

// Copies v.raw and re-points every view of `v` into the copy. Views of `v` that do not
// lie inside v.raw come back empty.
owned_message to_owned(const message_view& v);

// Writes the message back: start line, each header as "Canonical-Name: value" (original
// name for `other`) with folding undone, CRLF line ends, an empty line, the body as is.
std::string serialize(const message_view& v);

}  // namespace sip
