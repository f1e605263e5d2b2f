#include "probe/locate/target.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace probe::locate {
namespace {

using target_result = expected<void, target_error>;

unexpected<target_error> failure(errc e) { return unexpected(target_error{e, 0}); }

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
target_result check_domain(std::string_view d) {
  if (d.empty()) return failure(errc::empty_host);
  if (d.size() > 253) return failure(errc::host_too_long);
  std::size_t start = 0;
  bool all_numeric = true;
  while (start <= d.size()) {
    std::size_t dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    std::string_view label = d.substr(start, dot - start);
    if (label.empty()) return failure(errc::empty_label);
    if (label.size() > 63) return failure(errc::label_too_long);
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return unexpected(target_error{errc::bad_host_character, c});
      if (!std::isdigit(static_cast<unsigned char>(c))) all_numeric = false;
    }
    start = dot + 1;
  }
  if (all_numeric) return failure(errc::not_ipv4);
  return {};
}

bool parse_port(std::string_view s, std::uint16_t& port) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v == 0 || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

// "sip:" or "sips:" off the front of `rest`, into t.scheme; anything else that looks like
// a scheme (a colon before any '@', '[' or '.' that is not followed by a port) is refused.
target_result read_scheme(std::string_view& rest, dns_target& t) {
  if (starts_with_ci(rest, "sips:")) {
    t.scheme = "sips";
    rest.remove_prefix(5);
  } else if (starts_with_ci(rest, "sip:")) {
    t.scheme = "sip";
    rest.remove_prefix(4);
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos && rest.find_first_of("@[.") > colon &&
                                          rest.find(':', colon + 1) == rest.npos &&
                                          !std::all_of(rest.begin() + static_cast<std::ptrdiff_t>(colon) + 1, rest.end(),
                                                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return failure(errc::unsupported_scheme);
  }
  return {};
}

// host[:port], [IPv6][:port] or a bare IPv6 address, into t.host and t.port.
target_result read_host_port(std::string_view rest, dns_target& t) {
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return failure(errc::missing_bracket);
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return failure(errc::text_after_bracket);
      port = after.substr(1);
      if (port.empty()) return failure(errc::empty_port);
    }
    if (!netcheck::is_ip_literal(host) || host.find(':') == std::string_view::npos) return failure(errc::bad_bracketed_ipv6);
  } else if (std::count(rest.begin(), rest.end(), ':') > 1) {
    if (!t.scheme.empty() || !netcheck::is_ip_literal(rest)) return failure(errc::bad_ipv6);
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return failure(errc::empty_port);
  }
  if (!port.empty()) {
    std::uint16_t p = 0;
    if (!parse_port(port, p)) return failure(errc::bad_port);
    t.port = p;
  }
  if (netcheck::is_ip_literal(host)) {
    t.host = std::string(host);
    return {};
  }
  std::string_view d = host;
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  if (auto ok = check_domain(d); !ok) return ok;
  t.host = lower(d);
  return {};
}

// Only transport= matters for locating the server (RFC 3263 §4.1).
target_result read_transport(std::string_view params, dns_target& t) {
  while (!params.empty()) {
    auto semi = params.find(';');
    std::string_view p = params.substr(0, semi);
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (!starts_with_ci(p, "transport=")) continue;
    std::string value = lower(p.substr(10));
    auto tr = netcheck::transport_from_string(value);
    if (!tr) return failure(errc::unsupported_transport);
    if (t.secure() && *tr == netcheck::transport::udp) return failure(errc::sips_over_udp);
    // RFC 3261 §26.2: sips with transport=tcp means TLS over TCP.
    t.transport = t.secure() ? netcheck::transport::tls : *tr;
  }
  return {};
}

}  // namespace

std::string target_error::message() const {
  if (code == errc::bad_host_character) return "character '" + std::string(1, character) + "' not allowed in a host name";
  return code.message();
}

expected<dns_target, target_error> parse_dns_target(std::string_view text) {
  dns_target t;
  if (text.empty()) return failure(errc::empty_target);
  for (char c : text)
    if (std::iscntrl(static_cast<unsigned char>(c)) || c == ' ') return failure(errc::space_or_control);
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>') text = text.substr(1, text.size() - 2);

  std::string_view rest = text;
  if (auto ok = read_scheme(rest, t); !ok) return unexpected(ok.error());
  // Headers (?…) and URI parameters (;…) follow the host part.
  rest = rest.substr(0, rest.find('?'));
  std::string_view params;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    t.user = std::string(rest.substr(0, at));
    if (t.user.empty()) return failure(errc::empty_user);
    rest.remove_prefix(at + 1);
  }
  if (auto semi = rest.find(';'); semi != std::string_view::npos) {
    if (t.scheme.empty()) return failure(errc::parameters_without_scheme);
    params = rest.substr(semi + 1);
    rest = rest.substr(0, semi);
  }
  if (auto ok = read_host_port(rest, t); !ok) return unexpected(ok.error());
  if (auto ok = read_transport(params, t); !ok) return unexpected(ok.error());
  return t;
}

}  // namespace probe::locate
