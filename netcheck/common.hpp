// netcheck/common.hpp — small vocabulary shared by the RFC 3263 planner (rfc3263.hpp),
// the flows (transport.hpp) and the TLS report (tls_report.hpp): one definition each.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>

namespace netcheck {

enum class transport { udp, tcp, tls };

// Some of the three transports, kept inline (a request is copied per registration).
class transport_set {
 public:
  transport_set() = default;
  transport_set(std::initializer_list<transport> ts) noexcept {
    for (auto t : ts) bits_ |= bit(t);
  }
  bool contains(transport t) const noexcept { return (bits_ & bit(t)) != 0; }
  bool operator==(const transport_set&) const = default;

 private:
  static constexpr unsigned bit(transport t) noexcept { return 1u << static_cast<unsigned>(t); }
  unsigned bits_ = 0;
};

// "udp", "tcp", "tls".
inline std::string_view to_string(transport t) noexcept {
  switch (t) {
    case transport::udp: return "udp";
    case transport::tcp: return "tcp";
    case transport::tls: return "tls";
  }
  return "udp";
}

// Case-insensitive "udp", "tcp", "tls"; nullopt for anything else.
inline std::optional<transport> transport_from_string(std::string_view s) noexcept {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  auto is = [&](std::string_view name) {
    if (s.size() != name.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (lower(s[i]) != name[i]) return false;
    return true;
  };
  if (is("udp")) return transport::udp;
  if (is("tcp")) return transport::tcp;
  if (is("tls")) return transport::tls;
  return std::nullopt;
}

// True when `host` is an IPv4 or IPv6 literal (IPv6 with or without brackets).
// Defined in rfc3263.cpp.
bool is_ip_literal(std::string_view host) noexcept;

}  // namespace netcheck
