#include "netcheck/endpoint.hpp"

#include <boost/asio/ip/address.hpp>

namespace netcheck {

std::string endpoint_text(std::string_view host, std::uint16_t port) {
  const bool bracket = host.find(':') != std::string_view::npos && host.front() != '[';
  std::string out;
  out.reserve(host.size() + 8);
  if (bracket) out += '[';
  out += host;
  if (bracket) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<endpoint_spec> endpoint_for(const target& t, std::string name) {
  boost::system::error_code ec;
  endpoint_spec ep;
  ep.address = boost::asio::ip::make_address(t.address, ec);
  if (ec) return std::nullopt;
  ep.proto = t.t;
  ep.port = t.port;
  ep.host = std::move(name);
  return ep;
}

}  // namespace netcheck
