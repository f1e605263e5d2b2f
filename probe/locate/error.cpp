#include "probe/locate/error.hpp"

namespace probe::locate {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "probe.locate"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::empty_target: return "empty target";
      case errc::space_or_control: return "the target contains spaces or control characters";
      case errc::unsupported_scheme: return "unsupported URI scheme (use sip:, sips:, a domain or host:port)";
      case errc::empty_user: return "empty user part before '@'";
      case errc::parameters_without_scheme: return "URI parameters need a sip: or sips: URI";
      case errc::missing_bracket: return "missing ']' after IPv6 address";
      case errc::text_after_bracket: return "unexpected text after ']'";
      case errc::empty_port: return "empty port after ':'";
      case errc::bad_bracketed_ipv6: return "not an IPv6 address inside [ ]";
      case errc::bad_ipv6: return "not an IPv6 address (write [addr]:port)";
      case errc::bad_port: return "the port is not a number from 1 to 65535";
      case errc::empty_host: return "empty host";
      case errc::host_too_long: return "host name longer than 253 characters";
      case errc::empty_label: return "empty label in the host name";
      case errc::label_too_long: return "label longer than 63 characters in host name";
      case errc::bad_host_character: return "character not allowed in a host name";
      case errc::not_ipv4: return "not a valid IPv4 address";
      case errc::unsupported_transport: return "this transport= is not supported (udp, tcp or tls)";
      case errc::sips_over_udp: return "sips: cannot use transport=udp (SIPS needs TLS)";
    }
    return "unknown probe.locate error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace probe::locate
