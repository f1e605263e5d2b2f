#include "sip/uri.hpp"

#include "sip/error.hpp"
#include "sip/scan.hpp"

#include <cstring>

namespace sip {
namespace {

// Extra characters each URI component allows besides `unreserved` (RFC 3261 §25.1).
constexpr const char* user_extra = "&=+$,;?/";
constexpr const char* password_extra = "&=+$,";
constexpr const char* param_extra = "[]/:&+$";
constexpr const char* header_extra = "[]/?:+$";
constexpr const char* tel_extra = "+-.()*#";  // RFC 3966 visual separators and digits

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alnum(char c) noexcept { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool in(char c, const char* set) noexcept { return c != '\0' && std::strchr(set, c) != nullptr; }
// Where the first byte of `s` that `stop` accepts lies, or npos. Not find_first_of: it
// calls memchr once per byte of `s`, and every Request-URI of a trace comes through here.
template <class Pred>
std::size_t find_if(std::string_view s, Pred stop) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (stop(s[i])) return i;
  return std::string_view::npos;
}
// unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
bool is_unreserved(char c) noexcept { return is_alnum(c) || in(c, "-_.!~*'()"); }

// Checks that `s` holds only unreserved, `extra` and %HH characters.
std::error_code check_chars(std::string_view s, const char* extra, errc bad) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return errc::bad_escape;
      i += 2;
    } else if (!is_unreserved(c) && !in(c, extra)) {
      return bad;
    }
  }
  return {};
}

std::error_code scan_params(std::string_view s) noexcept {
  // s is ";a=b;c..." — each parameter non-empty, name non-empty, value non-empty if '='.
  while (!s.empty()) {
    s.remove_prefix(1);  // the ';'
    std::size_t end = s.find(';');
    std::string_view p = s.substr(0, end);
    std::size_t eq = p.find('=');
    std::string_view name = p.substr(0, eq);
    if (name.empty()) return errc::bad_uri_parameter;
    if (auto ec = check_chars(name, param_extra, errc::bad_uri_parameter)) return ec;
    if (eq != std::string_view::npos) {
      std::string_view value = p.substr(eq + 1);
      if (value.empty()) return errc::bad_uri_parameter;
      if (auto ec = check_chars(value, param_extra, errc::bad_uri_parameter)) return ec;
    }
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  }
  return {};
}

std::error_code scan_headers(std::string_view s) noexcept {
  if (s.empty()) return errc::bad_uri_header;  // "?" with nothing after it
  while (true) {
    std::size_t end = s.find('&');
    std::string_view h = s.substr(0, end);
    std::size_t eq = h.find('=');
    if (eq == 0 || eq == std::string_view::npos) return errc::bad_uri_header;
    if (auto ec = check_chars(h.substr(0, eq), header_extra, errc::bad_uri_header)) return ec;
    if (auto ec = check_chars(h.substr(eq + 1), header_extra, errc::bad_uri_header)) return ec;
    if (end == std::string_view::npos) return {};
    s = s.substr(end + 1);
  }
}

std::error_code scan_tel(std::string_view rest, detail::uri_parts& out) noexcept {
  // RFC 3966: telephone-subscriber = global-number / local-number, then ;params.
  std::size_t semi = rest.find(';');
  std::string_view number = rest.substr(0, semi);
  if (number.empty() || number.find('?') != std::string_view::npos) return errc::bad_uri_user;
  bool digit = false;
  for (std::size_t i = 0; i < number.size(); ++i) {
    char c = number[i];
    if (c == '+' && i != 0) return errc::bad_uri_user;
    if (is_hex(c) || c == '*' || c == '#') digit = true;
    else if (!in(c, tel_extra)) return errc::bad_uri_user;
  }
  if (!digit) return errc::bad_uri_user;
  out.user = number;
  out.has_userinfo = true;
  if (semi != std::string_view::npos) {
    out.params = rest.substr(semi);
    if (auto ec = scan_params(out.params)) return ec;
  }
  return {};
}

void append_escaped(std::string& out, std::string_view s, const char* extra) {
  static constexpr char digits[] = "0123456789ABCDEF";
  for (char c : s) {
    if (is_unreserved(c) || in(c, extra)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 0xF]);
    }
  }
}

std::error_code decode_pairs(std::string_view s, char sep, std::vector<std::pair<std::string, std::string>>& out) {
  while (!s.empty()) {
    std::size_t end = s.find(sep);
    std::string_view item = s.substr(0, end);
    std::size_t eq = item.find('=');
    std::pair<std::string, std::string> kv;
    if (auto ec = percent_decode(item.substr(0, eq), kv.first)) return ec;
    if (eq != std::string_view::npos)
      if (auto ec = percent_decode(item.substr(eq + 1), kv.second)) return ec;
    out.push_back(std::move(kv));
    if (end == std::string_view::npos) break;
    s = s.substr(end + 1);
  }
  return {};
}

}  // namespace

namespace detail {

// RFC 3261 §25.1 hostname: labels of alphanum and '-', not starting or ending with '-';
// the top label starts with a letter; one trailing '.' allowed.
bool is_hostname(std::string_view s) noexcept {
  if (s.empty()) return false;
  if (s.back() == '.') s.remove_suffix(1);
  if (s.empty()) return false;
  // One pass (every Request-URI host comes here): labels of alphanumerics and inner
  // hyphens, the last one starting with a letter.
  std::size_t start = 0;
  for (std::size_t i = 0;; ++i) {
    if (i == s.size() || s[i] == '.') {
      if (i == start || s[start] == '-' || s[i - 1] == '-') return false;
      if (i == s.size()) return is_alpha(s[start]);
      start = i + 1;
    } else if (!is_alnum(s[i]) && s[i] != '-') {
      return false;
    }
  }
}

bool is_ipv4_literal(std::string_view s) noexcept {
  int parts = 0;
  while (true) {
    std::size_t n = 0;
    unsigned v = 0;
    while (n < s.size() && n < 4 && is_digit(s[n])) v = v * 10 + static_cast<unsigned>(s[n++] - '0');
    if (n == 0 || n > 3 || v > 255) return false;
    ++parts;
    s.remove_prefix(n);
    if (s.empty()) return parts == 4;
    if (s.front() != '.' || parts == 4) return false;
    s.remove_prefix(1);
  }
}

// RFC 3261 §25.1 IPv6address (RFC 4291 §2.2 text form): eight 16-bit groups, one "::"
// standing for at least one zero group, an optional dotted IPv4 tail worth two groups.
bool is_ipv6_literal(std::string_view s) noexcept {
  const std::size_t n = s.size();
  if (n < 2) return false;
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s[0] == ':') {
    if (s[1] != ':') return false;
    compressed = true;
    i = 2;
    if (i == n) return true;
  }
  while (true) {
    std::size_t j = i;
    while (j < n && is_hex(s[j])) ++j;
    if (j < n && s[j] == '.') {
      if (!is_ipv4_literal(s.substr(i))) return false;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == n) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < n && s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i == n) break;
    } else if (i == n) {
      return false;
    }
    if (groups > 8) return false;
  }
  return compressed ? groups <= 7 : groups == 8;
}

bool is_absolute_uri(std::string_view s) noexcept {
  std::size_t colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == s.size()) return false;
  if (!is_alpha(s[0])) return false;
  for (std::size_t i = 1; i < colon; ++i)
    if (!is_alnum(s[i]) && !in(s[i], "+-.")) return false;
  for (std::size_t i = colon + 1; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"') return false;
  }
  return true;
}

std::error_code scan_uri(std::string_view text, uri_parts& out) noexcept {
  out = {};
  std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return errc::bad_uri;
  std::string_view scheme = text.substr(0, colon);
  if (!is_alpha(scheme[0])) return errc::bad_uri;
  for (char c : scheme)
    if (!is_alnum(c) && !in(c, "+-.")) return errc::bad_uri;
  out.scheme = scheme;
  std::string_view rest = text.substr(colon + 1);
  if (iequals(scheme, "tel")) return scan_tel(rest, out);
  if (!iequals(scheme, "sip") && !iequals(scheme, "sips")) return errc::bad_uri_scheme;
  if (rest.empty()) return errc::bad_uri_host;

  // userinfo: '@' may not appear unescaped anywhere else in a SIP URI (§25.1).
  if (std::size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view info = rest.substr(0, at);
    std::size_t pc = info.find(':');
    out.user = info.substr(0, pc);
    out.has_userinfo = true;
    if (out.user.empty()) return errc::bad_uri_user;
    if (auto ec = check_chars(out.user, user_extra, errc::bad_uri_user)) return ec;
    if (pc != std::string_view::npos) {
      out.has_password = true;
      out.password = info.substr(pc + 1);
      if (auto ec = check_chars(out.password, password_extra, errc::bad_uri_user)) return ec;
    }
    rest = rest.substr(at + 1);
  }

  // host
  std::size_t hend = 0;
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return errc::bad_uri_host;
    out.host = rest.substr(1, close - 1);
    out.ipv6 = true;
    if (!is_ipv6_literal(out.host)) return errc::bad_uri_host;
    hend = close + 1;
    if (hend < rest.size() && !in(rest[hend], ":;?")) return errc::bad_uri_host;
  } else {
    hend = find_if(rest, [](char c) { return c == ':' || c == ';' || c == '?'; });
    if (hend == std::string_view::npos) hend = rest.size();
    out.host = rest.substr(0, hend);
    bool dotted = !out.host.empty() &&
                  find_if(out.host, [](char c) { return !is_digit(c) && c != '.'; }) == std::string_view::npos;
    if (dotted ? !is_ipv4_literal(out.host) : !is_hostname(out.host)) return errc::bad_uri_host;
  }
  rest = rest.substr(hend);

  if (!rest.empty() && rest.front() == ':') {
    std::size_t pend = find_if(rest, [](char c) { return c == ';' || c == '?'; });
    if (pend == std::string_view::npos) pend = rest.size();
    auto port = parse_decimal(rest.substr(1, pend - 1), 65535);
    if (!port || *port == 0) return errc::bad_uri_port;
    out.port = static_cast<std::uint16_t>(*port);
    rest = rest.substr(pend);
  }
  std::size_t q = rest.find('?');
  out.params = rest.substr(0, q);
  if (auto ec = scan_params(out.params)) return ec;
  if (q != std::string_view::npos) {
    out.has_headers = true;
    out.headers = rest.substr(q + 1);
    if (auto ec = scan_headers(out.headers)) return ec;
  }
  return {};
}

}  // namespace detail

std::error_code percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || !is_hex(in[i + 1]) || !is_hex(in[i + 2])) return errc::bad_escape;
    out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
    i += 2;
  }
  return {};
}

std::error_code parse_uri(std::string_view text, uri& out) {
  detail::uri_parts p;
  if (auto ec = detail::scan_uri(text, p)) return ec;
  out = uri{};
  out.scheme.assign(p.scheme);
  for (char& c : out.scheme)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (auto ec = percent_decode(p.user, out.user)) return ec;
  if (auto ec = percent_decode(p.password, out.password)) return ec;
  out.host.assign(p.host);
  out.ipv6 = p.ipv6;
  out.port = p.port;
  if (!p.params.empty())
    if (auto ec = decode_pairs(p.params.substr(1), ';', out.params)) return ec;
  if (p.has_headers)
    if (auto ec = decode_pairs(p.headers, '&', out.headers)) return ec;
  return {};
}

std::string uri::host_port() const {
  std::string s;
  s.reserve(host.size() + 8);
  if (ipv6) s.push_back('[');
  s += host;
  if (ipv6) s.push_back(']');
  if (port != 0) {
    s.push_back(':');
    s += std::to_string(port);
  }
  return s;
}

std::string uri::to_string() const {
  std::string s = scheme;
  s.push_back(':');
  if (scheme == "tel") {
    s += user;  // validated to hold only digits and visual separators
  } else {
    if (!user.empty()) {
      append_escaped(s, user, user_extra);
      if (!password.empty()) {
        s.push_back(':');
        append_escaped(s, password, password_extra);
      }
      s.push_back('@');
    }
    s += host_port();
  }
  for (const auto& [name, value] : params) {
    s.push_back(';');
    append_escaped(s, name, param_extra);
    if (!value.empty()) {
      s.push_back('=');
      append_escaped(s, value, param_extra);
    }
  }
  char sep = '?';
  for (const auto& [name, value] : headers) {
    s.push_back(sep);
    sep = '&';
    append_escaped(s, name, header_extra);
    s.push_back('=');
    append_escaped(s, value, header_extra);
  }
  return s;
}

std::optional<std::string> uri::param(std::string_view name) const {
  for (const auto& [n, v] : params)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

std::optional<std::string> uri::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

}  // namespace sip
