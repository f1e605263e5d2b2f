// `sipprobe dns`: the RFC 3263 resolution plan — how a phone would locate the registrar.
//
//   sipprobe dns sip:alice@example.com --dns-server 127.0.0.1:5353 [--transport tcp] [--json]
//
// Exit: 0 at least one target, 1 dns_failure, 2 usage (bad target, bad --dns-server).
#include "netcheck/dns.hpp"
#include "netcheck/error.hpp"
#include "netcheck/rfc3263.hpp"
#include "probe/cli/app.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/locate/dns_report.hpp"
#include "probe/locate/request.hpp"
#include "probe/locate/target.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>
#include <memory>
#include <random>

namespace probe::cli {
namespace {

struct dns_options {
  std::string target;
  std::vector<std::string> servers;
  std::string transport;
  common_options common;
};

int run_dns(const dns_options& o) {
  auto target = locate::parse_dns_target(o.target);
  if (!target) throw usage_error("cannot use '" + o.target + "' as a target: " + target.error().message());

  const auto req = locate::locate_request_from(*target, o.transport);
  const auto overall = std::chrono::milliseconds(static_cast<long>(o.common.timeout_s * 1000));
  const auto settings = locate::resolver_settings_for(o.servers, overall);

  boost::asio::io_context io;
  std::unique_ptr<netcheck::resolver> res;
  try {
    res = std::make_unique<netcheck::resolver>(io, settings);
  } catch (const std::system_error& e) {
    if (e.code() == netcheck::errc::bad_server_address) throw usage_error("--dns-server: " + e.code().message());
    throw;
  }

  locate::dns_run run;
  run.input = o.target;
  run.target = *target;
  run.servers = res->servers();

  netcheck::locate_limits limits;
  limits.deadline = overall;
  std::mt19937 rng{std::random_device{}()};
  bool done = false;
  netcheck::async_locate(*res, req, limits, rng, [&](netcheck::resolution r) {
    run.result = std::move(r);
    done = true;
    res->cancel();  // queries still in c-ares end now, so run() returns
  });
  // A second bound on the loop itself: never hang, whatever c-ares does.
  io.run_for(overall + std::chrono::seconds(2));
  res.reset();
  if (!done) {
    std::cerr << "sipprobe: internal error: DNS resolution did not finish\n";
    return exit_internal;
  }

  if (o.common.json) {
    std::cout << json_text(locate::dns_to_json(run)) << "\n";
  } else {
    locate::write_dns_text(std::cout, run, resolve_color(o.common.color, ::isatty(STDOUT_FILENO) != 0));
  }
  return run.result.targets.empty() ? exit_failed : exit_ok;
}

}  // namespace

void setup_dns(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand("dns", "Show how a phone would locate the registrar (RFC 3263: NAPTR, SRV, A/AAAA)");
  auto opts = std::make_shared<dns_options>();
  cmd->add_option("target", opts->target, "domain, AOR or URI (sip:alice@example.com), host[:port], [IPv6]:port")->required();
  cmd->add_option("--dns-server", opts->servers,
                  "DNS server IP[:PORT] or [IPv6]:PORT to ask (repeatable; default: "
                  "/etc/resolv.conf)")
      ->allow_extra_args(false);  // one value per --dns-server, so the target stays positional
  cmd->add_option("--transport", opts->transport, "Only this transport: udp, tcp or tls")->check(one_of({"udp", "tcp", "tls"}));
  add_common_options(*cmd, opts->common);
  cmd->callback([&selected, opts] { selected = [opts] { return run_dns(*opts); }; });
}

}  // namespace probe::cli
