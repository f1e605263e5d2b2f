// probe/exporter/prober.hpp — one probe of a module against a target, as a scrape asks for
// it: the module's prober (register, query, inbound: a registration run; options: OPTIONS
// on the target's transports) with the module's route and secret, bounded by `timeout`.
#pragma once

#include "probe/exporter/config.hpp"
#include "probe/exporter/metrics.hpp"
#include "sip/random.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace probe::exporter {

// Why `target` cannot be probed with `m` (one line, for an HTTP 400), or nullopt. An AOR
// for register, query and inbound (and one of the module's accounts with accounts_csv);
// an AOR, host[:port] or SIP URI for options.
std::optional<std::string> check_target(const module& m, const std::string& target);

// The registrar a probe of `target` talks to, for the per-registrar limit: the module's
// registrar, an account row's, or the target's host.
std::string registrar_key(const module& m, const std::string& target);

// Runs the probe on `io`; `done` runs once with the outcome (success, duration, the
// report or the checks). `m` is a module of `cfg`, which the probe holds until it ends (a
// reload may replace the server's meanwhile): never copied, since a module with an
// accounts file holds every account. `ids` and `rng` must outlive the probe.
void async_probe(boost::asio::io_context& io, sip::id_factory& ids, std::mt19937& rng, std::shared_ptr<const config> cfg,
                 const module& m, const std::string& target, std::chrono::milliseconds timeout,
                 std::function<void(probe_outcome)> done);

}  // namespace probe::exporter
