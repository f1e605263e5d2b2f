// netcheck/verdict.hpp — what a failed connect/send/receive means for "does anything answer
// there?": one verdict per (target, transport), shared by `reach` and `diagnose`.
#pragma once

#include <string_view>
#include <system_error>

namespace netcheck {

enum class probe_verdict {
  ok,           // a message came back
  refused,      // TCP RST or ICMP port unreachable: nothing listens on that port/transport
  no_answer,    // nothing came back before the deadline (SYN unanswered, or no reply)
  tls_error,    // TLS handshake failed or the certificate does not verify
  bad_reply,    // bytes came back but could not be framed, were cut off, or were too large
  closed,       // the peer accepted the connection and closed it without a reply
  unreachable,  // ICMP host/network unreachable
  error,        // a local failure (bad local address, address family not available, …)
};
std::string_view to_string(probe_verdict v) noexcept;  // "ok", "refused", …

// Maps the error of a failed connect/send/receive to a verdict (pure; table-tested).
probe_verdict verdict_for(std::error_code ec) noexcept;

}  // namespace netcheck
