// probe/exporter/prober.cpp — see the header.
#include "probe/exporter/prober.hpp"

#include "probe/core/catalog.hpp"
#include "probe/core/errors.hpp"
#include "probe/locate/request.hpp"
#include "probe/locate/target.hpp"
#include "probe/reach/check.hpp"
#include "probe/registration/exchange.hpp"
#include "probe/registration/run.hpp"

#include <memory>

namespace probe::exporter {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

bool registers(const module& m) { return m.kind != prober::options; }

// The account for a registering probe: the module's secret, or the accounts file's row.
struct job {
  std::shared_ptr<const config> cfg;  // keeps `m` alive across a reload
  const module* m = nullptr;
  std::string target;
  registration::account acct;
  registration::register_settings settings;
  registration::route_options route;
  std::unique_ptr<netcheck::resolver> resolver;
  std::unique_ptr<netcheck::tls_context> tls;
  netcheck::locate_request request;
  reach::check_settings checks;
  probe_outcome out;
  clock_type::time_point start;
  std::function<void(probe_outcome)> done;

  void finish() {
    out.duration_s = std::chrono::duration<double>(clock_type::now() - start).count();
    auto d = std::move(done);
    d(std::move(out));
  }
};

void run_registration(boost::asio::io_context& io, sip::id_factory& ids, std::mt19937& rng, std::shared_ptr<job> j,
                      milliseconds timeout) {
  auto aor = registration::parse_aor(j->target);
  if (!aor) {
    j->out.error = aor.error();
    return j->finish();
  }
  j->acct.aor = *aor;
  j->acct.auth_user = j->m->user;
  j->acct.expected_realm = j->m->realm;
  j->route = j->m->route;
  if (const auto* row = account_for(*j->m, j->target)) {
    j->acct = row->acct;
    if (!row->registrar.empty()) j->route.registrar = row->registrar;
    if (row->transport) j->route.transport = row->transport;
  } else if (j->m->credentials) {
    j->acct.credentials = *j->m->credentials;
  } else {
    j->out.error = "no account for this target in " + j->m->accounts_csv;
    return j->finish();
  }
  j->settings.expires = j->m->expires;
  j->settings.query = j->m->kind == prober::query;
  j->settings.inbound = j->m->kind == prober::inbound;
  j->settings.ladder = false;
  try {
    registration::async_register_run({io, ids, rng, nullptr, nullptr}, j->acct, j->settings, j->route, timeout, [j](report r) {
      j->out.success = is_success(r.primary.code);
      j->out.registration = std::move(r);
      j->finish();
    });
  } catch (const usage_error& e) {  // a route the module's file let through (a CA file gone since)
    j->out.error = e.what();
    j->finish();
  }
}

void run_options(boost::asio::io_context& io, sip::id_factory& ids, std::mt19937& rng, std::shared_ptr<job> j,
                 milliseconds timeout) {
  auto target = locate::parse_dns_target(j->target);
  if (!target) {
    j->out.error = "not a target: " + j->target;
    return j->finish();
  }
  try {
    j->request = locate::locate_request_from(
        *target, j->m->route.transport ? std::string(netcheck::to_string(*j->m->route.transport)) : "");
    if (!j->m->route.transport) j->request = locate::every_transport_request(j->request);
    j->resolver = locate::make_resolver(io, j->m->route.dns_servers, timeout);
    j->tls = locate::make_tls(j->m->route.ca_file, j->m->route.insecure);
    j->checks.flow = locate::bind_options(j->m->route.bind);
  } catch (const usage_error& e) {
    j->out.error = e.what();
    return j->finish();
  }
  j->checks.server_name = j->request.host;  // RFC 5922 §4: the name asked for
  netcheck::locate_limits limits;
  limits.deadline = timeout;
  netcheck::async_locate(*j->resolver, j->request, limits, rng, [&io, &ids, j, timeout](netcheck::resolution r) {
    j->resolver->cancel();
    const auto spent = std::chrono::duration_cast<milliseconds>(clock_type::now() - j->start);
    j->checks.timeout = std::max(timeout - spent, milliseconds(1));
    if (r.targets.empty()) {
      j->out.error = "the target does not resolve";
      return j->finish();
    }
    reach::async_reach(io, ids, j->tls.get(), r.targets, j->checks, [j](std::vector<reach::target_check> checks) {
      j->out.success = !reach::diagnosis_from(checks).has_value();
      j->out.checks = std::move(checks);
      j->finish();
    });
  });
}

}  // namespace

std::optional<std::string> check_target(const module& m, const std::string& target) {
  if (target.empty()) return "no target: add &target=… (an AOR such as sip:alice@example.com)";
  if (target.size() > 512) return "the target is longer than 512 bytes";
  if (!registers(m)) {
    if (!locate::parse_dns_target(target)) return "not a target (an AOR, host[:port] or SIP URI): " + target;
    return std::nullopt;
  }
  auto aor = registration::parse_aor(target);
  if (!aor) return aor.error();
  if (!m.accounts_csv.empty() && account_for(m, target) == nullptr)
    return "no account for " + target + " in the module's accounts file";
  return std::nullopt;
}

std::string registrar_key(const module& m, const std::string& target) {
  if (registers(m)) {
    if (const auto* row = account_for(m, target); row && !row->registrar.empty()) return row->registrar;
    if (!m.route.outbound_proxy.empty()) return m.route.outbound_proxy;
    if (!m.route.registrar.empty()) return m.route.registrar;
    if (auto aor = registration::parse_aor(target)) return aor->host;
    return target;
  }
  if (auto t = locate::parse_dns_target(target)) return t->host;
  return target;
}

void async_probe(boost::asio::io_context& io, sip::id_factory& ids, std::mt19937& rng, std::shared_ptr<const config> cfg,
                 const module& m, const std::string& target, milliseconds timeout, std::function<void(probe_outcome)> done) {
  auto j = std::make_shared<job>();
  j->cfg = std::move(cfg);
  j->m = &m;
  j->target = target;
  j->start = clock_type::now();
  j->done = std::move(done);
  j->out.prober = std::string(to_string(m.kind));
  if (registers(m)) run_registration(io, ids, rng, j, timeout);
  else run_options(io, ids, rng, j, timeout);
}

}  // namespace probe::exporter
