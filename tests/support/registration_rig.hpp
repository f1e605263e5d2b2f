// tests/support/registration_rig.hpp — the edges of probe's registration code fixed for a
// unit test against tests/support/fake_registrar.hpp: one io_context for the code and the
// fake, identifiers from a fixed generator instead of RAND_bytes, a seeded generator for the RFC
// 2782 SRV choice, short RFC 3261 timers, and the account and route of a probe of the fake.
#pragma once

#include "netcheck/transport_fakes.hpp"
#include "probe/registration/run.hpp"
#include "support/fixed_random.hpp"
#include "support/fake_registrar.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace test_support {

using namespace std::chrono_literals;

// alice@sip.test with `password` (the fake's account when it knows alice/secret).
inline probe::registration::account account_of(const std::string& aor = "sip:alice@sip.test",
                                               const std::string& password = "secret") {
  auto uri = probe::registration::parse_aor(aor);
  REQUIRE_MESSAGE(uri, "not an AOR: ", aor);
  probe::registration::account a;
  a.aor = *uri;
  a.credentials.password = password;
  return a;
}

// Timer E from 20 ms, capped at 80 ms: retransmissions a test can count in a few hundred ms.
inline probe::registration::register_settings quick_settings() {
  probe::registration::register_settings s;
  s.timers.t1 = 20ms;
  s.timers.t2 = 80ms;
  return s;
}

// --registrar 127.0.0.1:PORT --transport T, PORT the fake's port for T.
inline probe::registration::route_options route_to(const fake_registrar& fake, netcheck::transport t = netcheck::transport::udp) {
  probe::registration::route_options r;
  r.registrar = "127.0.0.1:" + std::to_string(t == netcheck::transport::tls ? fake.tls_port() : fake.port());
  r.transport = t;
  return r;
}

// The io_context and the random edges of one test.
struct registration_rig {
  boost::asio::io_context io;
  sip::id_factory ids{fixed_random()};
  std::mt19937 rng{14};

  probe::registration::run_context context(probe::registration::run_interrupt* interrupt = nullptr) {
    return {io, ids, rng, nullptr, interrupt};
  }

  // Runs a whole registration (async_register_run) and waits for its report.
  probe::report run(const probe::registration::account& acct, const probe::registration::register_settings& settings,
                    const probe::registration::route_options& route, std::chrono::milliseconds timeout = 1000ms,
                    probe::registration::run_interrupt* interrupt = nullptr) {
    std::optional<probe::report> out;
    probe::registration::async_register_run(context(interrupt), acct, settings, route, timeout,
                                            [&out](probe::report r) { out = std::move(r); });
    test_net::run_until(
        io, [&] { return out.has_value(); }, timeout + 2000ms);
    REQUIRE_MESSAGE(out, "the run ended without a report");
    return std::move(*out);
  }
};

}  // namespace test_support
