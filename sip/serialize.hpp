// sip/serialize.hpp — building requests: REGISTER and OPTIONS as value types, then bytes.
//
// The builder never trusts its inputs: every value is checked for CR, LF and other control
// bytes (a user-supplied --header or display name must not inject a header), and the
// result is a complete message with Content-Length, ready for any transport.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sip {

struct header_field {
  std::string name;
  std::string value;
};

// A request ready to be written. Content-Length is computed by serialize().
struct request {
  std::string method;
  std::string uri;
  std::vector<header_field> headers;
  std::string body;
};

// Checks every field: method and header names are tokens, no control bytes in values,
// no Content-Length among the headers (serialize() writes it).
std::error_code validate(const request& req);

// Writes the request in wire form (CRLF line ends, Content-Length last before the body).
// Fails with errc::bad_builder_input when a field would produce an invalid message.
std::error_code serialize(const request& req, std::string& out);

// The topmost Via of a request we send (RFC 3261 §8.1.1.7, RFC 3581 rport).
struct via_spec {
  std::string transport = "UDP";  // UDP, TCP or TLS
  std::string host;               // sent-by host: IPv4, IPv6 (without brackets) or name
  std::uint16_t port = 0;         // 0 leaves the port out
  std::string branch;             // must start with z9hG4bK
  bool rport = true;              // ask the server to report our source port
};

// What a client request of ours carries (RFC 3261 §8.1.1).
struct request_spec {
  std::string method = "REGISTER";
  std::string request_uri;   // REGISTER: the registrar domain (sip:example.com)
  std::string to_uri;        // REGISTER: the address of record
  std::string from_uri;      // REGISTER: usually the AOR too
  std::string from_display;  // optional display name (quoted on output)
  std::string from_tag;
  std::string call_id;
  std::uint32_t cseq = 1;
  via_spec via;
  std::optional<std::string> contact;         // URI; "*" for remove-all; nullopt: no Contact
  std::string contact_params;                 // written after the Contact's <URI>: ";+sip.instance=…"
  std::optional<std::uint32_t> expires;       // Expires header
  std::string user_agent;                     // empty: "sipprobe/<version>"
  std::vector<header_field> extra;            // user-given headers, written as given
  std::optional<header_field> authorization;  // Authorization or Proxy-Authorization
};

// Builds the request from the spec; errors as for serialize(), plus a missing field
// (request URI, To, From, tag, Call-ID, branch, Via host) or a branch without the cookie.
std::error_code build_request(const request_spec& spec, request& out);

// The bytes build_request() then serialize() would give, written straight from the spec
// (what a client sends, once per request). On error `wire` is left as it was.
std::error_code build_wire(const request_spec& spec, std::string& wire);

// "sipprobe/<version>".
const std::string& default_user_agent();

// Formats a host for a Via sent-by or URI: IPv6 literals get brackets.
std::string host_for_uri(std::string_view host);

}  // namespace sip
