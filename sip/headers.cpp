#include "sip/headers.hpp"

#include "sip/error.hpp"

namespace sip {
namespace {

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::size_t count_token(std::string_view s) noexcept {
  std::size_t n = 0;
  while (n < s.size() && is_token_char(s[n])) ++n;
  return n;
}

std::size_t count_digits(std::string_view s) noexcept {
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  return n;
}

std::optional<std::string_view> param_value(const std::vector<param>& ps, std::string_view name) noexcept {
  const sip::param* p = find_param(ps, name);
  if (p == nullptr) return std::nullopt;
  return p->value;
}

bool is_ip_literal(std::string_view s) noexcept {
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  return detail::is_ipv4_literal(s) || detail::is_ipv6_literal(s);
}

// RFC 3261 §25.1 callid = word [ "@" word ]; word is visible ASCII minus a few separators.
bool is_call_id(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == ';' || c == ',' || c == '=') return false;
  }
  return true;
}

std::error_code parse_route_list(std::string_view value) {
  std::vector<std::string_view> parts;
  if (auto ec = split_commas(value, parts)) return ec;
  if (parts.empty()) return errc::bad_name_addr;
  for (auto p : parts) {
    name_addr na;
    if (auto ec = parse_name_addr(p, na)) return ec;
    if (!na.angle) return errc::bad_name_addr;  // route-param = name-addr (RFC 3261 §20.34)
  }
  return {};
}

std::error_code all_values(const message_view& m, header_id id, std::vector<std::string_view>& out) {
  std::size_t before = out.size();
  if (auto ec = m.values(id, out)) return ec;
  return out.size() == before ? std::error_code(errc::header_absent) : std::error_code{};
}

std::error_code delta_header(const message_view& m, header_id id, std::uint32_t& out) {
  const header_view* h = m.find(id);
  if (h == nullptr) return errc::header_absent;
  return parse_delta_seconds(h->value, out);
}

}  // namespace

std::string_view via::branch() const noexcept { return param_value(params, "branch").value_or(std::string_view{}); }
std::optional<std::string_view> via::received() const noexcept { return param_value(params, "received"); }
bool via::has_rport() const noexcept { return find_param(params, "rport") != nullptr; }
std::optional<std::uint16_t> via::rport() const noexcept {
  const sip::param* p = find_param(params, "rport");
  if (p == nullptr || !p->has_value) return std::nullopt;
  auto v = parse_decimal(p->value, 65535);
  if (!v) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}
std::optional<std::string_view> via::param(std::string_view name) const noexcept { return param_value(params, name); }

std::string_view name_addr::tag() const noexcept { return param_value(params, "tag").value_or(std::string_view{}); }
std::optional<std::string_view> name_addr::param(std::string_view name) const noexcept { return param_value(params, name); }
std::optional<std::uint32_t> name_addr::expires() const noexcept {
  auto v = param_value(params, "expires");
  if (!v) return std::nullopt;
  std::uint32_t out = 0;
  if (parse_delta_seconds(*v, out)) return std::nullopt;
  return out;
}
std::optional<std::uint16_t> name_addr::q() const noexcept {
  // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
  auto v = param_value(params, "q");
  if (!v || v->empty() || (v->front() != '0' && v->front() != '1')) return std::nullopt;
  std::string_view s = *v;
  unsigned value = static_cast<unsigned>(s[0] - '0') * 1000;
  if (s.size() > 1) {
    if (s[1] != '.' || s.size() > 5) return std::nullopt;
    unsigned scale = 100;
    for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
      if (!is_digit(s[i])) return std::nullopt;
      value += static_cast<unsigned>(s[i] - '0') * scale;
    }
  }
  if (value > 1000) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::error_code parse_via(std::string_view one, via& out) {
  out = via{};
  std::string_view s = trim_lws(one);
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport; SLASH = SWS "/" SWS
  auto token = [&s](std::string_view& v) {
    std::size_t n = count_token(s);
    v = s.substr(0, n);
    s = skip_lws(s.substr(n));
    return n > 0;
  };
  auto slash = [&s] {
    if (s.empty() || s.front() != '/') return false;
    s = skip_lws(s.substr(1));
    return true;
  };
  if (!token(out.protocol_name) || !slash() || !token(out.protocol_version) || !slash()) return errc::bad_via;
  std::size_t n = count_token(s);
  if (n == 0) return errc::bad_via;
  out.transport = s.substr(0, n);
  std::string_view after = s.substr(n);
  s = skip_lws(after);
  if (s.size() == after.size() || s.empty()) return errc::bad_via;  // LWS sent-by

  if (s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return errc::bad_via;
    out.host = s.substr(1, close - 1);
    out.ipv6 = true;
    if (!detail::is_ipv6_literal(out.host)) return errc::bad_via;
    s = s.substr(close + 1);
  } else {
    n = 0;
    while (n < s.size() && (is_token_char(s[n]) && s[n] != '!' && s[n] != '%' && s[n] != '*' && s[n] != '+' && s[n] != '`' &&
                            s[n] != '\'' && s[n] != '~'))
      ++n;
    out.host = s.substr(0, n);
    bool dotted = !out.host.empty() && out.host.find_first_not_of("0123456789.") == std::string_view::npos;
    if (dotted ? !detail::is_ipv4_literal(out.host) : !detail::is_hostname(out.host)) return errc::bad_via;
    s = s.substr(n);
  }
  s = skip_lws(s);
  if (!s.empty() && s.front() == ':') {
    s = skip_lws(s.substr(1));
    n = count_digits(s);
    auto port = parse_decimal(s.substr(0, n), 65535);
    if (!port || *port == 0) return errc::bad_via;
    out.port = static_cast<std::uint16_t>(*port);
    s = s.substr(n);
  }
  if (parse_params(s, out.params)) return errc::bad_via;
  // RFC 3261 §18.2.1: received is an IP address; RFC 3581 §3: rport is empty or a port;
  // RFC 3261 §20.42: branch = token.
  if (const sip::param* p = find_param(out.params, "received"); p && (!p->has_value || !is_ip_literal(p->value)))
    return errc::bad_via;
  if (const sip::param* p = find_param(out.params, "rport"); p && p->has_value && !out.rport()) return errc::bad_via;
  if (const sip::param* p = find_param(out.params, "branch"); p && (!p->has_value || p->quoted)) return errc::bad_via;
  return {};
}

std::error_code parse_via_list(std::string_view value, std::vector<via>& out) {
  std::vector<std::string_view> parts;
  if (split_commas(value, parts) || parts.empty()) return errc::bad_via;
  for (auto p : parts) {
    via v;
    if (auto ec = parse_via(p, v)) return ec;
    out.push_back(std::move(v));
  }
  return {};
}

namespace {

// The parts of a name-addr / addr-spec as written, without decoding any of them.
struct name_addr_shape {
  std::string_view display;  // quoted (escapes left in) or token words; "" when absent
  bool quoted = false;
  bool angle = false;
  std::string_view uri_text;
  std::string_view params;  // ";a=b;c…", not parsed yet
};

std::error_code shape_name_addr(std::string_view value, name_addr_shape& out) {
  std::string_view s = trim_lws(value);
  if (s.empty()) return errc::bad_name_addr;
  if (s.front() == '"') {
    std::string_view rest;
    if (auto ec = read_quoted(s, out.display, rest)) return ec;
    out.quoted = true;
    s = skip_lws(rest);
    if (s.empty() || s.front() != '<') return errc::bad_name_addr;
  } else if (std::size_t lt = s.find('<'); lt != std::string_view::npos) {
    // display-name = *(token LWS): unquoted names are tokens only (RFC 4475 §3.1.2.16).
    out.display = trim_lws(s.substr(0, lt));
    for (char c : out.display)
      if (!is_token_char(c) && !is_wsp(c)) return errc::bad_name_addr;
    s = s.substr(lt);
  }
  if (s.front() == '<') {
    out.angle = true;
    std::size_t gt = s.find('>');
    if (gt == std::string_view::npos) return errc::bad_name_addr;
    out.uri_text = s.substr(1, gt - 1);
    out.params = s.substr(gt + 1);
  } else {
    // RFC 3261 §20.10: in addr-spec form, ";params" after the URI are header parameters,
    // and a URI with a comma, question mark or semicolon must be in <>.
    std::size_t end = 0;
    while (end < s.size() && s[end] != ';' && !is_wsp(s[end])) ++end;
    out.uri_text = s.substr(0, end);
    if (out.uri_text.find_first_of("?,") != std::string_view::npos) return errc::bad_name_addr;
    out.params = s.substr(end);
  }
  if (!detail::is_absolute_uri(out.uri_text)) return errc::bad_name_addr;
  return {};
}

}  // namespace

std::error_code parse_name_addr(std::string_view value, name_addr& out) {
  out = name_addr{};
  name_addr_shape shape;
  if (auto ec = shape_name_addr(value, shape)) return ec;
  out.display_name = shape.quoted ? unescape_quoted(shape.display) : std::string(shape.display);
  out.angle = shape.angle;
  out.uri_text = shape.uri_text;
  if (auto ec = parse_params(shape.params, out.params)) return ec;
  std::string_view scheme = out.uri_text.substr(0, out.uri_text.find(':'));
  if (iequals(scheme, "sip") || iequals(scheme, "sips") || iequals(scheme, "tel")) return parse_uri(out.uri_text, out.addr);
  // RFC 3261 §19.1: other schemes are legal here; keep them opaque.
  out.uri_error = errc::bad_uri_scheme;
  out.addr.scheme.assign(scheme);
  for (char& c : out.addr.scheme)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return {};
}

std::error_code parse_contact_list(std::string_view value, std::vector<name_addr>& out, bool& star) {
  star = false;
  if (trim_lws(value) == "*") {
    star = true;
    return {};
  }
  std::vector<std::string_view> parts;
  if (auto ec = split_commas(value, parts)) return ec;
  if (parts.empty()) return errc::bad_name_addr;
  for (auto p : parts) {
    if (p == "*") return errc::bad_name_addr;  // "*" must be the only contact
    name_addr na;
    if (auto ec = parse_name_addr(p, na)) return ec;
    out.push_back(std::move(na));
  }
  return {};
}

std::error_code parse_cseq(std::string_view value, cseq& out) {
  // CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16)
  // The usual "2 REGISTER" (digits, one SP, a method up to the end) has nothing to trim
  // or skip: taken as it is, with what the general path below would find.
  std::size_t digits = count_digits(value);
  if (digits != 0 && digits + 1 < value.size() && value[digits] == ' ') {
    const std::string_view method = value.substr(digits + 1);
    if (count_token(method) == method.size()) {
      auto number = parse_decimal(value.substr(0, digits), 0x7FFFFFFFu);
      if (!number) return errc::bad_cseq;
      out.number = static_cast<std::uint32_t>(*number);
      out.method = method;
      return {};
    }
  }
  std::string_view s = trim_lws(value);
  std::size_t n = count_digits(s);
  auto number = parse_decimal(s.substr(0, n), 0x7FFFFFFFu);
  if (!number) return errc::bad_cseq;
  std::string_view after = s.substr(n);
  s = skip_lws(after);
  if (s.size() == after.size() || s.empty() || count_token(s) != s.size()) return errc::bad_cseq;
  out.number = static_cast<std::uint32_t>(*number);
  out.method = s;
  return {};
}

std::error_code parse_delta_seconds(std::string_view value, std::uint32_t& out) {
  auto v = parse_decimal(trim_lws(value), 0xFFFFFFFFu);
  if (!v) return errc::bad_number;
  out = static_cast<std::uint32_t>(*v);
  return {};
}

std::error_code parse_retry_after(std::string_view value, retry_after& out) {
  out = retry_after{};
  std::string_view s = trim_lws(value);
  std::size_t n = count_digits(s);
  if (auto ec = parse_delta_seconds(s.substr(0, n), out.seconds)) return ec;
  s = skip_lws(s.substr(n));
  if (!s.empty() && s.front() == '(') {
    // comment = LPAREN *( ctext / quoted-pair / comment ) RPAREN (RFC 3261 §25.1)
    std::size_t depth = 0, i = 0;
    for (; i < s.size(); ++i) {
      if (s[i] == '\\') ++i;
      else if (s[i] == '(') ++depth;
      else if (s[i] == ')' && --depth == 0) break;
    }
    if (i >= s.size()) return errc::bad_header_value;
    out.comment = s.substr(1, i - 1);
    s = s.substr(i + 1);
  }
  if (auto ec = parse_params(s, out.params)) return ec;
  if (const sip::param* p = find_param(out.params, "duration")) {
    std::uint32_t d = 0;
    if (!p->has_value || parse_delta_seconds(p->value, d)) return errc::bad_parameter;
    out.duration = d;
  }
  return {};
}

std::string_view via_branch(std::string_view v) noexcept {
  v = v.substr(0, v.find(','));  // a branch holds no comma, a quoted or <> part holds no branch
  for (std::size_t pos = v.find(';'); pos != std::string_view::npos; pos = v.find(';', pos + 1)) {
    const auto q = v.substr(pos + 1);
    std::string_view value;
    // The usual ";branch=z9hG4bK…" needs no trimming and no case-blind compare.
    if (q.size() > 7 && q.starts_with("branch=") && is_token_char(q[7])) {
      value = q.substr(7);
    } else {
      // Any case, and white space around the name and "=" (RFC 3261 §25.1 EQUAL).
      const auto p = skip_lws(q);
      if (p.size() < 6 || !iequals(p.substr(0, 6), "branch")) continue;
      const auto eq = skip_lws(p.substr(6));
      if (eq.empty() || eq.front() != '=') continue;
      value = skip_lws(eq.substr(1));
    }
    std::size_t end = 0;  // by hand: find_first_of costs a memchr per byte
    while (end < value.size() && value[end] != ';' && value[end] != ' ' && value[end] != '\t' && value[end] != '\r' &&
           value[end] != '\n')
      ++end;
    return value.substr(0, end);
  }
  return {};
}

namespace get {

std::error_code top_via(const message_view& m, via& out) {
  const header_view* h = m.find(header_id::via);
  if (h == nullptr) return errc::header_absent;
  std::string_view first;
  if (first_comma_element(h->value, first) || first.empty()) return errc::bad_via;
  return parse_via(first, out);
}

std::string_view top_via_branch(const message_view& m) noexcept {
  const header_view* h = m.find(header_id::via);
  return h == nullptr ? std::string_view() : via_branch(h->value);
}

std::error_code vias(const message_view& m, std::vector<via>& out) {
  bool any = false;
  for (const auto& h : m.headers) {
    if (h.id != header_id::via) continue;
    any = true;
    if (auto ec = parse_via_list(h.value, out)) return ec;
  }
  return any ? std::error_code{} : std::error_code(errc::header_absent);
}

std::error_code from(const message_view& m, name_addr& out) {
  const header_view* h = m.find(header_id::from);
  return h ? parse_name_addr(h->value, out) : std::error_code(errc::header_absent);
}

std::error_code from_tag(const message_view& m, std::string_view& tag) {
  tag = {};
  const header_view* h = m.find(header_id::from);
  if (h == nullptr) return errc::header_absent;
  name_addr_shape shape;
  if (auto ec = shape_name_addr(h->value, shape)) return ec;
  std::optional<param> p;
  if (auto ec = first_param(shape.params, "tag", p)) return ec;
  if (p) tag = p->value;
  return {};
}

std::error_code to(const message_view& m, name_addr& out) {
  const header_view* h = m.find(header_id::to);
  return h ? parse_name_addr(h->value, out) : std::error_code(errc::header_absent);
}

std::error_code call_id(const message_view& m, std::string_view& out) {
  const header_view* h = m.find(header_id::call_id);
  if (h == nullptr) return errc::header_absent;
  if (!is_call_id(h->value)) return errc::bad_header_value;
  out = h->value;
  return {};
}

std::error_code cseq(const message_view& m, sip::cseq& out) {
  const header_view* h = m.find(header_id::cseq);
  return h ? parse_cseq(h->value, out) : std::error_code(errc::header_absent);
}

std::error_code contacts(const message_view& m, std::vector<name_addr>& out, bool& star) {
  star = false;
  bool any = false;
  const std::size_t before = out.size();
  for (const auto& h : m.headers) {
    if (h.id != header_id::contact) continue;
    bool this_star = false;
    if (auto ec = parse_contact_list(h.value, out, this_star)) return ec;
    if (this_star && (star || out.size() != before)) return errc::bad_name_addr;
    if (star && !this_star) return errc::bad_name_addr;
    star = star || this_star;
    any = true;
  }
  return any ? std::error_code{} : std::error_code(errc::header_absent);
}

std::error_code expires(const message_view& m, std::uint32_t& out) { return delta_header(m, header_id::expires, out); }
std::error_code min_expires(const message_view& m, std::uint32_t& out) { return delta_header(m, header_id::min_expires, out); }

std::error_code content_length(const message_view& m, std::uint32_t& out) {
  const header_view* h = m.find(header_id::content_length);
  if (h == nullptr) return errc::header_absent;
  auto v = parse_decimal(h->value, 0xFFFFFFFFu);
  if (!v) return errc::bad_content_length;
  out = static_cast<std::uint32_t>(*v);
  return {};
}

std::error_code max_forwards(const message_view& m, std::uint32_t& out) {
  const header_view* h = m.find(header_id::max_forwards);
  if (h == nullptr) return errc::header_absent;
  auto v = parse_decimal(h->value, 255);  // RFC 3261 §20.22: 0-255
  if (!v) return errc::bad_number;
  out = static_cast<std::uint32_t>(*v);
  return {};
}

std::error_code retry_after(const message_view& m, sip::retry_after& out) {
  const header_view* h = m.find(header_id::retry_after);
  return h ? parse_retry_after(h->value, out) : std::error_code(errc::header_absent);
}

std::error_code user_agent(const message_view& m, std::string_view& out) {
  const header_view* h = m.find(header_id::user_agent);
  if (h == nullptr) return errc::header_absent;
  out = h->value;
  return {};
}

std::error_code server(const message_view& m, std::string_view& out) {
  const header_view* h = m.find(header_id::server);
  if (h == nullptr) return errc::header_absent;
  out = h->value;
  return {};
}

std::error_code allow(const message_view& m, std::vector<std::string_view>& out) { return all_values(m, header_id::allow, out); }
std::error_code www_authenticate(const message_view& m, std::vector<std::string_view>& out) {
  return all_values(m, header_id::www_authenticate, out);
}
std::error_code proxy_authenticate(const message_view& m, std::vector<std::string_view>& out) {
  return all_values(m, header_id::proxy_authenticate, out);
}
std::error_code authorization(const message_view& m, std::vector<std::string_view>& out) {
  return all_values(m, header_id::authorization, out);
}
std::error_code proxy_authorization(const message_view& m, std::vector<std::string_view>& out) {
  return all_values(m, header_id::proxy_authorization, out);
}

}  // namespace get

parse_result validate(const message_view& m) {
  std::vector<via> vs;
  std::vector<name_addr> nas;
  for (const auto& h : m.headers) {
    std::error_code ec;
    name_addr na;
    cseq cs;
    retry_after ra;
    std::uint32_t n = 0;
    bool star = false;
    switch (h.id) {
      case header_id::via:
        vs.clear();
        ec = parse_via_list(h.value, vs);
        break;
      case header_id::from:
      case header_id::to: ec = parse_name_addr(h.value, na); break;
      case header_id::contact:
        nas.clear();
        ec = parse_contact_list(h.value, nas, star);
        break;
      case header_id::route:
      case header_id::record_route: ec = parse_route_list(h.value); break;
      case header_id::call_id: ec = is_call_id(h.value) ? std::error_code{} : errc::bad_header_value; break;
      case header_id::cseq: ec = parse_cseq(h.value, cs); break;
      case header_id::expires:
      case header_id::min_expires: ec = parse_delta_seconds(h.value, n); break;
      case header_id::max_forwards: ec = parse_decimal(h.value, 255) ? std::error_code{} : errc::bad_number; break;
      case header_id::content_length:
        ec = parse_decimal(h.value, 0xFFFFFFFFu) ? std::error_code{} : errc::bad_content_length;
        break;
      case header_id::retry_after: ec = parse_retry_after(h.value, ra); break;
      default: break;
    }
    if (ec) {
      std::size_t off = static_cast<std::size_t>(h.value.data() - m.raw.data());
      return {ec, 0, off, line_of(m.raw, off)};
    }
  }
  return {};
}

}  // namespace sip
