#include "sip/serialize.hpp"

#include "sip/error.hpp"
#include "sip/scan.hpp"

#include <array>
#include <charconv>

namespace sip {
namespace {

// A header value may hold any byte but CR, LF and NUL (and other C0 controls except HTAB):
// anything else would end the header early or smuggle in another one.
bool safe_value(std::string_view v) noexcept {
  for (std::size_t i = find_control(v.data(), 0, v.size()); i < v.size(); i = find_control(v.data(), i + 1, v.size()))
    if (v[i] != '\t') return false;
  return true;
}

bool safe_token(std::string_view v) noexcept {
  if (v.empty()) return false;
  for (char c : v)
    if (!is_token_char(c)) return false;
  return true;
}

bool has_space(std::string_view v) noexcept {
  // By hand: find_first_of(" \t") costs a memchr per byte.
  for (char c : v)
    if (c == ' ' || c == '\t') return true;
  return false;
}

std::string quote(std::string_view s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q.push_back('\\');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

// An URI goes inside <…>, so it may not contain '>' or white space.
// Bytes a URI we write between < and > must not hold: controls, DEL, white space, < and >.
inline constexpr auto uri_stop = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : {'\x7f', ' ', '<', '>'}) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// One pass with a table: every request carries three URIs.
bool safe_uri(std::string_view v) noexcept {
  bool bad = v.empty();
  for (unsigned char c : v) bad |= uri_stop[c];
  return !bad;
}

bool safe_header(std::string_view name, std::string_view value) noexcept {
  // Content-Length is ours to write: a second one would make the framing ambiguous.
  return safe_token(name) && safe_value(value) && !iequals(name, "Content-Length") && !iequals(name, "l");
}

// A host for a Via sent-by or URI: IPv6 literals get brackets.
void append_host(std::string& out, std::string_view host) {
  const bool bracket = host.find(':') != std::string_view::npos && host.front() != '[';
  if (bracket) out.append("[");
  out.append(host);
  if (bracket) out.append("]");
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

}  // namespace

const std::string& default_user_agent() {
  static const std::string agent = std::string("sipprobe/") + SIPPROBE_VERSION;
  return agent;
}

std::string host_for_uri(std::string_view host) {
  std::string out;
  append_host(out, host);
  return out;
}

std::error_code validate(const request& req) {
  if (!safe_token(req.method) || !safe_uri(req.uri)) return errc::bad_builder_input;
  for (const auto& h : req.headers)
    if (!safe_header(h.name, h.value)) return errc::bad_builder_input;
  return {};
}

namespace {

void write_wire(const request& req, std::string& out) {
  std::size_t size = req.method.size() + req.uri.size() + req.body.size() + 64;
  for (const auto& h : req.headers) size += h.name.size() + h.value.size() + 4;
  out.clear();
  out.reserve(size);
  out.append(req.method).append(" ").append(req.uri).append(" SIP/2.0\r\n");
  for (const auto& h : req.headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n\r\n");
  out.append(req.body);
}

}  // namespace

std::error_code serialize(const request& req, std::string& out) {
  if (auto ec = validate(req)) return ec;
  write_wire(req, out);
  return {};
}

namespace {

// Everything build_request() and build_wire() take from the spec, checked once: every
// header they assemble is made of these parts, so a good spec gives a valid message.
std::error_code check_spec(const request_spec& s) {
  if (s.request_uri.empty() || s.to_uri.empty() || s.from_uri.empty() || s.from_tag.empty() || s.call_id.empty() ||
      s.via.host.empty())
    return errc::bad_builder_input;
  // RFC 3261 §8.1.1.7: the magic cookie marks an RFC 3261 branch.
  if (s.via.branch.rfind("z9hG4bK", 0) != 0 || !safe_token(s.via.branch)) return errc::bad_builder_input;
  if (!safe_token(s.method) || !safe_uri(s.request_uri) || !safe_token(s.via.transport) || !safe_token(s.from_tag) ||
      !safe_value(s.call_id) || has_space(s.call_id) || !safe_value(s.from_display) || !safe_uri(s.to_uri) ||
      !safe_uri(s.from_uri) || !safe_value(s.via.host) || has_space(s.via.host) || !safe_value(s.user_agent))
    return errc::bad_builder_input;
  if (s.contact && *s.contact != "*" && !safe_uri(*s.contact)) return errc::bad_builder_input;
  // Header parameters of a real Contact only, each ";name[=value]" as a caller wrote it.
  if (!s.contact_params.empty() && (!s.contact || *s.contact == "*" || s.contact_params.front() != ';' ||
                                    !safe_value(s.contact_params) || has_space(s.contact_params)))
    return errc::bad_builder_input;
  if (s.authorization && !safe_header(s.authorization->name, s.authorization->value)) return errc::bad_builder_input;
  for (const auto& h : s.extra)
    if (!safe_header(h.name, h.value)) return errc::bad_builder_input;
  return {};
}

}  // namespace

// The hot path of every request sipprobe sends: straight from the spec to the bytes, with
// the same header order and text as build_request() + serialize() (a unit test holds the
// two together), and no intermediate request.
std::error_code build_wire(const request_spec& s, std::string& wire) {
  if (auto ec = check_spec(s)) return ec;
  std::size_t size = 160 + s.method.size() * 2 + s.request_uri.size() + s.via.transport.size() + s.via.host.size() +
                     s.via.branch.size() + s.from_display.size() * 2 + s.from_uri.size() + s.from_tag.size() + s.to_uri.size() +
                     s.call_id.size() + (s.contact ? s.contact->size() : 0) + s.contact_params.size() + s.user_agent.size();
  if (s.authorization) size += s.authorization->name.size() + s.authorization->value.size() + 4;
  for (const auto& h : s.extra) size += h.name.size() + h.value.size() + 4;
  if (s.user_agent.empty()) size += 32;
  wire.clear();
  wire.reserve(size);
  wire.append(s.method).append(" ").append(s.request_uri).append(" SIP/2.0\r\n");
  wire.append("Via: SIP/2.0/").append(s.via.transport).append(" ");
  append_host(wire, s.via.host);
  if (s.via.port != 0) wire.append(":"), append_number(wire, s.via.port);
  if (s.via.rport) wire.append(";rport");  // RFC 3581 §3: empty rport asks for the source port
  wire.append(";branch=").append(s.via.branch).append("\r\n");
  wire.append("Max-Forwards: 70\r\nFrom: ");  // RFC 3261 §8.1.1.6
  if (!s.from_display.empty()) wire.append(quote(s.from_display)).append(" ");
  wire.append("<").append(s.from_uri).append(">;tag=").append(s.from_tag).append("\r\n");
  wire.append("To: <").append(s.to_uri).append(">\r\n");
  wire.append("Call-ID: ").append(s.call_id).append("\r\n");
  wire.append("CSeq: "), append_number(wire, s.cseq), wire.append(" ").append(s.method).append("\r\n");
  if (s.contact) {
    if (*s.contact == "*") wire.append("Contact: *\r\n");
    else wire.append("Contact: <").append(*s.contact).append(">").append(s.contact_params).append("\r\n");
  }
  if (s.expires) wire.append("Expires: "), append_number(wire, *s.expires), wire.append("\r\n");
  if (s.authorization) wire.append(s.authorization->name).append(": ").append(s.authorization->value).append("\r\n");
  wire.append("User-Agent: ").append(s.user_agent.empty() ? default_user_agent() : s.user_agent).append("\r\n");
  for (const auto& h : s.extra) wire.append(h.name).append(": ").append(h.value).append("\r\n");
  wire.append("Content-Length: 0\r\n\r\n");
  return {};
}

std::error_code build_request(const request_spec& s, request& out) {
  // The headers are assembled in one place, build_wire(); this splits its lines back
  // into fields (they are ours: "Name: value", no CR or LF inside a value).
  std::string wire;
  if (auto ec = build_wire(s, wire)) return ec;
  std::string_view rest = wire;
  auto next_line = [&rest] {
    const auto end = rest.find("\r\n");
    const auto line = rest.substr(0, end);
    rest.remove_prefix(end + 2);
    return line;
  };
  out = request{};
  const auto start = next_line();  // METHOD SP Request-URI SP SIP/2.0
  const auto sp = start.find(' ');
  out.method = start.substr(0, sp);
  out.uri = start.substr(sp + 1, start.rfind(' ') - sp - 1);
  for (auto line = next_line(); !line.empty(); line = next_line()) {
    const auto colon = line.find(": ");
    const auto name = line.substr(0, colon);
    if (name == "Content-Length") continue;  // serialize() writes it
    out.headers.push_back({std::string(name), std::string(line.substr(colon + 2))});
  }
  return {};
}

}  // namespace sip
