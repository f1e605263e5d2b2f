#include "probe/locate.hpp"

#include "netcheck/error.hpp"
#include "probe/cli.hpp"

#include <algorithm>

namespace probe {

dns_target parse_target_or_throw(const std::string& text, const std::string& what) {
  std::string why;
  auto t = parse_dns_target(text, why);
  if (!t) throw usage_error(what + ": cannot use '" + text + "': " + why);
  return *t;
}

netcheck::locate_request locate_request_from(const dns_target& target, const std::string& transport) {
  netcheck::locate_request req;
  req.host = target.host;
  req.port = target.port;
  req.secure = target.secure();
  req.forced = target.transport;
  if (!transport.empty()) {
    auto t = netcheck::transport_from_string(transport);
    if (!t) throw usage_error("--transport must be udp, tcp or tls, not " + transport);
    if (target.transport && *target.transport != *t)
      throw usage_error("--transport " + transport + " contradicts the URI's transport=" +
                        std::string(netcheck::to_string(*target.transport)));
    if (req.secure && *t != netcheck::transport::tls)
      throw usage_error("--transport " + transport + ": a sips: URI needs TLS");
    req.forced = t;
  }
  return req;
}

netcheck::locate_request every_transport_request(netcheck::locate_request req) {
  const bool tls_asked = req.secure || (req.forced && *req.forced == netcheck::transport::tls);
  req.forced.reset();
  req.every_transport = true;
  if (tls_asked) {
    req.secure = false;
    req.supported = {netcheck::transport::tls};
  } else if (req.port) {
    req.supported = {netcheck::transport::udp, netcheck::transport::tcp};
  }
  return req;
}

netcheck::resolver_settings resolver_settings_for(const std::vector<std::string>& servers,
                                                  std::chrono::milliseconds overall) {
  for (const auto& s : servers) {
    netcheck::server_address parsed;
    if (netcheck::parse_server(s, parsed))
      throw usage_error("--dns-server '" + s + "': " +
                        netcheck::make_error_code(netcheck::errc::bad_server_address).message() +
                        " (names are not accepted)");
  }
  netcheck::resolver_settings settings;
  settings.servers = servers;
  // c-ares doubles the per-try timeout each round; a quarter of the budget leaves room for
  // retries, and async_locate's deadline bounds the whole resolution anyway.
  settings.timeout = std::clamp(overall / 4, std::chrono::milliseconds(100), std::chrono::milliseconds(2000));
  settings.tries = 3;
  return settings;
}

}  // namespace probe
