// netcheck/error.hpp — error codes of the netcheck layer (DNS, RFC 3263 planning, transports).
//
// Public APIs of netcheck/ report a std::error_code built from netcheck::errc. A DNS outcome
// that is a fact about the zone (NXDOMAIN, NODATA…) is an error code too, so a caller can tell
// the kinds apart and cite the record that failed.
#pragma once

#include <string>
#include <system_error>

namespace netcheck {

enum class errc {
  ok = 0,
  // DNS outcomes of one query (see dns.hpp, dns_status)
  nxdomain = 1,  // the name does not exist (RCODE 3)
  nodata,        // the name exists but has no record of the asked type
  servfail,      // the server answered SERVFAIL
  refused,       // the server answered REFUSED, or nothing listens on its port
  timeout,       // no answer before the per-query or overall deadline
  malformed,     // an answer that could not be parsed
  dns_error,     // any other resolver failure (out of memory, bad name, …)
  // RFC 3263 planning
  service_unavailable,  // SRV answered with the single target "." (RFC 2782)
  no_usable_records,    // records exist but none leads to a target (unsupported services…)
  limit_reached,        // a named bound (records, queries, targets) was hit
  // resolver set-up (start-up/config: thrown as std::system_error)
  bad_server_address,    // --dns-server is not IPv4[:port] or [IPv6]:port
  resolver_init_failed,  // ares_library_init / ares_init_options failed (a query's detail)
  // transports and TLS (see transport.hpp, tls_report.hpp)
  connect_timeout,        // no TCP connection before the deadline (SYN unanswered)
  tls_handshake_timeout,  // TCP connected, but the TLS handshake did not finish in time
  send_timeout,           // the bytes could not be sent before the deadline
  receive_timeout,        // no complete message before the deadline
  tls_handshake_failed,   // the TLS handshake failed (tls_report::handshake_error says why)
  tls_verify_failed,      // the certificate does not verify for the host (tls_report::verdict)
  connection_closed,      // the peer closed the connection (nothing was pending)
  truncated_message,      // the peer closed the connection in the middle of a message
  message_too_large,      // a message exceeded the receive limit
  malformed_message,      // the framer rejected the received bytes
  busy,                   // an operation of that kind is already pending on the flow
  not_connected,          // the flow is not connected (never, failed, or closed)
  bad_ca_file,            // the CA file cannot be loaded (start-up/config: thrown)
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace netcheck

template <>
struct std::is_error_code_enum<netcheck::errc> : std::true_type {};
