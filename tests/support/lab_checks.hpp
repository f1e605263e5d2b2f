// tests/support/lab_checks.hpp — what integration tests read back after a run: the
// bindings the lab Kamailio holds, a file the binary wrote, JSON lines.
// Include after <doctest/doctest.h>: the helpers report through doctest.
#pragma once

#include "support/lab.hpp"
#include "support/process.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace test_support {

// The contacts the lab Kamailio `kam` holds for `user`, one per line ("" when none).
inline std::string bindings(const lab_service& kam, const std::string& user) {
  auto r = run(shell_quote(kam.script("bindings")) + " " + shell_quote(kam.dir()) + " " + user + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, "kamcmd failed: " << r.out);
  return r.out;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until the file at `path` holds `text` (a run in the background got that far);
// false after `timeout_ms`.
inline bool wait_for_text(const std::string& path, const std::string& text, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (slurp(path).find(text) != std::string::npos) return true;
    sleep_ms(10);
  }
  return false;
}

// One JSON value per line; the test fails on a line that is not JSON.
inline std::vector<nlohmann::json> jsonl(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    INFO("line: " << line);
    REQUIRE_FALSE(j.is_discarded());
    lines.push_back(std::move(j));
  }
  return lines;
}

// The environment of tests/lab/netns/start: a NAT lab whose name no other run shares
// (this PID + a counter, the form `stop --stale` recognises).
inline std::map<std::string, std::string> netns_lab_env(int udp_timeout, bool alg) {
  static int counter = 0;
  return {{"NETNS_TAG", std::to_string(::getpid()) + "-" + std::to_string(++counter)},
          {"UDP_TIMEOUT", std::to_string(udp_timeout)},
          {"SIP_ALG", alg ? "1" : "0"}};
}

// The command prefix that runs in the lab's namespace named by KEY ("PHONE_NS", …).
inline std::string in_ns(const lab_service& lab, const char* key) { return "ip netns exec " + shell_quote(lab.get(key)); }

// The Contact a register run added (the binding its 200 OK marks ours), "" when none.
inline std::string our_contact(const nlohmann::json& report) {
  for (const auto& b : report["registration"]["bindings"])
    if (b["ours"] == true) return b["contact"];
  return "";
}

// The port of a Contact URI "sip:user@host:port[;params]".
inline std::string port_of(const std::string& contact) {
  const auto colon = contact.rfind(':');
  return contact.substr(colon + 1, contact.find(';', colon) - colon - 1);
}

// In the --trace of `register --inbound` over TCP/TLS: the relayed OPTIONS arrived on the
// REGISTER's connection ("sent tcp HOST:P -> …"), and the second socket sent it from
// another port. `host` is a regex for the local address (e.g. R"(127\.0\.0\.1)").
inline void check_inbound_on_register_connection(const std::string& trace, const std::string& host) {
  std::smatch reg, in, from;
  REQUIRE(std::regex_search(trace, reg, std::regex("sent t[cl][ps] (" + host + R"(:\d+) -> )")));
  REQUIRE(
      std::regex_search(trace, in, std::regex(R"(received \(inbound check, on the registered flow ()" + host + R"(:\d+)\))")));
  REQUIRE(std::regex_search(trace, from, std::regex(R"(sent \(inbound check, from ()" + host + R"(:\d+)\))")));
  CHECK(in[1] == reg[1]);
  CHECK(from[1] != reg[1]);
}

}  // namespace test_support
