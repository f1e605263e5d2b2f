// probe/core/secret.hpp — where the secret comes from, and keeping it out of sight.
//
// A password (or a precomputed HA1) never travels in argv by default: it comes from an
// environment variable, a file, standard input, SIPPROBE_PASSWORD or a no-echo prompt on
// the terminal. `--password` works but warns, and main() blanks it in argv.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <string>

namespace probe {

// Where the secret comes from, as the command line said it (probe/cli/ adds the options).
struct secret_options {
  std::string password_env;             // --password-env VAR
  std::string password_file;            // --password-file FILE
  bool password_stdin = false;          // --password-stdin
  std::optional<std::string> password;  // --password (visible to other users)
  std::string ha1_env;                  // --ha1-env VAR
};

struct secret {
  std::string password;  // empty when ha1 is set
  std::string ha1;       // hex H(user:realm:password), empty when password is set
  std::string source;    // for the report: "environment variable SIP_PW", never the value
};

// Everything acquire_secret() needs from the outside world; tests replace it.
struct secret_env {
  std::function<const char*(const char*)> getenv;
  std::istream* in = nullptr;  // standard input
  bool stdin_is_tty = false;
  std::function<std::optional<std::string>(const std::string&)> prompt;  // no-echo prompt
  std::function<void(const std::string&)> warn;                          // one line on stderr
};
secret_env process_secret_env();

// Picks the one source given (two explicit sources are a usage error), else
// SIPPROBE_PASSWORD, else the prompt on a terminal. Throws usage_error with a precise
// message when nothing usable is found. `required` false returns an empty secret instead.
secret acquire_secret(const secret_options& opts, const secret_env& env, bool required = true);

// Limits on what a file or stdin may hold: a secret is one line.
inline constexpr std::size_t max_secret_bytes = 1024;

// Makes the process undumpable and without core files while it holds a secret.
void protect_process_memory();

// Overwrites the value following --password (or --password=…) in argv so `ps` no longer
// shows it. CLI11 has already copied it by then.
void scrub_password_argv(int argc, char** argv);

}  // namespace probe
