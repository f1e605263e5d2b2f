// probe/core/evidence.hpp — pure checks that turn what was sent and what came back into
// findings: private addresses behind NAT, and headers rewritten on the way (SIP ALG).
#pragma once

#include "probe/core/catalog.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probe {

enum class address_scope {
  not_ip,       // a host name, or not an address at all
  loopback,     // 127.0.0.0/8, ::1
  private_use,  // RFC 1918, RFC 6598 (CGNAT 100.64/10), RFC 4193 ULA fc00::/7
  link_local,   // 169.254/16, fe80::/10
  global,       // anything else
};

// Classifies an IPv4 or IPv6 literal (brackets allowed).
address_scope classify_address(std::string_view host) noexcept;
// True for private_use and link_local: an address a peer on the Internet cannot reach.
bool is_private(std::string_view host) noexcept;

// What we put in the request, and what the registrar said it saw.
struct nat_facts {
  std::string contact_host;            // host of the Contact we registered
  std::string via_host;                // sent-by host of our Via
  std::string received;                // Via received= in the response ("" when absent)
  std::optional<std::uint16_t> rport;  // Via rport=N in the response
  std::uint16_t via_port = 0;          // sent-by port of our Via (0: default)
};

// nat_private_contact when the Contact (or Via) holds a private address while the
// registrar saw another source address; nullopt otherwise.
std::optional<finding> check_nat(const nat_facts& f);

// One header as sent and as echoed back in the response.
struct echoed_header {
  std::string name;  // "Via sent-by", "Via branch", "Call-ID", "From tag", "CSeq"
  std::string sent;
  std::string echoed;
};

// sip_alg_suspected listing every echoed header that differs from what was sent
// (RFC 3261 §8.2.6.2: a UAS copies Via, From, To, Call-ID and CSeq into its responses).
std::optional<finding> check_rewrites(const std::vector<echoed_header>& headers);

}  // namespace probe
