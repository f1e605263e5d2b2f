#include "probe/locate/target.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace probe::locate {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

// RFC 1035 §2.3.1 as relaxed by RFC 2181 §11 and SRV's underscores: labels of letters,
// digits, '-' and '_', 1–63 characters, 253 in all.
bool valid_domain(std::string_view d, std::string& why) {
  if (d.empty()) return why = "empty host", false;
  if (d.size() > 253) return why = "host name longer than 253 characters", false;
  std::size_t start = 0;
  bool all_numeric = true;
  while (start <= d.size()) {
    std::size_t dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    std::string_view label = d.substr(start, dot - start);
    if (label.empty()) return why = "empty label in the host name", false;
    if (label.size() > 63) return why = "label longer than 63 characters in host name", false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return why = "character '" + std::string(1, c) + "' not allowed in a host name", false;
      if (!std::isdigit(static_cast<unsigned char>(c))) all_numeric = false;
    }
    start = dot + 1;
  }
  if (all_numeric) return why = "not a valid IPv4 address", false;
  return true;
}

bool parse_port(std::string_view s, std::uint16_t& port) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v == 0 || v > 65535)
    return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

}  // namespace

std::optional<dns_target> parse_dns_target(std::string_view text, std::string& error) {
  dns_target t;
  if (text.empty()) return error = "empty target", std::nullopt;
  for (char c : text)
    if (std::iscntrl(static_cast<unsigned char>(c)) || c == ' ')
      return error = "the target contains spaces or control characters", std::nullopt;
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>')
    text = text.substr(1, text.size() - 2);

  std::string_view rest = text;
  if (starts_with_ci(rest, "sips:")) {
    t.scheme = "sips";
    rest.remove_prefix(5);
  } else if (starts_with_ci(rest, "sip:")) {
    t.scheme = "sip";
    rest.remove_prefix(4);
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos &&
             rest.find_first_of("@[.") > colon && rest.find(':', colon + 1) == rest.npos &&
             !std::all_of(rest.begin() + static_cast<std::ptrdiff_t>(colon) + 1, rest.end(),
                          [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return error = "unsupported URI scheme (use sip:, sips:, a domain or host:port)", std::nullopt;
  }

  // Headers (?…) and URI parameters (;…) follow the host part.
  rest = rest.substr(0, rest.find('?'));
  std::string_view params;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    t.user = std::string(rest.substr(0, at));
    if (t.user.empty()) return error = "empty user part before '@'", std::nullopt;
    rest.remove_prefix(at + 1);
  }
  if (auto semi = rest.find(';'); semi != std::string_view::npos) {
    if (t.scheme.empty()) return error = "URI parameters need a sip: or sips: URI", std::nullopt;
    params = rest.substr(semi + 1);
    rest = rest.substr(0, semi);
  }

  // host[:port], [IPv6][:port] or a bare IPv6 address.
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return error = "missing ']' after IPv6 address", std::nullopt;
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return error = "unexpected text after ']'", std::nullopt;
      port = after.substr(1);
      if (port.empty()) return error = "empty port after ':'", std::nullopt;
    }
    if (!netcheck::is_ip_literal(host) || host.find(':') == std::string_view::npos)
      return error = "not an IPv6 address inside [ ]", std::nullopt;
  } else if (std::count(rest.begin(), rest.end(), ':') > 1) {
    if (!t.scheme.empty() || !netcheck::is_ip_literal(rest))
      return error = "not an IPv6 address (write [addr]:port)", std::nullopt;
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return error = "empty port after ':'", std::nullopt;
  }
  if (!port.empty()) {
    std::uint16_t p = 0;
    if (!parse_port(port, p))
      return error = "the port is not a number from 1 to 65535", std::nullopt;
    t.port = p;
  }
  if (netcheck::is_ip_literal(host)) {
    t.host = std::string(host);
  } else {
    std::string why;
    std::string_view d = host;
    if (!d.empty() && d.back() == '.') d.remove_suffix(1);
    if (!valid_domain(d, why)) return error = why, std::nullopt;
    t.host = lower(d);
  }

  // Only transport= matters for locating the server (RFC 3263 §4.1).
  while (!params.empty()) {
    auto semi = params.find(';');
    std::string_view p = params.substr(0, semi);
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (!starts_with_ci(p, "transport=")) continue;
    std::string value = lower(p.substr(10));
    auto tr = netcheck::transport_from_string(value);
    if (!tr)
      return error = "this transport= is not supported (udp, tcp or tls)", std::nullopt;
    if (t.secure() && *tr == netcheck::transport::udp)
      return error = "sips: cannot use transport=udp (SIPS needs TLS)", std::nullopt;
    // RFC 3261 §26.2: sips with transport=tcp means TLS over TCP.
    t.transport = t.secure() ? netcheck::transport::tls : *tr;
  }
  return t;
}

}  // namespace probe::locate
