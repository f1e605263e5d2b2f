#include "netcheck/error.hpp"

namespace netcheck {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "netcheck"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::nxdomain: return "domain name does not exist (NXDOMAIN)";
      case errc::nodata: return "no record of the requested type (NODATA)";
      case errc::servfail: return "DNS server failure (SERVFAIL)";
      case errc::refused: return "DNS server refused the query or is not listening";
      case errc::timeout: return "no DNS answer before the deadline";
      case errc::malformed: return "malformed DNS answer";
      case errc::dns_error: return "DNS resolution failed";
      case errc::service_unavailable: return "SRV record says the service is not available here";
      case errc::no_usable_records: return "no usable NAPTR/SRV/A/AAAA records";
      case errc::limit_reached: return "resolution limit reached (records, queries or targets)";
      case errc::bad_server_address: return "DNS server must be IPv4[:port] or [IPv6]:port";
      case errc::resolver_init_failed: return "could not initialise the DNS resolver";
      case errc::connect_timeout: return "no connection before the deadline";
      case errc::tls_handshake_timeout: return "TLS handshake did not finish before the deadline";
      case errc::send_timeout: return "could not send before the deadline";
      case errc::receive_timeout: return "no reply before the deadline";
      case errc::tls_handshake_failed: return "TLS handshake failed";
      case errc::tls_verify_failed: return "TLS certificate verification failed";
      case errc::connection_closed: return "peer closed the connection";
      case errc::truncated_message: return "peer closed the connection in the middle of a message";
      case errc::message_too_large: return "message exceeds the receive limit";
      case errc::malformed_message: return "received bytes are not a valid message";
      case errc::busy: return "an operation of this kind is already pending";
      case errc::not_connected: return "not connected";
      case errc::bad_ca_file: return "cannot load the TLS CA file";
    }
    return "unknown netcheck error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace netcheck
