// Honest output whatever the peers send: a registrar answering in Latin-1 with terminal
// escapes (tests/lab/sipp/scenarios/forbidden_latin1.xml), a DNS zone with escapes in its
// NAPTR records, through the real binary — every JSON writer still prints valid JSON and
// every text writer escapes what a terminal would act on.
#include <ostream>
#include <doctest/doctest.h>

#include "support/capture.hpp"
#include "support/lab.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using test_support::lab_service;
using test_support::shell_quote;

namespace {

// `sipprobe ARGS` with the password in PW; stdout only (stderr to `err` when given).
test_support::run_result sipprobe(const std::string& args, const std::string& stderr_to = "/dev/null") {
  return test_support::run("PW=alice-secret " + shell_quote(SIPPROBE_BINARY) + " " + args + " 2>" + shell_quote(stderr_to));
}

// What a terminal would act on: C0 controls other than LF (ESC, BEL, CR…) or bytes that
// are not UTF-8 (nlohmann::json refuses to dump them). Returns a description, "" if none.
std::string terminal_hazard(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\n') return "control byte " + std::to_string(c) + " at offset " + std::to_string(i);
  }
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::exception& e) {
    return std::string("not UTF-8: ") + e.what();
  }
  return "";
}

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::string fffd = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("output: a Latin-1 reason phrase with escapes gives valid JSON and escaped text in every mode") {
  lab_service sipp("sipp", {{"SCENARIO", "forbidden_latin1"}});
  const std::string dir = test_support::make_temp_dir("latin1");
  const std::string port = sipp.get("SIP_PORT");
  const std::string reg = "register sip:alice@sip.test --registrar 127.0.0.1:" + port +
                          " --transport udp --timeout 3 --password-env PW";
  std::string pcap;
  {
    test_support::capture cap(dir, port);
    // register --json: before, "invalid UTF-8 byte", exit 3 and nothing on stdout.
    auto j = sipprobe(reg + " --json");
    INFO(j.out);
    CHECK(j.exit_code == 1);
    auto doc = nlohmann::json::parse(j.out, nullptr, false);
    REQUIRE_FALSE(doc.is_discarded());
    CHECK(doc["diagnosis"]["code"] == "forbidden");
    CHECK(doc["transactions"][0]["reason"].get<std::string>().starts_with("Acc" + fffd + "s refus" + fffd));
    CHECK(doc["diagnosis"]["evidence"][0].get<std::string>().find("\x1b]0;owned") != std::string::npos);  // data kept
    CHECK(terminal_hazard(j.out) == "");

    // register, text: the bytes shown as escapes, not obeyed.
    auto t = sipprobe(reg + " --color never --trace", dir + "/trace.txt");
    INFO(t.out);
    CHECK(t.exit_code == 1);
    CHECK(terminal_hazard(t.out) == "");
    CHECK(t.out.find("403 Acc\\xe8s refus\\xe9 \\\\x1b]0;owned\\\\x07\\\\x1bc") != std::string::npos);
    std::ifstream trace_in(dir + "/trace.txt");
    std::stringstream trace;
    trace << trace_in.rdbuf();
    std::string trace_text = trace.str();
    INFO(trace_text);
    CHECK(trace_text.find("Server: Bo\\xeete \\\\x1b]2;rouge\\\\x07\r\n") != std::string::npos);
    std::erase(trace_text, '\r');  // CRLF line ends stay in a trace
    CHECK(terminal_hazard(trace_text) == "");

    // batch: one JSON line, and the CSV output, both safe.
    const auto csv = write_file(dir + "/one.csv", "aor,password_env,label\nsip:alice@sip.test,PW,caf\xe9\n");
    const std::string batch = "batch " + shell_quote(csv) + " --registrar 127.0.0.1:" + port + " --transport udp --timeout 3";
    auto b = sipprobe(batch);
    INFO(b.out);
    CHECK(b.exit_code == 1);
    auto line = nlohmann::json::parse(b.out, nullptr, false);
    REQUIRE_FALSE(line.is_discarded());
    CHECK(line["code"] == "forbidden");
    CHECK(line["label"] == "caf" + fffd);
    auto c = sipprobe(batch + " --output csv");
    INFO(c.out);
    CHECK(terminal_hazard(c.out) == "");
    CHECK(c.out.find("\n2,caf\\xe9,sip:alice@sip.test,forbidden,failed,") != std::string::npos);
    pcap = cap.stop();
  }

  // analyze: the capture of those runs, with a clean capture in the same run — before, one
  // bad byte in one file made the whole multi-file run exit 3 and print nothing.
  const std::string clean = std::string(SIPPROBE_TEST_DATA) + "/traces/pcap/registered_ether.pcap";
  auto a = sipprobe("analyze " + shell_quote(pcap) + " " + shell_quote(clean) + " --json");
  INFO(a.out);
  CHECK(a.exit_code != 3);
  auto doc = nlohmann::json::parse(a.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  CHECK(doc["input"]["files"].size() == 2);
  CHECK(doc["summary"]["by_diagnosis"].contains("forbidden"));
  CHECK(terminal_hazard(a.out) == "");
  auto at = sipprobe("analyze " + shell_quote(pcap) + " --color never");
  INFO(at.out);
  CHECK(at.exit_code == 1);
  CHECK(terminal_hazard(at.out) == "");
  CHECK(at.out.find("Acc\\xe8s refus\\xe9") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("output: a DNS server's NAPTR text with escapes is escaped in text and valid in JSON") {
  lab_service dns("dnsmasq");
  const std::string server = " --dns-server " + dns.get("DNS_SERVER");
  auto j = sipprobe("dns hostile.test --json" + server);
  INFO(j.out);
  CHECK(j.exit_code == 1);  // the NAPTR leads nowhere: dns_failure
  auto doc = nlohmann::json::parse(j.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  REQUIRE(doc["queries"][0]["answers"].size() == 1);
  CHECK(doc["queries"][0]["answers"][0]["service"] ==
        "SIP+D2U\x1b]0;owned\x1b"
        "c caf" +
            fffd);
  CHECK(terminal_hazard(j.out) == "");

  auto t = sipprobe("dns hostile.test --color never" + server);
  INFO(t.out);
  CHECK(t.exit_code == 1);
  CHECK(terminal_hazard(t.out) == "");
  CHECK(t.out.find("SIP+D2U\\x1b]0;owned\\x1bc caf\\xe9") != std::string::npos);

  // reach and diagnose write the same resolution as JSON: the DNS failure, valid.
  auto r = sipprobe("reach hostile.test --json --timeout 2" + server);
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK_FALSE(nlohmann::json::parse(r.out, nullptr, false).is_discarded());
}

TEST_CASE("output: the demo's domain sip.test publishes only addresses where the lab registrar answers") {
  lab_service kam("kamailio");
  lab_service dns("dnsmasq", {{"SIP_PORT", kam.get("SIP_PORT")}, {"TLS_PORT", kam.get("TLS_PORT")}});
  // The certificate is verified against the SIP domain (RFC 5922 section 4), not pbx1.sip.test.
  auto r = sipprobe("reach sip.test --json --timeout 3 --ca-file " + shell_quote(kam.get("CA_FILE")) + " --dns-server " +
                    dns.get("DNS_SERVER"));
  INFO(r.out);
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  CHECK(r.exit_code == 0);
  CHECK(doc["diagnosis"].is_null());
  REQUIRE(doc["checks"].size() == 3);  // TLS, TCP and UDP, each on the registrar
  for (const auto& c : doc["checks"]) {
    CAPTURE(c.dump());
    CHECK(c["verdict"] == "ok");
  }
  // The text names the name the certificate was checked against: the domain, not the target.
  auto text = sipprobe("reach sip.test --timeout 3 --ca-file " + shell_quote(kam.get("CA_FILE")) + " --dns-server " +
                       dns.get("DNS_SERVER"));
  INFO(text.out);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("verify: ok against \"sip.test\"") != std::string::npos);
}
