// netcheck/endpoint.hpp — a target as text and as somewhere to connect: "host:port" as
// every report writes it, and the endpoint a flow connects to for a target that RFC 3263
// found (rfc3263.hpp → transport.hpp).
#pragma once

#include "netcheck/rfc3263.hpp"
#include "netcheck/transport.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netcheck {

// "192.0.2.7:5060", "[2001:db8::1]:5061", "sip.example.com:5060": a host name or address
// with its port, an IPv6 literal in brackets (RFC 3986 §3.2.2; one in brackets already
// stays as it is).
std::string endpoint_text(std::string_view host, std::uint16_t port);
inline std::string endpoint_text(const target& t) { return endpoint_text(t.address, t.port); }

// Where a flow connects for `t`: its transport, address and port, and `name` as the name
// its certificate must hold and the SNI (TLS; see endpoint_spec). nullopt when t.address
// is not an IP address.
std::optional<endpoint_spec> endpoint_for(const target& t, std::string name);

}  // namespace netcheck
