// probe/core/errors.hpp — how a run ends when it does not end with a report: the exit
// statuses of the command line's contract, and the exception for input the user can fix.
//
// Domain code throws usage_error for a bad option value, an unusable file or a
// contradictory request; only the command line (probe/cli/) catches it, prints
// "sipprobe: <what>" and exits with exit_usage.
#pragma once

#include <stdexcept>

namespace probe {

// The exit-status contract (README "Exit status", docs/commands.md). CLI11's own codes never escape.
enum exit_status : int {
  exit_ok = 0,        // the probe ran and the answer is good (registered, resolved, reachable)
  exit_failed = 1,    // the probe ran and found a problem: the report says what
  exit_usage = 2,     // bad command line or unusable input: one line on stderr
  exit_internal = 3,  // a bug or an environment failure we could not attribute
};

// Thrown for input the user can fix; main prints "sipprobe: <what>" and exits 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace probe
