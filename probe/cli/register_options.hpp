// probe/cli/register_options.hpp — the options `register`, `diagnose` and `batch` share, and the
// three ways a report leaves the program: text, JSON, or a monitoring-plugin line.
#pragma once

#include "probe/cli/app.hpp"
#include "probe/core/report.hpp"
#include "probe/core/secret.hpp"
#include "probe/registration/exchange.hpp"
#include "probe/registration/run.hpp"

#include <string>
#include <vector>

namespace probe::cli {

struct register_cli {
  std::string aor;
  common_options common;
  secret_options secret;
  std::string user;
  std::string realm;
  registration::route_options route;
  std::string transport;  // --transport text, checked by CLI11
  registration::register_settings settings;
  std::vector<std::string> headers;  // --header 'Name: value'
  bool trace = false;
  bool nagios = false;
  double warning_ms = 0;      // --warning: WARNING above this total time
  double critical_ms = 0;     // --critical: CRITICAL above this total time
  bool nat_lifetime = false;  // register --nat-lifetime
  long max_idle_s = 300;      // register --max-idle
};

// The route options, one group with one help text each for register, diagnose and batch:
// --registrar, --outbound-proxy, --transport (its text into `transport`, checked to be
// udp, tcp or tls), --dns-server, --ca-file, --insecure, --bind.
void add_route_options(CLI::App& cmd, registration::route_options& route, std::string& transport);

// Adds the options of register and diagnose to a subcommand (the route group among them).
void add_register_options(CLI::App& cmd, register_cli& o);

// Turns the options into an account and settings: reads the secret, parses the AOR and
// the --header values. Throws usage_error with a precise message.
registration::account make_account(register_cli& o);
void finish_settings(register_cli& o);

// Prints the report as asked (--json, --nagios, or text) and returns the exit status.
int emit_report(const report& r, const register_cli& o);

}  // namespace probe::cli
