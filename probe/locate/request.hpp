// probe/locate/request.hpp — turning what the user typed into an RFC 3263 request and resolver
// settings, shared by dns, reach, register and diagnose so they agree on every rule.
#pragma once

#include "netcheck/dns.hpp"
#include "netcheck/rfc3263.hpp"
#include "netcheck/tls_report.hpp"
#include "netcheck/transport.hpp"
#include "probe/locate/target.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace probe::locate {

// The request for a parsed target; `transport` is the --transport text ("" for none).
// Throws usage_error when --transport contradicts the target (transport=, sips).
netcheck::locate_request locate_request_from(const dns_target& target, const std::string& transport);

// usage_error unless every --dns-server is IP[:PORT] (names the option, not the value).
void check_dns_servers(const std::vector<std::string>& servers);

// Resolver settings for `servers` (--dns-server, validated: names are refused) within an
// overall time limit: the per-try timeout leaves room for retries. Throws usage_error.
netcheck::resolver_settings resolver_settings_for(const std::vector<std::string>& servers, std::chrono::milliseconds overall);

// Every transport on the same server, not only the configured one: another transport that
// answers is what tells "wrong transport" from "firewall". An explicit port is a SIP port,
// so TLS is only tried there when it was asked for (sips, transport=tls, --transport tls).
netcheck::locate_request every_transport_request(netcheck::locate_request req);

// parse_dns_target or usage_error naming the option (not the value).
dns_target parse_target_or_throw(const std::string& text, const std::string& what);

// --bind ADDR[:PORT] as flow options (empty: none); usage_error unless ADDR is an IP.
netcheck::flow_options bind_options(const std::string& bind);

// The resolver for --dns-server (resolver_settings_for) and the TLS context for --ca-file;
// usage_error naming the option when they cannot be made. The TLS context reads a
// --ca-file now and loads nothing else until the first TLS connection (the system store
// costs tens of milliseconds).
std::unique_ptr<netcheck::resolver> make_resolver(boost::asio::io_context& io, const std::vector<std::string>& servers,
                                                  std::chrono::milliseconds overall);
std::unique_ptr<netcheck::tls_context> make_tls(const std::string& ca_file, bool insecure);

// Whether RFC 3263 may pick TLS for this request (then a TLS context is needed).
bool may_use_tls(const netcheck::locate_request& req) noexcept;

}  // namespace probe::locate
