#include "netcheck/verdict.hpp"

#include "netcheck/error.hpp"

namespace netcheck {

std::string_view to_string(probe_verdict v) noexcept {
  switch (v) {
    case probe_verdict::ok: return "ok";
    case probe_verdict::refused: return "refused";
    case probe_verdict::no_answer: return "no_answer";
    case probe_verdict::tls_error: return "tls_error";
    case probe_verdict::bad_reply: return "bad_reply";
    case probe_verdict::closed: return "closed";
    case probe_verdict::unreachable: return "unreachable";
    case probe_verdict::error: return "error";
  }
  return "error";
}

probe_verdict verdict_for(std::error_code ec) noexcept {
  if (!ec) return probe_verdict::ok;
  if (ec == std::errc::connection_refused) return probe_verdict::refused;
  if (ec == std::errc::host_unreachable || ec == std::errc::network_unreachable) {
    return probe_verdict::unreachable;
  }
  if (ec == std::errc::connection_reset || ec == std::errc::broken_pipe) {
    return probe_verdict::closed;
  }
  if (ec.category() == category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::connect_timeout:
      case errc::receive_timeout:
      case errc::send_timeout: return probe_verdict::no_answer;
      case errc::tls_handshake_timeout:
      case errc::tls_handshake_failed:
      case errc::tls_verify_failed: return probe_verdict::tls_error;
      case errc::malformed_message:
      case errc::truncated_message:
      case errc::message_too_large: return probe_verdict::bad_reply;
      case errc::connection_closed: return probe_verdict::closed;
      default: break;
    }
  }
  return probe_verdict::error;
}

}  // namespace netcheck
