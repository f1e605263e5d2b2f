#include "probe/cli/app.hpp"

#include "probe/core/expected.hpp"
#include "probe/core/secret.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/locate/target.hpp"

#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <limits>
#include <string>
#include <string_view>

// jemalloc's control interface, when the executable links it (probe/cli/malloc_conf.cpp).
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp, std::size_t newlen) __attribute__((weak));

namespace probe::cli {

std::string allocator_name() {
  const char* v = nullptr;
  std::size_t len = sizeof v;
  if (mallctl != nullptr && mallctl("version", &v, &len, nullptr, 0) == 0 && v != nullptr) return std::string("jemalloc ") + v;
  return "glibc malloc";
}

namespace {

// 0.1, 3600, 4294967295: the shortest text that reads back as the same number, never in
// exponent form (CLI::Range printed "0.100000 to 3600.000000").
std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ec == std::errc() ? r.ptr : buf);
}

// The value as a decimal number, or why not (without the value).
expected<double, std::string> read_number(const std::string& text) {
  std::string_view t = text;
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);  // from_chars takes no '+'
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || end != t.data() + t.size()) return unexpected(std::string("not a number"));
  if (ec == std::errc::result_out_of_range || std::isinf(v)) return unexpected(std::string("not a finite number"));
  if (ec != std::errc() || std::isnan(v)) return unexpected(std::string("not a number"));
  return v;
}

}  // namespace

CLI::Validator number_in(double lo, double hi) {
  const bool unbounded = hi == std::numeric_limits<double>::max();
  const std::string range = unbounded ? number_text(lo) + " or more" : number_text(lo) + " to " + number_text(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        const auto v = read_number(text);
        if (!v) return v.error();
        if (*v < lo || *v > hi) return "not in range " + range;
        return "";
      },
      unbounded ? "FLOAT >= " + number_text(lo) : "FLOAT in [" + number_text(lo) + " - " + number_text(hi) + "]");
}

CLI::Validator whole_number_in(std::uint64_t lo, std::uint64_t hi) {
  const std::string range = std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        const auto v = read_number(text);
        if (!v) return v.error();
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (end == text.data() + text.size() && ec == std::errc()) return n < lo || n > hi ? "not in range " + range : "";
        if (end == text.data() + text.size() || *v < 0) return "not in range " + range;  // too many digits, or negative
        return "not a whole number";
      },
      "UINT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]");
}

CLI::Validator one_of(std::vector<std::string> words) {
  std::string list, shown;
  for (const auto& w : words) {
    list += (list.empty() ? "" : ",") + w;
    shown += (shown.empty() ? "" : ", ") + w;
  }
  return CLI::Validator(
      [words = std::move(words), shown](std::string& text) -> std::string {
        for (const auto& w : words) {
          if (w.size() != text.size()) continue;
          bool same = true;
          for (std::size_t i = 0; i < w.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(w[i])) == std::tolower(static_cast<unsigned char>(text[i]));
          if (same) {
            text = w;  // the canonical spelling
            return "";
          }
        }
        return "must be one of " + shown;
      },
      "{" + list + "}");
}

CLI::Validator sip_text() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        for (char c : text)
          if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
            return "control character (CR, LF, ESC…) in the value: it would break the SIP message";
        return "";
      },
      "");
}

CLI::Validator target_text() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto target = locate::parse_dns_target(text);
        return target ? "" : "cannot use the value: " + target.error().message();
      },
      "");
}

std::string unexpected_arguments(const std::string& command, const std::vector<std::string>& extras) {
  // Option names are shown (the spelling is what the user needs to see); anything else may
  // be the value of an option this command does not have — e.g. dns --password S3cret.
  std::string names;
  std::size_t values = 0;
  for (const auto& a : extras) {
    std::string_view name = a;
    if (auto eq = name.find('='); eq != std::string_view::npos) name = name.substr(0, eq);
    bool option = name.size() >= 2 && name[0] == '-' && name.size() <= 40;
    const std::size_t dashes = name.starts_with("--") ? 2 : 1;
    option = option && (dashes == 2 || name.size() == 2) && name.size() > dashes;
    for (std::size_t i = dashes; option && i < name.size(); ++i) {
      const char c = name[i];
      option = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > dashes) ||
               (dashes == 1 && c >= 'A' && c <= 'Z');
    }
    if (option) names += (names.empty() ? "" : ", ") + std::string(name);
    else ++values;
  }
  std::string what = names;
  if (values > 0)
    what += (what.empty() ? "" : " and ") + std::to_string(values) + (values == 1 ? " value" : " values") + " (not shown)";
  if (command.empty() && names.empty()) return "no such subcommand (dns, reach, register, diagnose, analyze or batch): " + what;
  return "unexpected argument" + std::string(extras.size() == 1 ? "" : "s") + (command.empty() ? "" : " for " + command) + ": " +
         (what.empty() ? "(not shown)" : what);
}

void add_common_options(CLI::App& cmd, common_options& opts) {
  cmd.add_flag("--json", opts.json, "Print one JSON object on stdout instead of text");
  cmd.add_option("--timeout", opts.timeout_s, "Overall time limit in seconds")
      ->check(number_in(0.1, 3600.0))
      ->capture_default_str();
  cmd.add_option("--color", opts.color, "Colour the text output: auto, always or never")
      ->check(one_of({"auto", "always", "never"}))
      ->capture_default_str();
}

void add_secret_options(CLI::App& cmd, secret_options& o) {
  cmd.add_option("--password-env", o.password_env, "Read the password from this environment variable");
  cmd.add_option("--password-file", o.password_file, "Read the password from the first line of this file");
  cmd.add_flag("--password-stdin", o.password_stdin, "Read the password from standard input");
  cmd.add_option("--password", o.password, "The password itself (visible to other users in ps: prefer the options above)");
  cmd.add_option("--ha1-env", o.ha1_env, "Read a precomputed HA1 (hex of H(user:realm:password)) from this environment variable");
}

namespace {

// With --nagios a usage error is the plugin's UNKNOWN (3), printed as a plugin line.
bool nagios_mode(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--nagios") return true;
  return false;
}

int usage_failure(const std::string& message, bool nagios) {
  if (nagios) {
    std::cout << "SIPPROBE UNKNOWN - " << printable(message) << "\n";
    return 3;
  }
  std::cerr << "sipprobe: " << printable(message) << "\n";
  return exit_usage;
}

}  // namespace

namespace {

// CLI11's message, or ours where CLI11's would echo a value (unexpected arguments, a value
// that does not convert).
std::string parse_error_text(const CLI::ParseError& e, const CLI::App& app) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    const auto subs = app.get_subcommands();
    return unexpected_arguments(subs.empty() ? "" : subs.front()->get_name(), app.remaining(true));
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    // "Could not convert: NAME = VALUE" / "The value VALUE is not an allowed value for NAME"
    const std::string m = e.what();
    std::string name;
    if (m.starts_with("Could not convert: ")) name = m.substr(19, m.find(" = ") - 19);
    else if (auto at = m.rfind(" value for "); at != std::string::npos) name = m.substr(at + 11);
    return (name.empty() ? std::string("an option") : name) + ": not a valid value";
  }
  return e.what();  // names and counts only (required, excludes, …); our validators never echo
}

int run_command(int argc, char** argv, bool nagios) {
  CLI::App app{"sipprobe — find out why a SIP account will not register, and prove it", "sipprobe"};
  app.fallthrough();  // shared options may follow the subcommand
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("-V,--version", version, "Print the version and exit");

  action selected;
  setup_dns(app, selected);
  setup_reach(app, selected);
  setup_register(app, selected);
  setup_analyze(app, selected);
  setup_diagnose(app, selected);
  setup_batch(app, selected);
  setup_exporter(app, selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::ParseError& e) {
    // CLI11's codes (105, 106, 109…) are not part of our contract: usage errors are 2.
    const int status = usage_failure(parse_error_text(e, app), nagios);
    if (!nagios) std::cerr << "Run 'sipprobe --help' for usage.\n";
    return status;
  }

  // CLI11 holds its own copy now: take the password out of what `ps` shows.
  scrub_password_argv(argc, argv);

  if (version) {
    std::cout << "sipprobe " << SIPPROBE_VERSION << "\nallocator: " << allocator_name() << "\n";
    return exit_ok;
  }
  if (!selected) {
    std::cout << app.help();
    return exit_usage;
  }
  try {
    return selected();
  } catch (const usage_error& e) {
    return usage_failure(e.what(), nagios);
  }
}

// std::cout's buffer while a command runs: it writes to descriptor 1 and keeps the first
// write error with its errno, which stdio would have lost by the time the run ends.
// Unsynchronised with C stdio; nothing in sipprobe writes to stdout through stdio.
class stdout_buffer : public std::streambuf {
 public:
  stdout_buffer() { setp(buf_.data(), buf_.data() + buf_.size()); }
  ~stdout_buffer() override { drain(); }
  stdout_buffer(const stdout_buffer&) = delete;
  stdout_buffer& operator=(const stdout_buffer&) = delete;
  int error() const noexcept { return error_; }  // 0: every byte was written

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() noexcept {
    for (const char* p = pbase(); p < pptr() && error_ == 0;) {
      const auto n = ::write(STDOUT_FILENO, p, static_cast<std::size_t>(pptr() - p));
      if (n >= 0) p += n;
      else if (errno != EINTR) error_ = errno;
    }
    setp(buf_.data(), buf_.data() + buf_.size());  // after a failure, what is left is lost anyway
    return error_ == 0;
  }

  std::array<char, 64 * 1024> buf_{};
  int error_ = 0;
};

// A report that did not reach its reader is no result: a full disk or a closed pipe is
// an environment failure (exit 3), said in one line, whatever the run found.
int check_output(int status, stdout_buffer& out) {
  std::cout.flush();
  if (out.error() == 0 && std::cout) return status;
  std::cerr << "sipprobe: cannot write the output"
            << (out.error() != 0 ? std::string(": ") + std::strerror(out.error()) : std::string()) << "\n";
  return exit_internal;
}

}  // namespace

int run(int argc, char** argv) {
  const bool nagios = nagios_mode(argc, argv);
  stdout_buffer out;
  struct restore {
    std::streambuf* previous;
    ~restore() { std::cout.rdbuf(previous); }
  } guard{std::cout.rdbuf(&out)};
  return check_output(run_command(argc, argv, nagios), out);
}

}  // namespace probe::cli
