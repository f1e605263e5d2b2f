// Integration: `sipprobe dns` against a real dnsmasq serving the lab zone
// (tests/lab/dnsmasq/zone.conf.in). Each test starts its own dnsmasq on a free 127.0.0.1
// port and stops it by PID when it ends, failed or not. No dnsmasq installed is a failure
// with the reason, never a silent skip.
#include "support/process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <ostream>
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

using nlohmann::json;
using test_support::run;
using test_support::shell_quote;

namespace {

// The lab zone for one test: started in the constructor, stopped in the destructor.
class dnsmasq_lab {
 public:
  dnsmasq_lab() {
    char tmpl[] = "/tmp/sipprobe-dns-XXXXXX";
    REQUIRE_MESSAGE(::mkdtemp(tmpl) != nullptr, "cannot create a run directory");
    dir_ = tmpl;
    auto r = run(shell_quote(std::string(SIPPROBE_LAB_DIR) + "/dnsmasq/start") + " " + shell_quote(dir_) + " 2>&1");
    std::ifstream env(dir_ + "/ports.env");
    std::string line;
    while (std::getline(env, line))
      if (line.rfind("DNS_SERVER=", 0) == 0) server_ = line.substr(11);
    // A failed REQUIRE in a constructor skips the destructor: clean up first.
    if (r.exit_code != 0 || server_.empty()) stop();
    REQUIRE_MESSAGE(r.exit_code == 0, "the dnsmasq lab did not start: " << r.out);
    REQUIRE_MESSAGE(!server_.empty(), "ports.env has no DNS_SERVER");
  }
  ~dnsmasq_lab() { stop(); }
  dnsmasq_lab(const dnsmasq_lab&) = delete;
  dnsmasq_lab& operator=(const dnsmasq_lab&) = delete;

  const std::string& server() const { return server_; }

 private:
  // Stops dnsmasq by the PID its start recorded (a half start may have left one too).
  void stop() {
    if (dir_.empty()) return;
    run(shell_quote(std::string(SIPPROBE_LAB_DIR) + "/dnsmasq/stop") + " " + shell_quote(dir_) + " 2>&1");
    run("rm -rf " + shell_quote(dir_));
    dir_.clear();
  }

  std::string dir_;
  std::string server_;
};

struct outcome {
  int exit_code;
  json doc;
  std::string text;
  double wall_s;
};

outcome sipprobe_dns(const std::string& args) {
  auto start = std::chrono::steady_clock::now();
  auto r = run(std::string(SIPPROBE_BINARY) + " dns " + args + " 2>&1");
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome o{r.exit_code, json(), r.out, wall};
  if (args.find("--json") != std::string::npos && r.exit_code != 2) {
    o.doc = json::parse(r.out, nullptr, false);
    REQUIRE_MESSAGE(!o.doc.is_discarded(), "not JSON: " << r.out);
  }
  return o;
}

outcome dns_json(const dnsmasq_lab& lab, const std::string& target, const std::string& extra = "") {
  return sipprobe_dns(shell_quote(target) + " --dns-server " + lab.server() + " --json " + extra);
}

std::string describe(const json& t) {
  return t["transport"].get<std::string>() + " " + t["address"].get<std::string>() + " " + std::to_string(t["port"].get<int>()) +
         " " + t["via"].get<std::string>();
}

const json* find_query(const json& doc, const std::string& name, const std::string& type) {
  for (const auto& q : doc["queries"])
    if (q["name"] == name && q["type"] == type) return &q;
  return nullptr;
}

// A loopback UDP port with nothing bound to it (bound, read, closed again).
int unused_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("dns: deadparts.test follows NAPTR order, SRV priority, both address families") {
  dnsmasq_lab lab;
  auto o = dns_json(lab, "deadparts.test");
  INFO(o.text);
  CHECK(o.exit_code == 0);
  CHECK(o.doc["schema"] == "sipprobe.dns/1");
  CHECK(o.doc["diagnosis"].is_null());
  const json& t = o.doc["targets"];
  REQUIRE(t.size() == 9);
  // NAPTR order 10 SIPS+D2T, 20 SIP+D2T, 30 SIP+D2U; the E2U record is ignored.
  CHECK(describe(t[0]) == "tls 127.0.0.1 5061 naptr");
  CHECK(describe(t[1]) == "tls ::1 5061 naptr");
  CHECK(describe(t[2]) == "tcp 127.0.0.1 5060 naptr");
  CHECK(describe(t[3]) == "tcp ::1 5060 naptr");
  CHECK(describe(t[4]) == "tcp 127.0.0.3 5099 naptr");  // priority 20 comes last
  for (int i = 5; i < 8; ++i) CHECK(t[i]["transport"] == "udp");
  CHECK(describe(t[8]) == "udp 127.0.0.3 5099 naptr");
  std::set<std::string> udp_first{t[5]["host"].get<std::string>(), t[7]["host"].get<std::string>()};
  CHECK(udp_first.count("pbx2.deadparts.test") == 1);  // 60/40 weights: either may come first
  for (const auto& x : t) CHECK(x["via"] == "naptr");

  const json* naptr = find_query(o.doc, "deadparts.test", "NAPTR");
  REQUIRE(naptr);
  CHECK((*naptr)["status"] == "ok");
  CHECK((*naptr)["ttl"] == 300);
  CHECK((*naptr)["answers"].size() == 4);
  CHECK((*naptr)["ms"].is_number());
  const json* srv = find_query(o.doc, "_sip._tcp.deadparts.test", "SRV");
  REQUIRE(srv);
  CHECK((*srv)["answers"].size() == 2);
  const json* aaaa = find_query(o.doc, "pbx1.deadparts.test", "AAAA");
  REQUIRE(aaaa);
  CHECK((*aaaa)["answers"] == json::array({"::1"}));
  CHECK(find_query(o.doc, "dead.deadparts.test", "AAAA")->at("status") == "nodata");
  // The plan tree: the ignored NAPTR says why.
  const json& root = o.doc["plan"][0];
  CHECK(root["query"] == 0);
  REQUIRE(root["children"].size() == 4);
  CHECK(root["children"][3]["ignored"].get<std::string>().find("flags") != std::string::npos);
  CHECK(root["children"][0]["children"][0]["children"][0]["srv"]["port"] == 5061);
}

TEST_CASE("dns: restrictions — --transport, sips:, transport= parameter") {
  dnsmasq_lab lab;
  auto udp = dns_json(lab, "sip:alice@deadparts.test", "--transport udp");
  CHECK(udp.exit_code == 0);
  REQUIRE(udp.doc["targets"].size() == 4);
  for (const auto& x : udp.doc["targets"]) CHECK(x["transport"] == "udp");
  CHECK(find_query(udp.doc, "_sip._tcp.deadparts.test", "SRV") == nullptr);  // not asked

  auto sips = dns_json(lab, "sips:alice@deadparts.test");
  CHECK(sips.exit_code == 0);
  REQUIRE(sips.doc["targets"].size() == 2);
  for (const auto& x : sips.doc["targets"]) CHECK(describe(x).find("tls") == 0);
  CHECK(sips.doc["input"]["secure"] == true);

  auto tcp = dns_json(lab, "sip:deadparts.test;transport=tcp");
  CHECK(tcp.exit_code == 0);
  CHECK(tcp.doc["targets"].size() == 3);
  CHECK(tcp.doc["input"]["transport"] == "tcp");
}

TEST_CASE("dns: fallbacks — A only, SRV without NAPTR, big SRV over TCP") {
  dnsmasq_lab lab;
  auto a = dns_json(lab, "alice@aonly.test");
  INFO(a.text);
  CHECK(a.exit_code == 0);
  // RFC 3263 §4.1: no NAPTR or SRV names a transport, so a phone uses UDP for sip:.
  REQUIRE(a.doc["targets"].size() == 1);
  CHECK(describe(a.doc["targets"][0]) == "udp 127.0.0.1 5060 a");
  auto a_tls = dns_json(lab, "sips:alice@aonly.test");
  REQUIRE(a_tls.doc["targets"].size() == 1);
  CHECK(describe(a_tls.doc["targets"][0]) == "tls 127.0.0.1 5061 a");
  CHECK(find_query(a.doc, "aonly.test", "NAPTR")->at("status") == "nodata");
  CHECK(find_query(a.doc, "_sip._udp.aonly.test", "SRV")->at("status") == "nxdomain");

  auto s = dns_json(lab, "srvonly.test");
  CHECK(s.exit_code == 0);
  REQUIRE(s.doc["targets"].size() == 2);
  CHECK(describe(s.doc["targets"][0]) == "udp 127.0.0.1 5060 srv");
  CHECK(describe(s.doc["targets"][1]) == "udp ::1 5060 srv");
  CHECK(find_query(s.doc, "srvonly.test", "A") == nullptr);  // SRV found: no A fallback

  // 12 SRV records do not fit 512 bytes: dnsmasq truncates, c-ares retries over TCP.
  auto big = dns_json(lab, "big.test", "--transport udp");
  const json* srv = find_query(big.doc, "_sip._udp.big.test", "SRV");
  REQUIRE(srv);
  CHECK((*srv)["status"] == "ok");
  CHECK((*srv)["answers"].size() == 12);
  CHECK(big.doc["targets"].size() == 2);
}

TEST_CASE("dns: short-cuts — IP literals and explicit ports ask no NAPTR/SRV") {
  dnsmasq_lab lab;
  auto v4 = dns_json(lab, "127.0.0.1");
  CHECK(v4.exit_code == 0);
  CHECK(v4.doc["queries"].empty());
  REQUIRE(v4.doc["targets"].size() == 1);  // RFC 3263 §4.1: UDP for a numeric sip: target
  CHECK(describe(v4.doc["targets"][0]) == "udp 127.0.0.1 5060 literal");
  auto v4tcp = dns_json(lab, "127.0.0.1", "--transport tcp");
  REQUIRE(v4tcp.doc["targets"].size() == 1);
  CHECK(describe(v4tcp.doc["targets"][0]) == "tcp 127.0.0.1 5060 literal");

  // The text names no DNS server where none was asked.
  auto v4text = sipprobe_dns("127.0.0.1:5060 --dns-server " + lab.server());
  INFO(v4text.text);
  CHECK(v4text.exit_code == 0);
  CHECK(v4text.text.find("IP literal: no DNS query") != std::string::npos);
  CHECK(v4text.text.find("(server") == std::string::npos);

  auto v6 = dns_json(lab, "[::1]:5070");
  CHECK(v6.exit_code == 0);
  CHECK(describe(v6.doc["targets"][0]) == "udp ::1 5070 literal");

  auto named = dns_json(lab, "sips:alice@pbx1.deadparts.test:5071;transport=tcp");
  CHECK(named.exit_code == 0);
  CHECK(find_query(named.doc, "pbx1.deadparts.test", "NAPTR") == nullptr);
  REQUIRE(named.doc["targets"].size() == 2);
  CHECK(describe(named.doc["targets"][0]) == "tls 127.0.0.1 5071 a");
  CHECK(describe(named.doc["targets"][1]) == "tls ::1 5071 a");
}

TEST_CASE("dns: failures are dns_failure with the record that failed") {
  dnsmasq_lab lab;
  struct row {
    const char* target;
    const char* status;  // of the cited record
    const char* record_type;
    const char* record_name;
  };
  const row rows[] = {
      {"nosuch.test", "nxdomain", "A", "nosuch.test"},
      {"sip:bob@notarget.test", "nodata", "A", "ghost.notarget.test"},
      {"down.test", "ok", "SRV", "_sip._udp.down.test"},  // target "." — service not available
  };
  for (const auto& r : rows) {
    std::string target = r.target;
    CAPTURE(target);
    auto o = dns_json(lab, r.target);
    INFO(o.text);
    CHECK(o.exit_code == 1);
    CHECK(o.doc["targets"].empty());
    const json& d = o.doc["diagnosis"];
    REQUIRE(d.is_object());
    CHECK(d["code"] == "dns_failure");
    CHECK_FALSE(d["title"].get<std::string>().empty());
    CHECK_FALSE(d["explanation"].get<std::string>().empty());
    CHECK(d["fixes"].size() >= 1);
    REQUIRE(d["evidence"].size() >= 1);
    CHECK(d["evidence"][0].get<std::string>().find(r.record_name) != std::string::npos);
    CHECK(d["record"]["status"] == r.status);
    CHECK(d["record"]["type"] == r.record_type);
    CHECK(d["record"]["name"] == r.record_name);
  }
  auto human = sipprobe_dns("nosuch.test --dns-server " + lab.server() + " --color never");
  CHECK(human.exit_code == 1);
  CHECK(human.text.find("dns_failure") != std::string::npos);
  CHECK(human.text.find("NXDOMAIN") != std::string::npos);
}

TEST_CASE("dns: a dead or silent DNS server fails fast, within --timeout") {
  // Nothing bound: ICMP port unreachable — refused at once.
  int dead = unused_udp_port();
  auto o = sipprobe_dns("sip.test --dns-server 127.0.0.1:" + std::to_string(dead) + " --json --timeout 2");
  INFO(o.text);
  CHECK(o.exit_code == 1);
  CHECK(o.wall_s < 2.5);
  REQUIRE(o.doc["diagnosis"].is_object());
  CHECK(o.doc["diagnosis"]["code"] == "dns_failure");
  std::string st = o.doc["diagnosis"]["record"]["status"];
  CHECK((st == "refused" || st == "timeout"));

  // Bound but never answering: a timeout, ended by --timeout.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto silent = sipprobe_dns("sip.test --dns-server 127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + " --json --timeout 1");
  ::close(fd);
  INFO(silent.text);
  CHECK(silent.exit_code == 1);
  CHECK(silent.wall_s < 2.0);
  CHECK(silent.wall_s >= 0.9);
  CHECK(silent.doc["diagnosis"]["record"]["status"] == "timeout");
  CHECK(silent.doc["deadline_reached"] == true);
}

TEST_CASE("dns: usage errors exit 2 with one clear line") {
  struct row {
    const char* args;
    const char* says;
  };
  const row rows[] = {
      {"sip.test --dns-server ns1.example.com", "--dns-server: DNS server must be"},
      {"sip.test --dns-server 127.0.0.1:99999", "--dns-server: DNS server must be"},
      {"'bad_host!'", "not allowed in a host name"},
      {"'bad host'", "spaces"},
      {"sip.test:0 --dns-server 127.0.0.1", "cannot use 'sip.test:0' as a target: the port is not a number"},
      {"tel:+15551234", "unsupported URI scheme"},
      {"'sips:x.test;transport=udp' --dns-server 127.0.0.1", "SIPS needs TLS"},
      {"sip.test --transport sctp --dns-server 127.0.0.1", "--transport"},
      {"'sip:a@x.test;transport=udp' --transport tcp --dns-server 127.0.0.1", "contradicts"},
      {"", "target"},
  };
  for (const auto& r : rows) {
    std::string args = r.args;
    CAPTURE(args);
    auto o = sipprobe_dns(args);
    CHECK(o.exit_code == 2);
    CHECK(o.text.find(r.says) != std::string::npos);
    CHECK(o.text.rfind("sipprobe: ", 0) == 0);
  }
}

TEST_CASE("dns: the human report shows the tree, the answers and the targets") {
  dnsmasq_lab lab;
  auto o = sipprobe_dns("deadparts.test --dns-server " + lab.server() + " --color never");
  CHECK(o.exit_code == 0);
  for (const char* s :
       {"NAPTR deadparts.test  ok", "SRV _sips._tcp.deadparts.test", "priority 20 weight 0 port 5099",
        "AAAA pbx1.deadparts.test  ok  ::1", "ttl 300", "ignored: flags", "Targets", "tls  127.0.0.1:5061", "via naptr"}) {
    std::string want = s;
    CAPTURE(want);
    CHECK(o.text.find(s) != std::string::npos);
  }
  CHECK(o.text.find("\033[") == std::string::npos);
}
