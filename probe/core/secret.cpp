#include "probe/core/secret.hpp"

#include "probe/core/errors.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

namespace probe {
namespace {

// A secret is the first line; a trailing CR (files written on Windows) is not part of it.
std::string first_line(std::string s) {
  auto eol = s.find('\n');
  if (eol != std::string::npos) s.resize(eol);
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

std::string read_bounded(std::istream& in, const std::string& what) {
  std::string data;
  char buf[256];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > max_secret_bytes)
      throw usage_error(what + " holds more than " + std::to_string(max_secret_bytes) + " bytes; a password is one line");
  }
  return first_line(std::move(data));
}

bool is_hex(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// The first line of --password-file. A directory is not a file (a stream reads it as
// empty: "the password is empty" would be wrong); a regular file that other users can read
// is used, with a warning — the secret lies on disk for every local account to see.
std::string read_password_file(const std::string& path, const secret_env& env) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw usage_error("--password-file: " + path + " is a directory, not a file");
    if (S_ISREG(st.st_mode) && (st.st_mode & S_IROTH) != 0 && env.warn) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      env.warn("--password-file " + path + " is readable by other users (mode " + mode + "): chmod 600 " + path);
    }
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw usage_error("--password-file: cannot read " + path + ": " + std::strerror(errno));
  return read_bounded(f, "--password-file " + path);
}

std::optional<std::string> tty_prompt(const std::string& text) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (tty == nullptr) return std::nullopt;
  int fd = fileno(tty);
  termios old{};
  if (tcgetattr(fd, &old) != 0) {
    std::fclose(tty);
    return std::nullopt;
  }
  termios quiet = old;
  quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
  std::fputs(text.c_str(), tty);
  std::fflush(tty);
  tcsetattr(fd, TCSAFLUSH, &quiet);
  std::string line;
  int c = 0;
  while ((c = std::fgetc(tty)) != EOF && c != '\n' && line.size() <= max_secret_bytes) line.push_back(static_cast<char>(c));
  tcsetattr(fd, TCSAFLUSH, &old);
  std::fputs("\n", tty);
  std::fclose(tty);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

secret_env process_secret_env() {
  secret_env env;
  env.getenv = [](const char* name) { return std::getenv(name); };
  env.in = &std::cin;
  env.stdin_is_tty = ::isatty(STDIN_FILENO) == 1;
  env.prompt = tty_prompt;
  env.warn = [](const std::string& line) { std::cerr << "sipprobe: warning: " << line << "\n"; };
  return env;
}

secret acquire_secret(const secret_options& o, const secret_env& env, bool required) {
  int given = (!o.password_env.empty()) + (!o.password_file.empty()) + (o.password_stdin ? 1 : 0) +
              (o.password.has_value() ? 1 : 0) + (!o.ha1_env.empty());
  if (given > 1)
    throw usage_error(
        "give the secret one way only: --password-env, --password-file, "
        "--password-stdin, --password or --ha1-env");
  secret s;
  auto from_env = [&](const std::string& var, const char* option) {
    const char* v = env.getenv(var.c_str());
    if (v == nullptr) throw usage_error(std::string(option) + ": environment variable " + var + " is not set");
    if (std::strlen(v) > max_secret_bytes) throw usage_error(std::string(option) + ": " + var + " is too long");
    return std::string(v);
  };
  if (!o.password_env.empty()) {
    s.password = from_env(o.password_env, "--password-env");
    s.source = "environment variable " + o.password_env;
  } else if (!o.ha1_env.empty()) {
    s.ha1 = from_env(o.ha1_env, "--ha1-env");
    if (!is_hex(s.ha1) || (s.ha1.size() != 32 && s.ha1.size() != 64))
      throw usage_error("--ha1-env: " + o.ha1_env + " is not an HA1 (32 or 64 hex digits)");
    s.source = "HA1 from environment variable " + o.ha1_env;
  } else if (!o.password_file.empty()) {
    s.password = read_password_file(o.password_file, env);
    s.source = "file " + o.password_file;
  } else if (o.password_stdin) {
    if (env.in == nullptr) throw usage_error("--password-stdin: no standard input");
    s.password = read_bounded(*env.in, "standard input");
    s.source = "standard input";
  } else if (o.password) {
    if (env.warn) env.warn("--password is visible to other users (ps, shell history); prefer --password-env or --password-file");
    s.password = *o.password;
    s.source = "command line";
  } else if (const char* v = env.getenv("SIPPROBE_PASSWORD"); v != nullptr) {
    if (std::strlen(v) > max_secret_bytes) throw usage_error("SIPPROBE_PASSWORD is too long");
    s.password = v;
    s.source = "environment variable SIPPROBE_PASSWORD";
  } else if (required && env.stdin_is_tty && env.prompt) {
    auto p = env.prompt("Password: ");
    if (!p) throw usage_error("no password: the terminal could not be read");
    s.password = std::move(*p);
    s.source = "prompt";
  } else if (required) {
    throw usage_error(
        "no password: use --password-env VAR, --password-file FILE, --password-stdin, "
        "SIPPROBE_PASSWORD, or run on a terminal to be prompted");
  }
  if (required && s.password.empty() && s.ha1.empty()) throw usage_error("the password from " + s.source + " is empty");
  return s;
}

void protect_process_memory() {
  // A core file or a ptrace by another user would expose the secret.
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void scrub_password_argv(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* a = argv[i];
    if (std::strcmp(a, "--password") == 0 && i + 1 < argc) {
      std::memset(argv[i + 1], 'x', std::strlen(argv[i + 1]));
    } else if (std::strncmp(a, "--password=", 11) == 0) {
      std::memset(a + 11, 'x', std::strlen(a + 11));
    }
  }
}

}  // namespace probe
