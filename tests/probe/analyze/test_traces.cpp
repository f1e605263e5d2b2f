// `sipprobe analyze` on the trace corpus of tests/data/traces: every format, every
// diagnosis and finding the catalog gives from a trace (generate.py writes most files;
// paste_*.txt are hand-written).
#include <ostream>
#include <doctest/doctest.h>

#include "probe/analyze/run.hpp"
#include "support/analyze_trace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace probe::analyze;

namespace {

std::string trace(const std::string& rel) { return test_support::trace_path(rel); }

nlohmann::json analyze(const std::string& rel, run_options o = {}) { return test_support::analyze_trace(rel, std::move(o)); }

std::vector<std::string> finding_codes(const nlohmann::json& j) { return test_support::finding_codes_of(j); }

std::string finding_detail(const nlohmann::json& j, const std::string& code) { return test_support::finding_detail_of(j, code); }

std::string evidence(const nlohmann::json& j) { return test_support::evidence_of(j); }

struct corpus_case {
  std::string file;
  std::string format;
  std::string diagnosis;
  std::vector<std::string> findings;  // exactly these, in any order
};

}  // namespace

TEST_CASE("analyze: the corpus gives the expected diagnosis and findings") {
  const std::vector<corpus_case> cases = {
      {"text/registered_crlf.txt", "text", "registered", {}},
      {"text/paste_indented_registered_crlf.txt", "text", "registered", {}},
      {"text/paste_trimmed_auth_failed.txt", "text", "auth_failed", {}},
      {"text/auth_not_attempted_lf.txt", "text", "auth_not_attempted", {}},
      {"text/forbidden.txt", "text", "forbidden", {}},
      {"text/not_found.txt", "text", "not_found", {}},
      {"text/interval_too_brief.txt", "text", "interval_too_brief", {}},
      {"text/expires_raised.txt", "text", "registered", {"expires_raised"}},
      {"text/proxy_auth_failed.txt", "text", "proxy_auth_failed", {}},
      {"text/credential_mismatch_realm.txt", "text", "auth_failed", {"credential_mismatch"}},
      {"text/credential_mismatch_nonce.txt", "text", "auth_failed", {"credential_mismatch"}},
      {"text/auth_user_extension.txt", "text", "forbidden", {"auth_user_looks_like_extension"}},
      {"text/trying_then_silence.txt", "text", "trace_incomplete", {}},  // no times, one transmission: issue 13 item 5
      {"ngrep/trying_then_silence.ngrep", "ngrep", "no_response", {}},
      {"ngrep/registered.ngrep", "ngrep", "registered", {}},
      {"ngrep/no_response.ngrep", "ngrep", "no_response", {}},
      {"asterisk/auth_failed.log", "asterisk", "auth_failed", {}},
      {"asterisk/server_error.log", "asterisk", "server_error", {}},
      {"freeswitch/not_found.log", "freeswitch", "not_found", {}},
      {"freeswitch/nat_private_contact.log", "freeswitch", "registered", {"nat_private_contact"}},
      {"sngrep/service_unavailable.txt", "sngrep", "service_unavailable", {}},
      {"sngrep/temporarily_unavailable.txt", "sngrep", "temporarily_unavailable", {}},
      {"pcap/registered_ether.pcap", "pcap", "registered", {}},
      {"pcap/registered.pcapng", "pcap", "registered", {}},
      {"pcap/registered_ipv6_vlan.pcap", "pcap", "registered", {}},
      {"pcap/registered_tcp.pcap", "pcap", "registered", {}},
      {"pcap/auth_failed_sll2.pcap", "pcap", "auth_failed", {}},
      {"pcap/forbidden_sll.pcap", "pcap", "forbidden", {}},
      {"pcap/no_response_null.pcap", "pcap", "no_response", {}},
      {"pcap/nat_raw.pcap", "pcap", "registered", {"nat_private_contact"}},
      {"pcap/alg_vlan.pcap", "pcap", "registered", {"sip_alg_suspected"}},
      // The 200 says Content-Length 12 and carries 5 bytes: the phone discards it (issue 13, item 9).
      {"pcap/alg_content_length.pcap", "pcap", "malformed_response", {"sip_alg_suspected"}},
      {"pcap/tcp_gap.pcap", "pcap", "auth_not_attempted", {}},
      {"pcap/two_attempts.pcap", "pcap", "registered", {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    auto j = analyze(c.file);
    CHECK(j["schema"] == "sipprobe.report/1");
    CHECK(j["mode"] == "analyze");
    CHECK(j["input"]["files"][0]["format"] == c.format);
    CHECK(j["diagnosis"]["code"] == c.diagnosis);
    CHECK(j["verdict"] == (c.diagnosis == "registered" ? "registered" : "failed"));
    auto got = finding_codes(j);
    auto want = c.findings;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
    CHECK(j["warnings"].empty());
    INFO(j["warnings"].dump());
    REQUIRE(!j["attempts"].empty());
    CHECK(j["attempts"].back()["diagnosis"]["code"] == c.diagnosis);
    CHECK(!j["transactions"].empty());
  }
}

TEST_CASE("analyze: ladder lines keep times, addresses and positions") {
  auto j = analyze("ngrep/registered.ngrep");
  const auto& a = j["attempts"][0];
  CHECK(a["call_id"] == "a84b4c76e66710@10.0.0.5");
  CHECK(a["aor"] == "sip:1001@sip.example.com");
  REQUIRE(a["messages"].size() == 4);
  CHECK(a["messages"][0]["time"] == "2024-05-01T10:00:00.000000Z");
  CHECK(a["messages"][0]["src"] == "10.0.0.5:5060");
  CHECK(a["messages"][0]["dst"] == "198.51.100.7:5060");
  CHECK(a["messages"][1]["summary"].get<std::string>().starts_with("401 Unauthorized"));
  CHECK(a["messages"][3]["time"] == "2024-05-01T10:00:00.065000Z");
  CHECK(a["messages"][0]["position"].get<std::string>().ends_with("registered.ngrep:5"));
  CHECK(j["transactions"].size() == 2);
  CHECK(j["transactions"][1]["status"] == 200);
  CHECK(j["transactions"][1]["rtt_ms"] == doctest::Approx(22.0));
  CHECK(j["registration"]["expires"] == 3600);
  CHECK(j["registration"]["requested_expires"] == 3600);

  auto p = analyze("pcap/registered_ether.pcap");
  CHECK(p["attempts"][0]["messages"][2]["position"].get<std::string>().ends_with("registered_ether.pcap packet 3"));
  CHECK(p["attempts"][0]["messages"][2]["transport"] == "udp");
  CHECK(p["input"]["packets"] == 4);
}

TEST_CASE("analyze: a provisional answer and then nothing points at the registrar, not the network") {
  auto j = analyze("ngrep/trying_then_silence.ngrep");
  CHECK(j["diagnosis"]["code"] == "no_response");
  CHECK(evidence(j).find("only a provisional 100 came back: the request reached the registrar") != std::string::npos);
  // A paste without times cannot show the silence lasted: still, the 100 says where to look.
  auto paste = analyze("text/trying_then_silence.txt");
  CHECK(paste["diagnosis"]["code"] == "trace_incomplete");
  CHECK(evidence(paste).find("only a provisional 100 came back: the request reached the registrar") != std::string::npos);
  auto none = analyze("ngrep/no_response.ngrep");
  CHECK(evidence(none).find("reached the registrar") == std::string::npos);
}

TEST_CASE("analyze: no_response counts the retransmissions") {
  for (const char* f : {"ngrep/no_response.ngrep", "pcap/no_response_null.pcap"}) {
    CAPTURE(f);
    auto j = analyze(f);
    CHECK(j["diagnosis"]["code"] == "no_response");
    CHECK(evidence(j).find("sent 11 times (10 retransmissions) over 31.5 s") != std::string::npos);
    CHECK(j["transactions"][0]["retransmissions"] == 10);
    CHECK(j["input"]["retransmissions"] == 10);
  }
}

TEST_CASE("analyze: credential checks name the field") {
  auto realm = analyze("text/credential_mismatch_realm.txt");
  CHECK(finding_detail(realm, "credential_mismatch").find("realm \"asterisk\"") != std::string::npos);
  auto nonce = analyze("text/credential_mismatch_nonce.txt");
  CHECK(finding_detail(nonce, "credential_mismatch").find("nonce \"0000000000000000000000000000dead\"") != std::string::npos);
  auto ext = analyze("text/auth_user_extension.txt");
  CHECK(finding_detail(ext, "auth_user_looks_like_extension") == "auth username \"1001\", From user \"alice\"");
}

TEST_CASE("analyze: with the password, tell a wrong password from a server-side problem") {
  run_options o;
  o.secret.password = "secret-1001";
  o.secret.secret_source = "environment variable PW";

  auto wrong = analyze("text/password_check_wrong.txt", o);
  CHECK(wrong["diagnosis"]["code"] == "auth_failed");
  CHECK(evidence(wrong).find("the password given (environment variable PW) does not produce the response the phone sent") !=
        std::string::npos);
  CHECK(finding_detail(wrong, "credential_mismatch").find("does not match the password given") != std::string::npos);

  auto right = analyze("text/password_check_right.txt", o);
  CHECK(right["diagnosis"]["code"] == "auth_failed");
  CHECK(evidence(right).find("produces the response the phone sent") != std::string::npos);
  CHECK(evidence(right).find("the server rejected a correct password") != std::string::npos);
  CHECK(finding_codes(right).empty());

  // Without the password only the fields are checked.
  auto none = analyze("text/password_check_wrong.txt");
  CHECK(evidence(none).find("password given") == std::string::npos);
  CHECK(finding_codes(none).empty());
}

TEST_CASE("analyze: evidence of the other catalog entries") {
  CHECK(evidence(analyze("sngrep/service_unavailable.txt")).find("Retry-After: 120 s") != std::string::npos);
  CHECK(evidence(analyze("text/interval_too_brief.txt")).find("at least 3600 s (Min-Expires); the phone asked for 60 s") !=
        std::string::npos);
  CHECK(finding_detail(analyze("text/expires_raised.txt"), "expires_raised").find("at least 3600 s") != std::string::npos);
  CHECK(evidence(analyze("asterisk/auth_failed.log")).find("2 challenges in a row after credentials") != std::string::npos);
  auto nat = analyze("freeswitch/nat_private_contact.log");
  CHECK(finding_detail(nat, "nat_private_contact")
            .find("Contact holds 192.168.1.20 (private) but the registrar saw the request from 203.0.113.9") !=
        std::string::npos);
  auto nat_pcap = analyze("pcap/nat_raw.pcap");
  CHECK(finding_detail(nat_pcap, "nat_private_contact").find("203.0.113.9") != std::string::npos);
  auto alg = analyze("pcap/alg_vlan.pcap");
  CHECK(
      finding_detail(alg, "sip_alg_suspected").find("Via sent-by sent as \"10.0.0.5:5060\" came back as \"203.0.113.9:40001\"") !=
      std::string::npos);
  CHECK(finding_detail(alg, "sip_alg_suspected").find("Contact") != std::string::npos);
  auto cl = analyze("pcap/alg_content_length.pcap");
  CHECK(finding_detail(cl, "sip_alg_suspected").find("Content-Length 12 but the datagram carries 5 body bytes") !=
        std::string::npos);
}

TEST_CASE("analyze: capture details — IPv6, fragments, TCP reassembly and gaps") {
  auto v6 = analyze("pcap/registered_ipv6_vlan.pcap");
  CHECK(v6["input"]["skipped"]["fragments"] == 1);
  CHECK(v6["attempts"][0]["messages"][0]["src"] == "[2001:db8::5]:5060");

  auto tcp = analyze("pcap/registered_tcp.pcap");
  CHECK(tcp["input"]["sip_messages"] == 4);
  CHECK(tcp["attempts"][0]["messages"][1]["transport"] == "tcp");
  CHECK(tcp["attempts"][0]["messages"][1]["dst"] == "10.0.0.5:40123");
  CHECK(tcp["input"]["retransmissions"] == 0);

  auto gap = analyze("pcap/tcp_gap.pcap");
  CHECK(gap["input"]["skipped"]["tcp_gaps"] == 1);
  CHECK(gap["input"]["sip_messages"] == 3);  // REGISTER 1, REGISTER 3, 401
}

TEST_CASE("analyze: several attempts — the last one is the primary diagnosis") {
  auto j = analyze("pcap/two_attempts.pcap");
  REQUIRE(j["attempts"].size() == 2);
  CHECK(j["attempts"][0]["diagnosis"]["code"] == "auth_failed");
  CHECK(j["attempts"][1]["diagnosis"]["code"] == "registered");
  CHECK(j["attempts"][1]["call_id"] == "second-call-id@10.0.0.5");
  CHECK(j["summary"]["attempts"] == 2);
  CHECK(j["summary"]["by_diagnosis"]["auth_failed"] == 1);
  CHECK(j["summary"]["by_diagnosis"]["registered"] == 1);
  CHECK(j["summary"]["summarized"] == false);

  run_options o;
  o.call_id = "a84b4c76e66710@10.0.0.5";
  auto only = analyze("pcap/two_attempts.pcap", o);
  CHECK(only["diagnosis"]["code"] == "auth_failed");
  CHECK(only["attempts"].size() == 1);
}

TEST_CASE("analyze: unusable input gives no SIP and no crash") {
  for (const char* f : {"bad/empty.txt", "bad/noise.bin", "bad/no_sip.pcap"}) {
    CAPTURE(f);
    auto j = analyze(f);
    CHECK(j["input"]["sip_messages"] == 0);
    CHECK(j["attempts"].empty());
  }
  CHECK(analyze("bad/no_sip.pcap")["input"]["packets"] == 1);
  CHECK(analyze("bad/options_only.txt")["input"]["sip_messages"] == 1);
  CHECK(analyze("bad/options_only.txt")["summary"]["attempts"] == 0);

  auto cut = analyze("bad/truncated.pcap");
  CHECK(cut["input"]["sip_messages"] == 2);
  REQUIRE(cut["warnings"].size() == 1);
  CHECK(cut["warnings"][0]["message"].get<std::string>().find("capture cut short") != std::string::npos);
  CHECK(cut["diagnosis"]["code"] == "auth_not_attempted");

  trace_analyzer a({});
  const auto missing = a.add(trace("bad/does-not-exist"));
  REQUIRE_FALSE(missing);
  CHECK(missing.error().find("cannot open") != std::string::npos);
  run_options forced;
  forced.format = trace_format::pcap;
  trace_analyzer b(forced);
  const auto text = b.add(trace("text/forbidden.txt"));
  REQUIRE_FALSE(text);
  CHECK(text.error().find("not a capture libpcap can read") != std::string::npos);
}
