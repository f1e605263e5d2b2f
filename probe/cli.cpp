#include "probe/cli.hpp"

#include "probe/credentials.hpp"
#include "probe/text_safety.hpp"

#include <cstddef>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

// jemalloc's control interface, when the executable links it (probe/malloc_conf.cpp).
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp, std::size_t newlen)
    __attribute__((weak));

namespace probe {

std::string allocator_name() {
  const char* v = nullptr;
  std::size_t len = sizeof v;
  if (mallctl != nullptr && mallctl("version", &v, &len, nullptr, 0) == 0 && v != nullptr)
    return std::string("jemalloc ") + v;
  return "glibc malloc";
}

void add_common_options(CLI::App& cmd, common_options& opts) {
  cmd.add_flag("--json", opts.json, "Print one JSON object on stdout instead of text");
  cmd.add_option("--timeout", opts.timeout_s, "Overall time limit in seconds")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd.add_option("--color", opts.color, "Colour the text output: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
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

int run(int argc, char** argv) {
  const bool nagios = nagios_mode(argc, argv);
  CLI::App app{"sipprobe — find out why a SIP account will not register, and prove it",
               "sipprobe"};
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::ParseError& e) {
    // CLI11's codes (105, 106, 109…) are not part of our contract: usage errors are 2.
    const int status = usage_failure(e.what(), nagios);
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

}  // namespace probe
