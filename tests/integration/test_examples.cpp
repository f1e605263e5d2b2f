// Every file in examples/ is run the way its comments say it is used: the accounts CSV
// through `batch`, the Nagios command as Nagios builds it, the systemd units through
// systemd-analyze and their ExecStart line, the CI script as the CI snippets call it, and
// the traces through `analyze`. Where a registrar is needed it is the lab Kamailio, which
// takes any domain as the realm, so the examples' alice@example.com is the lab's alice.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/lab_checks.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using test_support::lab_service;
using test_support::shell_quote;
using test_support::slurp;

namespace {

std::string example(const std::string& rel) { return std::string(SIPPROBE_SOURCE_DIR) + "/examples/" + rel; }

// `text` with every `from` replaced by `to`; the test fails when `from` is not there (the
// example changed, and the test must follow).
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  REQUIRE_MESSAGE(text.find(from) != std::string::npos, "the example no longer holds \"" << from << "\"");
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string secret_file(const std::string& dir, const std::string& name, const std::string& password) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << password << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

// --- Nagios object definitions: `define TYPE { key value … }` -------------------------

struct nagios_object {
  std::string type;
  std::map<std::string, std::string> fields;
};

std::vector<nagios_object> nagios_objects(const std::string& text) {
  std::vector<nagios_object> objects;
  std::istringstream in(text);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, std::regex(R"(\s*define\s+(\w+)\s*\{\s*)"))) {
      objects.push_back({m[1], {}});
    } else if (!objects.empty() && std::regex_match(line, m, std::regex(R"(\s*(\w+)\s+(.*\S)\s*)"))) {
      objects.back().fields[m[1]] = m[2];
    }
  }
  return objects;
}

const nagios_object& nagios_find(const std::vector<nagios_object>& objects, const std::string& type, const std::string& key,
                                 const std::string& value) {
  for (const auto& o : objects)
    if (o.type == type && o.fields.count(key) != 0 && o.fields.at(key) == value) return o;
  FAIL("no " << type << " with " << key << " " << value);
  throw std::logic_error("unreachable");
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string p; std::getline(in, p, sep);) parts.push_back(p);
  return parts;
}

// The service's command line as Nagios runs it: the check_command's arguments in $ARGn$,
// the host's address and custom variable, with the host and the password file given.
std::string nagios_command_line(const std::string& address, const std::string& port, const std::string& password_file) {
  const auto objects = nagios_objects(slurp(example("nagios/sipprobe.cfg")));
  const auto& service = nagios_find(objects, "service", "service_description", "SIP registration alice");
  auto args = split(service.fields.at("check_command"), '!');
  REQUIRE(args.size() == 5);
  const auto& command = nagios_find(objects, "command", "command_name", args[0]);
  const auto& host = nagios_find(objects, "host", "host_name", service.fields.at("host_name"));
  REQUIRE(host.fields.count("_SIP_PORT") == 1);
  args[2] = password_file;  // ARG2 names /etc/…/alice.pw; the test's file stands in for it
  std::string line = command.fields.at("command_line");
  for (std::size_t i = 1; i < args.size(); ++i) line = replace_all(line, "$ARG" + std::to_string(i) + "$", args[i]);
  line = replace_all(line, "$HOSTADDRESS$", address);
  line = replace_all(line, "$_HOSTSIP_PORT$", port);
  line = replace_all(line, "/usr/local/bin/sipprobe", SIPPROBE_BINARY);
  REQUIRE_MESSAGE(line.find('$') == std::string::npos, "a macro was left: " << line);
  return line;
}

// --- systemd units ------------------------------------------------------------------

// The value of the first `key=` line of a unit or environment file.
std::string unit_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  FAIL("no " << key << "= line");
  return "";
}

std::map<std::string, std::string> environment_file(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

// ExecStart= expanded as systemd does it for these units (systemd.service(5), "Command
// lines"): ${VAR} is one argument, $VAR is split at white space, %d is the credentials
// directory. Returns the command, shell-quoted word by word.
std::string exec_start(const std::string& line, const std::map<std::string, std::string>& env, const std::string& credentials) {
  std::string command;
  std::istringstream words(line);
  std::smatch m;
  for (std::string w; words >> w;) {
    std::vector<std::string> out;
    if (std::regex_match(w, m, std::regex(R"(\$\{(\w+)\})"))) {
      out.push_back(env.at(m[1]));
    } else if (std::regex_match(w, m, std::regex(R"(\$(\w+))"))) {
      std::istringstream split_value(env.at(m[1]));
      for (std::string v; split_value >> v;) out.push_back(v);
    } else {
      out.push_back(w.rfind("%d/", 0) == 0 ? credentials + w.substr(2) : w);
    }
    for (const auto& o : out) command += (command.empty() ? "" : " ") + shell_quote(o);
  }
  return command;
}

// "Mon 2026-12-07 20:25:00 UTC" → seconds since the epoch (0 when the line has no time).
std::time_t elapse_time(const std::string& line) {
  std::smatch m;
  if (!std::regex_search(line, m, std::regex(R"((\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) UTC)"))) return 0;
  std::tm t{};
  t.tm_year = std::stoi(m[1]) - 1900;
  t.tm_mon = std::stoi(m[2]) - 1;
  t.tm_mday = std::stoi(m[3]);
  t.tm_hour = std::stoi(m[4]);
  t.tm_min = std::stoi(m[5]);
  t.tm_sec = std::stoi(m[6]);
  return ::timegm(&t);
}

// --- CI snippets ----------------------------------------------------------------------

// The command a CI snippet runs (its `- …` or `run: …` line naming the script) and the
// account it names (SIP_AOR).
std::pair<std::string, std::string> ci_job(const std::string& snippet) {
  std::string command, aor;
  std::istringstream in(slurp(example("ci/" + snippet)));
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, std::regex(R"(\s*(?:- |run: )(\S*check-sip-account.*))"))) command = m[1];
    if (std::regex_match(line, m, std::regex(R"re(\s*SIP_AOR: "?([^"]*)"?)re"))) aor = m[1];
  }
  REQUIRE_MESSAGE(!command.empty(), snippet << " does not run check-sip-account");
  REQUIRE_MESSAGE(!aor.empty(), snippet << " sets no SIP_AOR");
  return {command, aor};
}

}  // namespace

TEST_CASE("examples: accounts.csv through batch against the lab, no password in the file") {
  const std::string csv = example("accounts.csv");
  const std::string header = slurp(csv).substr(0, slurp(csv).find('\n'));
  CHECK(header.find("password_env") != std::string::npos);
  for (const auto& column : split(header, ',')) CHECK(column != "password");

  lab_service kam("kamailio");
  auto r = test_support::run("ALICE_PASSWORD=alice-secret BOB_PASSWORD=bob-secret " + shell_quote(SIPPROBE_BINARY) + " batch " +
                             shell_quote(csv) + " --rate 0 --registrar 127.0.0.1:" + kam.get("SIP_PORT") + " 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 1);  // carol is a disabled account in the lab
  const auto lines = test_support::jsonl(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["code"] == "registered");
  CHECK(lines[1]["code"] == "registered");
  CHECK(lines[1]["label"] == "Bob, back office");
  // carol's HA1 was accepted: the refusal came after authentication.
  CHECK(lines[2]["code"] == "forbidden");
  CHECK(r.out.find("alice-secret") == std::string::npos);
  CHECK(test_support::bindings(kam, "alice") == "");
  CHECK(test_support::bindings(kam, "bob") == "");
}

TEST_CASE("examples: the Nagios service runs as its definition spells it") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("nagios");
  const auto good = nagios_command_line("127.0.0.1", kam.get("SIP_PORT"), secret_file(dir, "good.pw", "alice-secret"));
  CHECK(good.find("--password ") == std::string::npos);  // never in argv
  auto ok = test_support::run(good + " 2>&1");
  INFO(good << "\n" << ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.rfind("SIPPROBE OK - registered: ", 0) == 0);
  CHECK(ok.out.find("total=") != std::string::npos);

  const auto bad = nagios_command_line("127.0.0.1", kam.get("SIP_PORT"), secret_file(dir, "bad.pw", "not-alices-password"));
  auto critical = test_support::run(bad + " 2>&1");
  INFO(critical.out);
  CHECK(critical.exit_code == 2);
  CHECK(critical.out.rfind("SIPPROBE CRITICAL - auth_failed: ", 0) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("examples: the systemd units verify, and the timer fires every 5 minutes") {
  const std::string dir = test_support::make_temp_dir("systemd");
  // As installed: the binary where ExecStart says, here the one just built.
  std::ofstream(dir + "/sipprobe-check@.service")
      << replace_all(slurp(example("systemd/sipprobe-check@.service")), "/usr/local/bin/sipprobe", SIPPROBE_BINARY);
  std::filesystem::copy_file(example("systemd/sipprobe-check@.timer"), dir + "/sipprobe-check@.timer");
  auto v = test_support::run(
      "command -v systemd-analyze >/dev/null || { echo 'systemd-analyze is missing (scripts/setup "
      "installs systemd)'; exit 99; }; systemd-analyze verify " +
      shell_quote(dir + "/sipprobe-check@alice.service") + " " + shell_quote(dir + "/sipprobe-check@alice.timer") + " 2>&1");
  INFO(v.out);
  CHECK(v.exit_code == 0);
  CHECK(v.out == "");  // systemd only warns about a bad setting ("…, ignoring"): none allowed

  const auto spec = unit_value(slurp(example("systemd/sipprobe-check@.timer")), "OnCalendar");
  auto c = test_support::run("TZ=UTC systemd-analyze calendar --iterations=3 " + shell_quote(spec) + " 2>&1");
  INFO(c.out);
  REQUIRE(c.exit_code == 0);
  std::vector<std::time_t> times;
  std::istringstream lines(c.out);
  for (std::string line; std::getline(lines, line);)
    if (line.find("From now") == std::string::npos && elapse_time(line) != 0) times.push_back(elapse_time(line));
  REQUIRE(times.size() == 3);
  CHECK(times[1] - times[0] == 300);
  CHECK(times[2] - times[1] == 300);
  std::filesystem::remove_all(dir);
}

TEST_CASE("examples: the systemd service's ExecStart checks the account of alice.env") {
  lab_service kam("kamailio");
  const std::string unit = slurp(example("systemd/sipprobe-check@.service"));
  CHECK(unit_value(unit, "EnvironmentFile") == "/etc/sipprobe/%i.env");
  CHECK(unit_value(unit, "LoadCredential") == "password:/etc/sipprobe/%i.password");
  auto env = environment_file(slurp(example("systemd/alice.env")));
  REQUIRE(env.count("SIP_AOR") == 1);
  REQUIRE(env.count("SIPPROBE_OPTIONS") == 1);
  env["SIPPROBE_OPTIONS"] = "--registrar 127.0.0.1:" + kam.get("SIP_PORT");  // the lab stands in for pbx.example.com

  const std::string credentials = test_support::make_temp_dir("credentials");
  const std::string exec = unit_value(unit, "ExecStart");
  const auto command = replace_all(exec_start(exec, env, credentials), "'/usr/local/bin/sipprobe'", shell_quote(SIPPROBE_BINARY));
  secret_file(credentials, "password", "alice-secret");
  auto ok = test_support::run(command + " 2>&1");
  INFO(command << "\n" << ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("✔ registered") != std::string::npos);

  secret_file(credentials, "password", "not-alices-password");
  auto failed = test_support::run(command + " 2>&1");
  INFO(failed.out);
  CHECK(failed.exit_code == 1);  // the unit fails, the report is in the journal
  CHECK(failed.out.find("auth_failed") != std::string::npos);
  std::filesystem::remove_all(credentials);
}

TEST_CASE("examples: the CI job passes with the right password and fails the pipeline with a wrong one") {
  lab_service kam("kamailio");
  for (const char* snippet : {"gitlab-ci.yml", "github-workflow.yml"}) {
    CAPTURE(snippet);
    const auto [command, aor] = ci_job(snippet);
    const std::string env = "SIPPROBE=" + shell_quote(SIPPROBE_BINARY) + " SIP_AOR=" + shell_quote(aor) +
                            " SIP_REGISTRAR=127.0.0.1:" + kam.get("SIP_PORT");
    const std::string in_repo = "cd " + shell_quote(SIPPROBE_SOURCE_DIR) + " && ";
    auto pass = test_support::run(in_repo + env + " SIP_PASSWORD=alice-secret " + command + " 2>&1");
    INFO(pass.out);
    CHECK(pass.exit_code == 0);
    CHECK(pass.out.find("check-sip-account: " + aor + " registers") != std::string::npos);

    auto fail = test_support::run(in_repo + env + " SIP_PASSWORD=not-alices-password " + command + " 2>&1");
    INFO(fail.out);
    CHECK(fail.exit_code == 1);
    CHECK(fail.out.find("✘ auth_failed") != std::string::npos);
    CHECK(fail.out.find("not-alices-password") == std::string::npos);  // the password is not echoed
  }
}

TEST_CASE("examples: the two traces and their verdicts") {
  auto pcap = test_support::sipprobe("analyze " + shell_quote(example("traces/wrong-password.pcap")));
  CHECK(pcap.exit_code == 1);
  CHECK(pcap.report["diagnosis"]["code"] == "auth_failed");
  CHECK(pcap.report["input"]["files"][0]["format"] == "pcap");

  // The password the phone used (the wrong one): the server refused what the phone sent
  // correctly; the account's own password: the phone sent something else.
  auto phones = test_support::sipprobe("analyze " + shell_quote(example("traces/wrong-password.pcap")), "alice-secre7");
  CHECK(phones.report["diagnosis"]["evidence"].dump().find("produces the response the phone sent") != std::string::npos);
  auto accounts = test_support::sipprobe("analyze " + shell_quote(example("traces/wrong-password.pcap")), "alice-secret");
  CHECK(test_support::has_finding(accounts.report, "credential_mismatch"));

  auto ngrep = test_support::sipprobe("analyze " + shell_quote(example("traces/disabled-account.ngrep")));
  CHECK(ngrep.exit_code == 1);
  CHECK(ngrep.report["diagnosis"]["code"] == "forbidden");
  CHECK(ngrep.report["input"]["files"][0]["format"] == "ngrep");
  auto piped = test_support::sipprobe("analyze - < " + shell_quote(example("traces/disabled-account.ngrep")));
  CHECK(piped.exit_code == 1);
  CHECK(piped.report["diagnosis"]["code"] == "forbidden");
}

TEST_CASE("examples: the Prometheus set-up — scrape config, alert rules and their tests, exporter unit and modules") {
  const auto dir = example("prometheus");
  auto config = test_support::run("cd " + shell_quote(dir) + " && promtool check config prometheus.yml 2>&1");
  INFO(config.out);
  CHECK(config.exit_code == 0);
  CHECK(config.out.find("SUCCESS: 4 rules found") != std::string::npos);
  // The alerts tell a site's own problem from the account's: proved by promtool's rule tests.
  auto rules = test_support::run("cd " + shell_quote(dir) + " && promtool test rules alerts_test.yml 2>&1");
  INFO(rules.out);
  CHECK(rules.exit_code == 0);
  CHECK(rules.out.find("SUCCESS") != std::string::npos);
  // The modules file loads (its secret from the environment, as the unit provides it).
  auto modules = test_support::run("PBX_PASSWORD=x " + shell_quote(SIPPROBE_BINARY) + " exporter --check-config --config " +
                                   shell_quote(example("prometheus/exporter.yml")) + " 2>&1");
  INFO(modules.out);
  CHECK(modules.exit_code == 0);
  CHECK(modules.out.find(": 4 modules, OK") != std::string::npos);
  // The unit verifies, with the binary where ExecStart says (here the one just built).
  const std::string units = test_support::make_temp_dir("exporter-unit");
  std::ofstream(units + "/sipprobe-exporter.service")
      << replace_all(slurp(example("prometheus/sipprobe-exporter.service")), "/usr/local/bin/sipprobe", SIPPROBE_BINARY);
  auto v = test_support::run("systemd-analyze verify " + shell_quote(units + "/sipprobe-exporter.service") + " 2>&1");
  INFO(v.out);
  CHECK(v.exit_code == 0);
  CHECK(v.out == "");
  std::filesystem::remove_all(units);
}
