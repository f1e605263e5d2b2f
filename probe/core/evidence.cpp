#include "probe/core/evidence.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace probe {

address_scope classify_address(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return address_scope::not_ip;
  std::array<char, INET6_ADDRSTRLEN> text{};
  std::memcpy(text.data(), host.data(), host.size());

  std::array<unsigned char, 4> v4{};
  if (inet_pton(AF_INET, text.data(), v4.data()) == 1) {
    const unsigned a = v4[0], b = v4[1];
    if (a == 127) return address_scope::loopback;
    if (a == 10 || (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168)) return address_scope::private_use;
    if (a == 100 && (b & 0xc0) == 64) return address_scope::private_use;  // RFC 6598 shared space
    if (a == 169 && b == 254) return address_scope::link_local;
    return address_scope::global;
  }
  std::array<unsigned char, 16> v6{};
  if (inet_pton(AF_INET6, text.data(), v6.data()) == 1) {
    static constexpr std::array<unsigned char, 16> loop{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (v6 == loop) return address_scope::loopback;
    if ((v6[0] & 0xfe) == 0xfc) return address_scope::private_use;                  // fc00::/7
    if (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80) return address_scope::link_local;  // fe80::/10
    // IPv4-mapped (::ffff:a.b.c.d): judge the IPv4 address.
    static constexpr std::array<unsigned char, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped.begin(), mapped.end(), v6.begin())) {
      char buf[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, v6.data() + 12, buf, sizeof buf) != nullptr) return classify_address(buf);
    }
    return address_scope::global;
  }
  return address_scope::not_ip;
}

bool is_private(std::string_view host) noexcept {
  auto s = classify_address(host);
  return s == address_scope::private_use || s == address_scope::link_local;
}

std::optional<finding> check_nat(const nat_facts& f) {
  // Without received/rport the registrar told us nothing about what it saw.
  if (f.received.empty() && !f.rport) return std::nullopt;
  const std::string& seen = f.received.empty() ? f.via_host : f.received;
  const bool address_differs = !f.received.empty() && f.received != f.via_host;
  const bool port_differs = f.rport && f.via_port != 0 && *f.rport != f.via_port;

  std::string where;
  if (is_private(f.contact_host) && f.contact_host != seen) where = "Contact holds " + f.contact_host;
  else if (is_private(f.via_host) && address_differs) where = "Via holds " + f.via_host;
  if (where.empty()) return std::nullopt;

  std::string detail = where + " (private) but the registrar saw the request from " + seen;
  if (f.rport) detail += ":" + std::to_string(*f.rport);
  if (port_differs) detail += " (port rewritten from " + std::to_string(f.via_port) + ")";
  return finding{finding_code::nat_private_contact, detail};
}

std::optional<finding> check_rewrites(const std::vector<echoed_header>& headers) {
  std::string detail;
  for (const auto& h : headers) {
    if (h.sent == h.echoed) continue;
    if (!detail.empty()) detail += "; ";
    detail += h.name + " sent as \"" + h.sent + "\" came back as \"" + h.echoed + "\"";
  }
  if (detail.empty()) return std::nullopt;
  return finding{finding_code::sip_alg_suspected, detail};
}

}  // namespace probe
