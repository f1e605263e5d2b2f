// sip/error.hpp — error codes of the sip layer (parser, URI, headers, builder).
//
// Every public function of sip/ that can fail on input reports a std::error_code
// built from sip::errc; none throws or asserts on input.
#pragma once

#include <string>
#include <system_error>

namespace sip {

enum class errc {
  ok = 0,
  // framing and limits
  need_more = 1,  // stream: the message is not complete yet (not a failure)
  empty_message,
  message_too_large,  // over parse_options::max_message (64 KiB)
  too_many_headers,   // over parse_options::max_headers (256)
  line_too_long,      // a header line over parse_options::max_line (8 KiB)
  // start line
  bad_start_line,
  bad_method,
  bad_request_uri,
  bad_version,
  bad_status_code,
  bad_reason_phrase,
  // headers
  bad_header_line,  // no colon, or whitespace inside the header name
  bad_header_name,
  bad_folding,              // continuation line before any header
  bad_line_ending,          // bare CR, or NUL / control byte in a header
  missing_header_end,       // datagram ended inside the header section
  missing_required_header,  // strict mode: no Via, From, To, Call-ID or CSeq
  bad_content_length,
  body_truncated,          // Content-Length larger than the bytes present (datagram)
  missing_content_length,  // stream framing without Content-Length
  bad_cseq,
  bad_via,
  bad_name_addr,
  bad_parameter,
  bad_quoted_string,
  bad_number,
  // URI
  bad_uri,
  bad_uri_scheme,
  bad_uri_user,
  bad_uri_host,
  bad_uri_port,
  bad_uri_parameter,
  bad_uri_header,
  bad_escape,
  // builder
  bad_builder_input,  // a value would produce an invalid message (CR/LF injection…)
  random_failure,     // RAND_bytes failed
  // added with the parser
  header_absent,     // a typed accessor found no such header (not a parse error)
  duplicate_header,  // strict mode: a single-valued header (From, To, Call-ID, CSeq, Max-Forwards) repeated
  bad_header_value,  // a header value that its accessor cannot read (Call-ID, Max-Forwards...)
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace sip

template <>
struct std::is_error_code_enum<sip::errc> : std::true_type {};
