// `sipprobe diagnose`: DNS, then every transport in parallel, then a real registration,
// reasoned into one verdict (e.g. UDP silent but TCP answers → wrong_transport).
//
// The checks and the registration run at the same time, so a dead network is diagnosed
// within --timeout rather than after Timer F on each transport in turn.
#include "netcheck/endpoint.hpp"
#include "netcheck/tls_report.hpp"
#include "probe/cli/app.hpp"
#include "probe/cli/register_options.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/locate/request.hpp"
#include "probe/reach/check.hpp"
#include "probe/registration/interrupt.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>
#include <memory>
#include <random>

namespace probe::cli {
namespace {

bool same_endpoint(const netcheck::target& a, const netcheck::target& b) {
  return a.t == b.t && a.address == b.address && a.port == b.port;
}

// Combines the registration with the checks (catalog: network-level reasoning).
void combine(report& r, const std::vector<reach::target_check>& checks, const std::vector<netcheck::target>& configured) {
  const auto code = r.primary.code;
  const bool network = code == diagnosis_code::no_response || code == diagnosis_code::port_unreachable;
  if (!network) return;
  std::vector<std::string> answered;
  for (const auto& c : checks) {
    if (c.verdict != netcheck::probe_verdict::ok) continue;
    bool is_configured = false;
    for (const auto& t : configured) is_configured |= same_endpoint(t, c.target);
    if (!is_configured)
      answered.push_back(std::string(netcheck::to_string(c.target.t)) + " " + netcheck::endpoint_text(c.target) +
                         " answers OPTIONS with " + c.detail);
  }
  if (answered.empty()) return;
  r.primary.code = diagnosis_code::wrong_transport;
  r.primary.evidence.insert(r.primary.evidence.end(), answered.begin(), answered.end());
}

int run_diagnose(register_cli& o) {
  finish_settings(o);
  auto acct = make_account(o);
  const auto overall = std::chrono::milliseconds(static_cast<long>(o.common.timeout_s * 1000));
  const auto located = registration::locate_request_for(acct, o.route);
  if (!located) throw usage_error(located.error());
  const auto& configured_req = *located;
  const auto alt_req = locate::every_transport_request(configured_req);

  boost::asio::io_context io;
  auto res = locate::make_resolver(io, o.route.dns_servers, overall);
  auto tls = locate::make_tls(o.route.ca_file, o.route.insecure);
  // The checks and the registration share the TLS context: the CA store is loaded once.
  const registration::shared_resources shared{nullptr, tls.get(), nullptr};
  sip::id_factory ids(sip::openssl_random());
  std::mt19937 rng{std::random_device{}()};
  const auto start = std::chrono::steady_clock::now();

  std::optional<report> registration;
  std::vector<reach::target_check> checks;
  std::vector<netcheck::target> configured;
  int pending = 2;
  // A signal: the registration finishes what it started; the checks, which leave nothing
  // behind, are not waited for.
  registration::run_interrupt interrupt;
  registration::signal_watch signals(io, [&](const std::string& name) {
    registration::announce_interrupt(interrupt, name, o.common.timeout_s);
    if (registration) io.stop();
  });
  reach::check_settings rs;
  rs.timers = o.settings.timers;
  rs.server_name = configured_req.host;  // the name register checks too (RFC 5922 §4)

  // Resolve the configured targets first (that is the registration's view), then the
  // alternates; both are quick next to the network checks that follow.
  netcheck::locate_limits limits;
  limits.deadline = overall;
  netcheck::async_locate(*res, configured_req, limits, rng, [&](netcheck::resolution conf) {
    configured = conf.targets;
    auto left = std::max(
        overall - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start),
        std::chrono::milliseconds(1));
    registration::async_register_run(
        {io, ids, rng, &shared, &interrupt}, acct, o.settings, o.route, left,
        [&](report r) {
          registration = std::move(r);
          if (--pending == 0 || interrupt.requested()) signals.cancel();
          if (interrupt.requested()) io.stop();
        },
        registration::prelocated{configured_req, std::make_shared<const netcheck::resolution>(conf)});
    netcheck::async_locate(*res, alt_req, limits, rng, [&](netcheck::resolution alt) {
      res->cancel();
      auto left2 = std::max(
          overall - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start),
          std::chrono::milliseconds(1));
      rs.timeout = left2;
      reach::async_reach(io, ids, tls.get(), alt.targets, rs, [&](std::vector<reach::target_check> c) {
        checks = std::move(c);
        if (--pending == 0) signals.cancel();
      });
    });
  });
  // The inbound check has a --timeout of its own, and the removal waits for it; the
  // --nat-lifetime search idles at most about 4 × --max-idle in all, one binding after another.
  auto bound = (o.settings.inbound ? 2 : 1) * overall + std::chrono::seconds(3);
  if (o.settings.nat_lifetime) bound += 4 * *o.settings.nat_lifetime + 4 * overall + std::chrono::seconds(60);
  io.run_for(bound);
  if (!registration || (pending != 0 && !interrupt.requested()))
    throw std::runtime_error("diagnose did not finish within its time limit");

  report& r = *registration;
  combine(r, checks, configured);
  for (auto& f : reach::findings_from(checks)) {
    bool dup = false;
    for (const auto& g : r.findings) dup |= g.code == f.code;
    if (!dup) r.findings.push_back(std::move(f));
  }
  r.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  if (o.nagios) return emit_report(r, o);
  if (o.common.json) {
    auto j = to_json(r);
    auto& cj = j["checks"] = nlohmann::json::array();
    for (const auto& c : checks) cj.push_back(to_json(c));
    std::cout << json_text(j) << "\n";
    return exit_status_for(r.primary.code);
  }
  std::cout << "Transports:\n";
  for (const auto& c : checks) {
    std::cout << "  " << netcheck::to_string(c.target.t) << " " << printable(netcheck::endpoint_text(c.target)) << "  "
              << netcheck::to_string(c.verdict) << "  " << printable(c.detail) << "\n";
  }
  std::cout << "\nRegistration:\n";
  return emit_report(r, o);
}

}  // namespace

void setup_diagnose(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand("diagnose", "DNS, every transport in parallel, then a real registration: one verdict");
  auto o = std::make_shared<register_cli>();
  // Registered is not yet reachable: diagnose checks that requests arrive (--no-inbound: not).
  o->settings.inbound = true;
  add_register_options(*cmd, *o);
  cmd->callback([&selected, o] { selected = [o] { return run_diagnose(*o); }; });
}

}  // namespace probe::cli
