// probe/registration/run.hpp — a whole registration run: locate the registrar (RFC 3263),
// connect to each target in order, register, fail over on timeout / refusal / 503
// (RFC 3263 §4.3), and fill the report.
#pragma once

#include "netcheck/common.hpp"
#include "netcheck/dns.hpp"
#include "netcheck/link.hpp"
#include "netcheck/rfc3263.hpp"
#include "probe/core/report.hpp"
#include "probe/registration/exchange.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace probe::registration {

// Where to send, as the user said it (defaults: RFC 3263 on the AOR's domain).
struct route_options {
  std::string registrar;                         // --registrar HOST[:PORT]
  std::string outbound_proxy;                    // --outbound-proxy URI
  std::optional<netcheck::transport> transport;  // --transport
  std::vector<std::string> dns_servers;          // --dns-server
  std::string ca_file;                           // --ca-file
  bool insecure = false;                         // --insecure
  std::string bind;                              // --bind ADDR[:PORT]
};

// The RFC 3263 request for this account and route, or one line on why there is none: a
// --registrar or --outbound-proxy that is not a target, a sips: AOR with another --transport.
expected<netcheck::locate_request, std::string> locate_request_for(const account& acct, const route_options& route);

// What the runs of a batch share (probe/batch/scheduler.hpp): one resolver, one TLS context and one
// link per endpoint (one UDP socket, one TCP/TLS connection). A null member: each run
// makes its own, as `register` does.
struct shared_resources {
  netcheck::resolver* resolver = nullptr;
  netcheck::tls_context* tls = nullptr;
  netcheck::link_pool* links = nullptr;
};

// Everything a run needs from outside; tests may substitute the random parts.
struct run_context {
  boost::asio::io_context& io;
  sip::id_factory& ids;
  std::mt19937& rng;  // RFC 2782 weighted SRV choice
  const shared_resources* shared = nullptr;
  // A signal's stop request (probe/registration/interrupt.hpp): the run sets its on_request hook; a
  // lookup or a connect stops at once, a REGISTER in flight is waited for.
  run_interrupt* interrupt = nullptr;
};

// Runs the registration; `done` receives the finished report (elapsed_ms set).
// Throws usage_error for configuration problems found before any I/O (bad CA file,
// bad --dns-server).
// `located`, when given, is the RFC 3263 step already made: locate_request_for()'s request
// and its resolution (diagnose resolves once for both its checks and the registration; a
// batch once per registrar).
struct prelocated {
  netcheck::locate_request request;
  std::shared_ptr<const netcheck::resolution> answer;  // shared: a batch's rows read one
};
void async_register_run(run_context ctx, const account& acct, const register_settings& settings, const route_options& route,
                        std::chrono::milliseconds timeout, std::function<void(report)> done,
                        std::optional<prelocated> located = std::nullopt);

}  // namespace probe::registration
