#include "sip/error.hpp"

namespace sip {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sip"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::need_more: return "message incomplete, more bytes needed";
      case errc::empty_message: return "empty message";
      case errc::message_too_large: return "message exceeds the size limit";
      case errc::too_many_headers: return "too many header fields";
      case errc::line_too_long: return "header line exceeds the length limit";
      case errc::bad_start_line: return "malformed start line";
      case errc::bad_method: return "malformed method";
      case errc::bad_request_uri: return "malformed Request-URI";
      case errc::bad_version: return "unsupported or malformed SIP version";
      case errc::bad_status_code: return "malformed status code";
      case errc::bad_reason_phrase: return "malformed reason phrase";
      case errc::bad_header_line: return "malformed header line (expected 'Name: value')";
      case errc::bad_header_name: return "malformed header name";
      case errc::bad_folding: return "continuation line without a header to continue";
      case errc::bad_line_ending: return "bare CR or control character in the header section";
      case errc::missing_header_end: return "header section not terminated by an empty line";
      case errc::missing_required_header: return "a mandatory header is missing";
      case errc::bad_content_length: return "malformed Content-Length";
      case errc::body_truncated: return "body shorter than Content-Length";
      case errc::missing_content_length: return "Content-Length is mandatory on stream transports";
      case errc::bad_cseq: return "malformed CSeq";
      case errc::bad_via: return "malformed Via";
      case errc::bad_name_addr: return "malformed name-addr (From/To/Contact)";
      case errc::bad_parameter: return "malformed header parameter";
      case errc::bad_quoted_string: return "unterminated or malformed quoted string";
      case errc::bad_number: return "malformed number";
      case errc::bad_uri: return "malformed URI";
      case errc::bad_uri_scheme: return "unsupported URI scheme";
      case errc::bad_uri_user: return "malformed URI user part";
      case errc::bad_uri_host: return "malformed URI host";
      case errc::bad_uri_port: return "malformed URI port";
      case errc::bad_uri_parameter: return "malformed URI parameter";
      case errc::bad_uri_header: return "malformed URI header";
      case errc::bad_escape: return "malformed %-escape";
      case errc::bad_builder_input: return "value not allowed in a SIP message";
      case errc::random_failure: return "random number generator failed";
      case errc::header_absent: return "header not present";
      case errc::duplicate_header: return "single-valued header appears more than once";
      case errc::bad_header_value: return "malformed header value";
    }
    return "unknown sip error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace sip
