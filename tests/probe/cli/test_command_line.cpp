// The command-line contract through the real binary, no peers needed: option values are
// checked with messages that name the option and never echo the value, every value that
// goes into a SIP message is free of control characters, and a report that cannot be
// written is a failure.
#include <ostream>
#include <doctest/doctest.h>

#include "support/process.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using test_support::shell_quote;

namespace {

struct outcome {
  int exit_code;
  std::string out;  // stdout and stderr
};

outcome sipprobe(const std::string& args, const std::string& env = "") {
  auto r = test_support::run(env + (env.empty() ? "" : " ") + shell_quote(SIPPROBE_BINARY) + " " + args + " 2>&1 </dev/null");
  return {r.exit_code, r.out};
}

// stdout to /dev/full; what reached stderr.
outcome to_full(const std::string& args, const std::string& env = "") {
  auto r = test_support::run(env + (env.empty() ? "" : " ") + shell_quote(SIPPROBE_BINARY) + " " + args +
                             " 2>&1 >/dev/full </dev/null");
  return {r.exit_code, r.out};
}

std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("sipprobe-cli-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

}  // namespace

TEST_CASE("cli: a bad number is 'not a number', ranges print as typed") {
  struct row {
    std::string args, says;
  };
  const std::vector<row> table = {
      {"register a@b.test --expires abc", "sipprobe: --expires: not a number\n"},
      {"register a@b.test --expires -1", "sipprobe: --expires: not in range 0 to 4294967295\n"},
      {"register a@b.test --expires 4294967296", "sipprobe: --expires: not in range 0 to 4294967295\n"},
      {"register a@b.test --expires 60.5", "sipprobe: --expires: not a whole number\n"},
      {"register a@b.test --timeout 0.01", "sipprobe: --timeout: not in range 0.1 to 3600\n"},
      {"dns b.test --timeout 10s", "sipprobe: --timeout: not a number\n"},
      {"batch x.csv --rate 200000", "sipprobe: --rate: not in range 0 to 100000\n"},
      {"batch x.csv --concurrency 0", "sipprobe: --concurrency: not in range 1 to 10000\n"},
      {"batch x.csv --expires 1x", "sipprobe: --expires: not a number\n"},
      {"analyze x --idle 0.5", "sipprobe: --idle: not in range 1 to 86400\n"},
      {"analyze x --max-attempts 0", "sipprobe: --max-attempts: not in range 1 to 1000000\n"},
      {"register a@b.test --warning -5", "sipprobe: --warning: not in range 0 or more\n"},
      {"reach b.test --transport sctp", "sipprobe: --transport: must be one of udp, tcp, tls\n"},
      {"analyze x --format wireshark",
       "sipprobe: --format: must be one of auto, text, ngrep, asterisk, freeswitch, fslog, kamailio, sngrep, pcap, pcapng\n"},
  };
  for (const auto& t : table) {
    CAPTURE(t.args);
    auto r = sipprobe(t.args);
    CHECK(r.exit_code == 2);
    CHECK(r.out == t.says + "Run 'sipprobe --help' for usage.\n");
  }
  // Case does not matter for a word, and the help still shows the ranges.
  CHECK(sipprobe("dns 127.0.0.1 --transport UDP --json").exit_code == 0);
  auto help = sipprobe("register --help");
  CHECK(help.out.find("--timeout FLOAT:FLOAT in [0.1 - 3600]=10") != std::string::npos);
  CHECK(help.out.find("--expires UINT:UINT in [0 - 4294967295]=3600") != std::string::npos);
}

TEST_CASE("cli: NaN and infinity are usage errors for every number option") {
  const std::vector<std::string> options = {
      "register a@b.test --timeout", "register a@b.test --warning", "register a@b.test --critical",
      "diagnose a@b.test --timeout", "reach b.test --timeout",      "dns b.test --timeout",
      "batch x.csv --timeout",       "batch x.csv --rate",          "analyze x --idle",
  };
  for (const auto& o : options) {
    for (const std::string v : {"nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e999"}) {
      const std::string args = o + " " + v;
      CAPTURE(args);
      auto r = sipprobe(args);
      CHECK(r.exit_code == 2);
      const auto option = o.substr(o.rfind(' ') + 1);
      CHECK(r.out.rfind("sipprobe: " + option + ": not a", 0) == 0);
    }
  }
}

TEST_CASE("cli: CR or LF in a value that goes into a SIP message is a usage error, before anything is sent") {
  struct row {
    std::string command, option;
  };
  const std::vector<row> table = {
      {"register a@b.test", "--user-agent"}, {"register a@b.test", "--contact"},    {"register a@b.test", "--user"},
      {"register a@b.test", "--realm"},      {"register a@b.test", "--registrar"},  {"register a@b.test", "--outbound-proxy"},
      {"register a@b.test", "--header"},     {"diagnose a@b.test", "--user-agent"}, {"diagnose a@b.test", "--contact"},
      {"batch x.csv", "--user-agent"},       {"batch x.csv", "--registrar"},        {"batch x.csv", "--outbound-proxy"},
  };
  for (const auto& t : table) {
    for (const std::string bad : {"X-A: 1\r\nX-B: 2", "x\ny", "cr\rx", "esc\x1b[2J"}) {
      const std::string args = t.command + " " + t.option + " " + shell_quote(bad) + " --registrar 127.0.0.1:9 --timeout 1";
      CAPTURE(args);
      auto r = sipprobe(args, "SIPPROBE_PASSWORD=x");
      CHECK(r.exit_code == 2);
      CHECK(r.out.rfind("sipprobe: " + t.option, 0) == 0);
      CHECK(r.out.find("Unexpected final response") == std::string::npos);
    }
  }
  // A Contact that is not a SIP URI is refused the same way; "*" stays allowed.
  CHECK(sipprobe("register a@b.test --contact 'sip:a b@c'", "SIPPROBE_PASSWORD=x")
            .out.rfind("sipprobe: --contact: not a SIP URI", 0) == 0);
}

TEST_CASE("cli: unexpected arguments and bad values are named, never echoed") {
  const std::string secret = "S3cret-x9";
  const auto no_header = temp_file("noheader.csv", "sip:alice@b.test," + secret + ",desk\n");
  const std::vector<std::string> commands = {
      "dns lab.test --password " + secret,
      "dns lab.test --password=" + secret,
      "reach lab.test --password " + secret + " --timeout 1",
      "analyze x.pcap --pasword " + secret,
      "batch x.csv --password " + secret,
      "register a@b.test " + secret,
      "register a@b.test --header " + shell_quote("Authorization " + secret),
      "register a@b.test --header " + shell_quote("Auth/x: " + secret),
      "register a@b.test --dns-server " + secret,
      "register a@b.test --registrar " + shell_quote("x:" + secret),
      "register a@b.test --expires " + secret,
      "register a@b.test --transport " + secret,
      "register a@b.test --color " + secret,
      "register a@b.test --contact " + shell_quote(secret + " x"),
      "register a@b.test --json=" + secret,
      "register " + shell_quote("sip:alice:" + secret + "@b.test") + " --timeout 1",
      "register " + shell_quote("sip:alice:" + secret + "@") + " --timeout 1",
      "batch " + shell_quote(no_header),
      "reach lab.test --bind " + secret,
      "reach lab.test --dns-server 127.0.0.1 --dns-server " + secret,
  };
  for (const auto& c : commands) {
    CAPTURE(c);
    auto r = sipprobe(c, "SIPPROBE_PASSWORD=x");
    CHECK(r.exit_code == 2);
    CHECK(r.out.rfind("sipprobe: ", 0) == 0);
    CHECK(r.out.find(secret) == std::string::npos);
  }
  CHECK(sipprobe("dns lab.test --password " + secret).out ==
        "sipprobe: unexpected arguments for dns: --password and 1 value (not shown)\nRun 'sipprobe --help' for usage.\n");
  CHECK(sipprobe("regster a@b.test")
            .out.rfind("sipprobe: no such subcommand (dns, reach, register, diagnose, analyze or batch)", 0) == 0);
  std::filesystem::remove(no_header);
}

TEST_CASE("cli: a report that cannot be written is exit 3 with one line, in every subcommand") {
  const auto csv = temp_file("full.csv", "aor,password\nsip:alice@127.0.0.1:9,x\n");
  const std::string trace = std::string(SIPPROBE_TEST_DATA) + "/traces/text/registered_crlf.txt";
  const std::vector<std::string> commands = {
      "register sip:alice@127.0.0.1:9 --transport udp --timeout 2",
      "register sip:alice@127.0.0.1:9 --transport udp --timeout 2 --json",
      "register sip:alice@127.0.0.1:9 --transport udp --timeout 2 --nagios",
      "diagnose sip:alice@127.0.0.1:9 --transport udp --timeout 2",
      "reach 127.0.0.1:9 --transport udp --timeout 2",
      "dns 127.0.0.1",
      "dns 127.0.0.1 --json",
      "analyze " + shell_quote(trace),
      "analyze " + shell_quote(trace) + " --json",
      "batch " + shell_quote(csv) + " --timeout 2",
      "--version",
      "register --help",
  };
  for (const auto& c : commands) {
    CAPTURE(c);
    auto r = to_full(c, "SIPPROBE_PASSWORD=x");
    CHECK(r.exit_code == 3);
    CHECK(r.out == "sipprobe: cannot write the output: No space left on device\n");
  }
  std::filesystem::remove(csv);
}
