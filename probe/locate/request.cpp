#include "probe/locate/request.hpp"

#include "netcheck/error.hpp"
#include "probe/core/errors.hpp"
#include "sip/random.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace probe::locate {

dns_target parse_target_or_throw(const std::string& text, const std::string& what) {
  auto t = parse_dns_target(text);
  if (!t) throw usage_error(what + ": cannot use the value: " + t.error().message());
  return *std::move(t);
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
      throw usage_error("--transport " + transport +
                        " contradicts the URI's transport=" + std::string(netcheck::to_string(*target.transport)));
    if (req.secure && *t != netcheck::transport::tls) throw usage_error("--transport " + transport + ": a sips: URI needs TLS");
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

void check_dns_servers(const std::vector<std::string>& servers) {
  for (std::size_t i = 0; i < servers.size(); ++i) {
    netcheck::server_address parsed;
    if (netcheck::parse_server(servers[i], parsed))
      throw usage_error("--dns-server" + (servers.size() > 1 ? " #" + std::to_string(i + 1) : std::string()) + ": " +
                        netcheck::make_error_code(netcheck::errc::bad_server_address).message() +
                        " (an IP address, not a name; port 1-65535)");
  }
}

netcheck::resolver_settings resolver_settings_for(const std::vector<std::string>& servers, std::chrono::milliseconds overall) {
  check_dns_servers(servers);
  netcheck::resolver_settings settings;
  settings.servers = servers;
  // c-ares doubles the per-try timeout each round; a quarter of the budget leaves room for
  // retries, and async_locate's deadline bounds the whole resolution anyway.
  settings.timeout = std::clamp(overall / 4, std::chrono::milliseconds(100), std::chrono::milliseconds(2000));
  settings.tries = 3;
  return settings;
}

netcheck::flow_options bind_options(const std::string& bind) {
  netcheck::flow_options fo;
  if (bind.empty()) return fo;
  auto b = parse_target_or_throw(bind, "--bind");
  boost::system::error_code ec;
  fo.local_address = boost::asio::ip::make_address(b.host, ec);
  if (ec) throw usage_error("--bind needs an IP address, not a host name");
  fo.local_port = b.port.value_or(0);
  return fo;
}

std::unique_ptr<netcheck::resolver> make_resolver(boost::asio::io_context& io, const std::vector<std::string>& servers,
                                                  std::chrono::milliseconds overall) {
  auto settings = resolver_settings_for(servers, overall);
  try {
    return std::make_unique<netcheck::resolver>(io, settings);
  } catch (const std::system_error& e) {
    // The code's message, not what(): that quotes the server as given.
    throw usage_error("--dns-server: " +
                      (e.code() == netcheck::errc::bad_server_address ? e.code().message() : std::string(e.what())));
  }
}

std::unique_ptr<netcheck::tls_context> make_tls(const std::string& ca_file, bool insecure) {
  // Reading a --ca-file makes OpenSSL read openssl.cnf: choose the DRBG first, so that a
  // [random] section there still wins (sip/random.hpp).
  sip::prefer_hash_drbg();
  auto tls = std::make_unique<netcheck::tls_context>(netcheck::tls_options{ca_file, insecure});
  // A --ca-file is read now, so that a bad one is a usage error before any I/O, in one line
  // that says what is wrong with the file before OpenSSL's coded errors can. The system
  // store waits for the first TLS connection (tls_context::ssl()).
  if (auto why = tls->read_ca_file(); !why.empty()) throw usage_error("--ca-file " + ca_file + ": " + why);
  return tls;
}

bool may_use_tls(const netcheck::locate_request& req) noexcept {
  return req.secure || !req.forced || *req.forced == netcheck::transport::tls;
}

}  // namespace probe::locate
