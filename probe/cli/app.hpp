// probe/cli/app.hpp — the command-line frame: exit codes, option helpers, subcommand wiring.
//
// Each subcommand lives in its own file (CLI11's subcom_in_files pattern):
//   void setup_<name>(CLI::App& parent, action& selected);
// adds the subcommand and its options; its callback only stores in `selected` a closure
// that runs the work after parse() has returned. The closure returns the exit status.
#pragma once

#include "probe/core/errors.hpp"
#include "probe/core/secret.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace probe::cli {

using action = std::function<int()>;

// Checks for option values. Their messages name the option (CLI11 puts it first) and what
// is wrong, never the value itself: a secret typed in the wrong place must not be printed.
//   number_in(0.1, 3600)      a finite decimal number in the range: "not a number", "not in
//                             range 0.1 to 3600" (NaN and infinities are not numbers here)
//   whole_number_in(0, 4294967295)   the same for whole numbers
//   one_of({"udp", "tcp", "tls"})    one of the words, any case: "must be one of udp, tcp, tls"
//   sip_text()                no control characters but TAB (CR, LF, ESC…): the value goes into
//                             a SIP message, where CR LF would end a header (RFC 3261 section 7.3)
CLI::Validator number_in(double lo, double hi);
CLI::Validator whole_number_in(std::uint64_t lo, std::uint64_t hi);
CLI::Validator one_of(std::vector<std::string> words);
CLI::Validator sip_text();
// A target as dns, reach and --registrar take it (probe/locate/target.hpp): a usage error
// at parse time, before any row of a batch is read (--registrar, --outbound-proxy).
CLI::Validator target_text();

// "unexpected arguments for dns: --password and 1 value (not shown)": CLI11's message for
// arguments it did not expect, without echoing what could be a value. `extras` are the
// arguments as typed; `command` the subcommand ("" for none: then a word is taken for a
// subcommand that does not exist).
std::string unexpected_arguments(const std::string& command, const std::vector<std::string>& extras);

// Options every network subcommand shares.
struct common_options {
  bool json = false;
  double timeout_s = 10.0;
  std::string color = "auto";  // auto | always | never
};
void add_common_options(CLI::App& cmd, common_options& opts);

// The options that say where the secret comes from (probe/core/secret.hpp).
void add_secret_options(CLI::App& cmd, secret_options& opts);

// Runs the whole command line; returns the process exit status.
int run(int argc, char** argv);

// "jemalloc 5.3.0-…" when the executable runs on jemalloc, else "glibc malloc"
// (--version tells, so a benchmark's figures say which allocator made them).
std::string allocator_name();

// Subcommands (one file each).
void setup_dns(CLI::App& parent, action& selected);
void setup_register(CLI::App& parent, action& selected);
void setup_analyze(CLI::App& parent, action& selected);
void setup_reach(CLI::App& parent, action& selected);
void setup_diagnose(CLI::App& parent, action& selected);
void setup_batch(CLI::App& parent, action& selected);
void setup_exporter(CLI::App& parent, action& selected);

}  // namespace probe::cli
