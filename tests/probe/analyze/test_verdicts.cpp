// `sipprobe analyze` verdicts that real captures got wrong (issue 13): removals and binding
// queries, ICMP port unreachable, captures that stop early, stale nonces, challenges
// answered late, several files, replies that are not SIP, non-SIP TCP, nonce trouble taken
// for a wrong password, and the findings no trace exercised. The lab_*.pcap files are real
// captures of `sipprobe register` against the lab (tests/data/traces/capture made them),
// the *.ngrep of them real ngrep output; the rest comes from generate.py.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/analyze/run.hpp"
#include "support/analyze_trace.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace probe::analyze;
using test_support::analyze_trace;
using test_support::analyze_traces;
using test_support::evidence_of;
using test_support::finding_codes_of;
using test_support::finding_detail_of;

namespace {

const auto npos = std::string::npos;

std::string slurp(const std::string& rel) {
  std::ifstream in(test_support::trace_path(rel), std::ios::binary);
  REQUIRE_MESSAGE(in, rel);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The report of `bytes` read as one input named `name`.
nlohmann::json analyze_bytes(std::string bytes, const std::string& name = "mem", run_options o = {}) {
  trace_analyzer a(o);
  std::FILE* f = fmemopen(bytes.data(), bytes.size(), "rb");
  REQUIRE(f != nullptr);
  auto read = a.add(f, name, std::string_view(bytes).substr(0, peeked_input::head_bytes));
  REQUIRE_MESSAGE(read, (read ? std::string() : read.error()));
  a.finish();
  return to_json(a.result());
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// A classic pcap record (little-endian, microseconds) appended to `pcap`.
void add_record(std::string& pcap, double time, const std::string& frame) {
  const auto sec = static_cast<std::uint32_t>(time);
  const auto usec = static_cast<std::uint32_t>((time - sec) * 1e6 + 0.5);
  const std::uint32_t len = static_cast<std::uint32_t>(frame.size());
  for (std::uint32_t v : {sec, usec, len, len}) pcap.append(reinterpret_cast<const char*>(&v), 4);
  pcap += frame;
}

// An Ethernet frame of another protocol (ARP): a packet of the capture, not IP.
std::string arp_frame() { return std::string(12, '\x02') + std::string("\x08\x06", 2) + std::string(28, '\0'); }

constexpr double t0 = 1714557600.0;  // generate.py's T0

// A classic pcap file header: little-endian, microseconds, Ethernet.
std::string pcap_header() {
  std::string h;
  const std::uint32_t magic = 0xa1b2c3d4, zero = 0, snap = 65535, ethernet = 1;
  const std::uint16_t major = 2, minor = 4;
  h.append(reinterpret_cast<const char*>(&magic), 4);
  h.append(reinterpret_cast<const char*>(&major), 2);
  h.append(reinterpret_cast<const char*>(&minor), 2);
  for (std::uint32_t v : {zero, zero, snap, ethernet}) h.append(reinterpret_cast<const char*>(&v), 4);
  return h;
}

// Ethernet, IPv4 and UDP between the phone 10.0.0.5:5060 and the registrar
// 198.51.100.7:5060 (checksums are left 0: the reader does not check them).
std::string udp_frame(bool from_registrar, const std::string& payload) {
  auto be16 = [](std::size_t v) { return std::string{static_cast<char>(v >> 8 & 0xff), static_cast<char>(v & 0xff)}; };
  const std::string phone("\x0a\x00\x00\x05", 4), registrar("\xc6\x33\x64\x07", 4);
  std::string f = std::string(12, '\x02') + std::string("\x08\x00", 2);
  f += std::string("\x45\x00", 2) + be16(20 + 8 + payload.size()) + std::string("\x00\x01\x00\x00\x40\x11\x00\x00", 8);
  f += from_registrar ? registrar + phone : phone + registrar;
  f += be16(5060) + be16(5060) + be16(8 + payload.size()) + be16(0) + payload;
  return f;
}

std::string register_request() {
  return "REGISTER sip:sip.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKcl1\r\n"
         "From: <sip:1001@sip.example.com>;tag=1\r\nTo: <sip:1001@sip.example.com>\r\nCall-ID: cl@10.0.0.5\r\n"
         "CSeq: 1 REGISTER\r\nContact: <sip:1001@10.0.0.5:5060>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n";
}

std::string ok_response(const std::string& body, std::size_t content_length) {
  return "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKcl1\r\n"
         "From: <sip:1001@sip.example.com>;tag=1\r\nTo: <sip:1001@sip.example.com>;tag=2\r\nCall-ID: cl@10.0.0.5\r\n"
         "CSeq: 1 REGISTER\r\nContact: <sip:1001@10.0.0.5:5060>;expires=3600\r\nContent-Type: application/sdp\r\n"
         "Content-Length: " +
         std::to_string(content_length) + "\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("analyze: a removal is unregistered, a binding query credentials_valid, neither draws binding findings") {
  // sipprobe register against Kamailio: register (401, 200), then its clean-up (Expires: 0).
  auto j = analyze_trace("pcap/lab_register_removal.pcap");
  REQUIRE(j["attempts"].size() == 2);
  CHECK(j["attempts"][0]["diagnosis"]["code"] == "registered");
  CHECK(j["attempts"][1]["diagnosis"]["code"] == "unregistered");
  CHECK(j["attempts"][0]["call_id"] == j["attempts"][1]["call_id"]);
  CHECK(j["diagnosis"]["code"] == "unregistered");
  CHECK(j["verdict"] == "unregistered");
  CHECK(j["findings"].empty());
  CHECK(j["attempts"][0]["findings"].empty());
  CHECK(j["summary"]["by_diagnosis"]["registered"] == 1);
  CHECK(j["summary"]["by_diagnosis"]["unregistered"] == 1);
  CHECK(evidence_of(j).find("200 OK to REGISTER (CSeq 3)") != npos);

  // Behind NAT, Expires: 0 header, and the 200 lists another device's binding: no NAT,
  // no "Contact missing from the 200", no expiry finding.
  auto nat = analyze_trace("text/removal_nat.txt");
  CHECK(nat["diagnosis"]["code"] == "unregistered");
  CHECK(finding_codes_of(nat).empty());
  REQUIRE(nat["registration"].is_object());
  CHECK(nat["registration"]["requested_expires"] == 0);
  REQUIRE(nat["registration"]["bindings"].size() == 1);
  CHECK(nat["registration"]["bindings"][0]["ours"] == false);

  auto star = analyze_trace("text/removal_star.txt");  // Contact: * with Expires: 0
  CHECK(star["diagnosis"]["code"] == "unregistered");
  CHECK(finding_codes_of(star).empty());

  // sipprobe register --query against Kamailio: a REGISTER without Contact.
  auto q = analyze_trace("pcap/lab_query.pcap");
  CHECK(q["diagnosis"]["code"] == "credentials_valid");
  CHECK(q["verdict"] == "credentials_valid");
  CHECK(finding_codes_of(q).empty());

  // A REGISTER whose Contact asks for 3600 s next to Expires: 0 is not a removal (the
  // Contact's parameter wins, RFC 3261 §10.2.1.1).
  const std::string crlf = slurp("text/registered_crlf.txt");
  auto mixed = analyze_bytes(replace_all(crlf, "5060>\r\nExpires: 3600", "5060>;expires=3600\r\nExpires: 0"));
  CHECK(mixed["diagnosis"]["code"] == "registered");
  CHECK(analyze_bytes(replace_all(crlf, "5060>\r\nExpires: 3600", "5060>\r\nExpires: 0"))["diagnosis"]["code"] == "unregistered");
}

TEST_CASE("analyze: ICMP port unreachable quoting the REGISTER is port_unreachable") {
  // sipprobe register to a UDP port nothing listens on, at 127.0.0.1 and at [::1]: the
  // kernel's ICMP / ICMPv6 error quotes it.
  for (const char* f : {"pcap/lab_port_unreachable.pcap", "pcap/lab_port_unreachable_v6.pcap"}) {
    CAPTURE(f);
    auto j = analyze_trace(f);
    CHECK(j["diagnosis"]["code"] == "port_unreachable");
    CHECK(evidence_of(j).find("ICMP port unreachable") != npos);
    REQUIRE(j["attempts"].size() == 1);
    CHECK(j["attempts"][0]["messages"].size() == 2);
    CHECK(j["attempts"][0]["messages"][1]["summary"].get<std::string>().find("ICMP port unreachable (quoting REGISTER CSeq 1)") !=
          npos);
    CHECK(j["warnings"].empty());
  }
}

TEST_CASE("analyze: a capture that stops before Timer F could fire is trace_incomplete") {
  for (const char* f : {"pcap/cut_short.pcap", "ngrep/cut_short.ngrep"}) {
    CAPTURE(f);
    auto j = analyze_trace(f);
    CHECK(j["diagnosis"]["code"] == "trace_incomplete");
    CHECK(evidence_of(j).find("the capture stops 1500 ms after the request") != npos);
    CHECK(evidence_of(j).find("capture longer") != npos);
  }
  // The file's last packet counts, SIP or not: an ARP frame at exactly Timer F (32 s after
  // the first transmission) lets the trace say no_response; a microsecond earlier not.
  const std::string cut = slurp("pcap/cut_short.pcap");
  for (const double after : {32.0, 31.999999}) {
    CAPTURE(after);
    std::string pcap = cut;
    add_record(pcap, t0 + after, arp_frame());
    auto j = analyze_bytes(pcap, "cut.pcap");
    CHECK(j["diagnosis"]["code"] == (after >= 32 ? "no_response" : "trace_incomplete"));
  }
  // Without times, only the phone's retransmissions tell how long it waited: 11
  // transmissions are a UDP phone's whole Timer E schedule, one is not.
  auto one = analyze_trace("text/cut_short_paste.txt");
  CHECK(one["diagnosis"]["code"] == "trace_incomplete");
  CHECK(evidence_of(one).find("no times") != npos);
  CHECK(analyze_trace("text/no_response_paste.txt")["diagnosis"]["code"] == "no_response");
  // The answer that came is the verdict, whenever the capture stops.
  CHECK(analyze_trace("pcap/registered_ether.pcap")["diagnosis"]["code"] == "registered");
}

TEST_CASE("analyze: stale=true answered with the new nonce is the stale_nonce finding") {
  // The SIPp registrar of tests/lab (401, 401 stale=true, 200), and a refresh that starts
  // with the previous registration's nonce.
  for (const char* f : {"pcap/lab_stale_nonce.pcap", "text/stale_refresh.txt"}) {
    CAPTURE(f);
    auto j = analyze_trace(f);
    CHECK(j["diagnosis"]["code"] == "registered");
    CHECK(finding_codes_of(j) == std::vector<std::string>{"stale_nonce"});
  }
  // Answered with another nonce than the stale challenge's: not the stale-nonce path.
  auto other = analyze_bytes(replace_all(slurp("text/stale_refresh.txt"), "nonce=\"5ea5ea5ea5ea5ea5ea5ea5ea5ea5ea55\", uri",
                                         "nonce=\"0ther0ther0ther0ther0ther0ther00\", uri"));
  auto codes = finding_codes_of(other);
  CHECK(std::find(codes.begin(), codes.end(), "stale_nonce") == codes.end());
  CHECK(std::find(codes.begin(), codes.end(), "credential_mismatch") != codes.end());
}

TEST_CASE("analyze: a challenge answered 34 s later stays one attempt") {
  for (const char* f : {"pcap/slow_answer.pcap", "ngrep/slow_answer.ngrep"}) {
    CAPTURE(f);
    auto j = analyze_trace(f);
    REQUIRE(j["attempts"].size() == 1);
    CHECK(j["diagnosis"]["code"] == "registered");
    CHECK(j["attempts"][0]["messages"].size() == 4);
    CHECK(j["summary"]["by_diagnosis"].size() == 1);
    CHECK(finding_codes_of(j).empty());
  }
  // Without the challenged nonce there is no continuity: the idle timer splits.
  auto broken = analyze_bytes(replace_all(slurp("ngrep/slow_answer.ngrep"),
                                          "realm=\"sip.example.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri",
                                          "realm=\"sip.example.com\", nonce=\"0000000000000000000000000000beef\", uri"));
  REQUIRE(broken["attempts"].size() == 2);
  CHECK(broken["attempts"][0]["diagnosis"]["code"] == "auth_not_attempted");
}

TEST_CASE("analyze: each file's verdicts do not depend on the other files named") {
  auto alone = analyze_trace("text/split_challenge.txt");
  REQUIRE(alone["attempts"].size() == 1);
  CHECK(alone["attempts"][0]["diagnosis"]["code"] == "auth_not_attempted");

  auto both = analyze_traces({"text/split_challenge.txt", "text/split_answer.txt"});
  REQUIRE(both["attempts"].size() == 2);
  CHECK(both["attempts"][0]["diagnosis"] == alone["attempts"][0]["diagnosis"]);
  CHECK(both["attempts"][0]["messages"] == alone["attempts"][0]["messages"]);
  CHECK(both["attempts"][1]["diagnosis"] == analyze_trace("text/split_answer.txt")["attempts"][0]["diagnosis"]);
  CHECK(both["summary"]["attempts"] == 2);  // the summary still counts them all
  CHECK(both["input"]["files"].size() == 2);

  // The same capture twice: two attempts of its own each, nothing taken for a retransmission.
  auto twice = analyze_traces({"pcap/registered_ether.pcap", "pcap/registered_ether.pcap"});
  REQUIRE(twice["attempts"].size() == 2);
  CHECK(twice["attempts"][0]["diagnosis"]["code"] == "registered");
  CHECK(twice["attempts"][1]["diagnosis"]["code"] == "registered");
  CHECK(twice["input"]["retransmissions"] == 0);
}

TEST_CASE("analyze: a reply that is not valid SIP is malformed_response, never success") {
  // Real exchanges with the SIPp registrars of tests/lab: junk, then a 200 with a header
  // line without a colon and a Content-Length past the datagram; a "SIP/2.O" status line;
  // an HTTP reply on a TCP connection. The pcap and ngrep's rendering of it agree.
  for (const char* f :
       {"pcap/lab_junk_then_broken_200.pcap", "ngrep/lab_junk_then_broken_200.ngrep", "pcap/lab_malformed_version.pcap",
        "ngrep/lab_malformed_version.ngrep", "pcap/lab_malformed_http_tcp.pcap"}) {
    CAPTURE(f);
    auto j = analyze_trace(f);
    CHECK(j["diagnosis"]["code"] == "malformed_response");
    CHECK(j["verdict"] == "failed");
    CHECK(j["registration"].is_null());
    CHECK(evidence_of(j).find("not valid SIP") != npos);
  }
  auto junk = analyze_trace("pcap/lab_junk_then_broken_200.pcap");
  CHECK(evidence_of(junk).find("Content-Length 40") != npos);
  CHECK(evidence_of(junk).find("garbage from a middlebox") != npos);
  CHECK(evidence_of(analyze_trace("pcap/lab_malformed_http_tcp.pcap")).find("HTTP/1.1 400 Bad Request") != npos);

  // A 200 whose Content-Length says one byte more than the datagram carries is discarded
  // by the phone (RFC 3261 §18.3); exactly as many is a registration.
  for (const std::size_t extra : {0, 1}) {
    CAPTURE(extra);
    const std::string body = "v=0\r\n";
    std::string pcap = pcap_header();
    add_record(pcap, t0, udp_frame(false, register_request()));
    add_record(pcap, t0 + 0.02, udp_frame(true, ok_response(body, body.size() + extra)));
    auto j = analyze_bytes(pcap, "cl.pcap");
    CHECK(j["diagnosis"]["code"] == (extra == 0 ? "registered" : "malformed_response"));
  }
  // Junk on the way back is a reply to the flow's last REGISTER for 64 s (twice Timer F).
  for (const double after : {64.0, 64.5}) {
    CAPTURE(after);
    std::string pcap = pcap_header();
    add_record(pcap, t0, udp_frame(false, register_request()));
    add_record(pcap, t0 + after, udp_frame(true, "garbage"));
    auto j = analyze_bytes(pcap, "late.pcap");
    CHECK(j["diagnosis"]["code"] == (after <= 64 ? "malformed_response" : "no_response"));
  }
  auto exact = analyze_trace("pcap/alg_content_length.pcap");  // 12 announced, 5 present
  CHECK(exact["diagnosis"]["code"] == "malformed_response");
  CHECK(finding_detail_of(exact, "sip_alg_suspected").find("Content-Length 12 but the datagram carries 5 body bytes") != npos);
}

TEST_CASE("analyze: a lone response without CSeq is no attempt, non-SIP TCP is skipped and counted") {
  trace_analyzer a({});
  std::string lone = "SIP/2.0 200 OK\r\nCall-ID: lone@x\r\nContent-Length: 0\r\n\r\n";
  std::FILE* f = fmemopen(lone.data(), lone.size(), "rb");
  REQUIRE(f != nullptr);
  CHECK(a.add(f, "lone.txt", lone));
  a.finish();
  CHECK(a.store().total() == 0);
  CHECK(a.result().register_messages == 0);

  // A packet of another protocol in an ngrep dump, however long, is skipped in silence.
  std::string dump = slurp("ngrep/registered.ngrep");
  std::string other = "U 2024/05/01 10:00:01.000000 10.0.0.9:4000 -> 10.0.0.1:4000 #9\n";
  for (int i = 0; i < 8; ++i) other += std::string(10000, 'x') + ".\n";
  auto long_junk = analyze_bytes(dump + other + "\n\n", "dump.ngrep");
  CHECK(long_junk["warnings"].empty());
  CHECK(long_junk["diagnosis"]["code"] == "registered");

  auto j = analyze_trace("pcap/non_sip_tcp.pcap");
  CHECK(j["warnings"].empty());
  CHECK(j["input"]["skipped"]["not_sip_streams"] == 3);
  CHECK(j["diagnosis"]["code"] == "registered");
}

TEST_CASE("analyze: a nonce refused and the same user accepted later is not a wrong password") {
  auto j = analyze_trace("ngrep/nonce_changed.ngrep");
  REQUIRE(j["attempts"].size() == 2);
  const auto& first = j["attempts"][0];
  CHECK(first["diagnosis"]["code"] != "auth_failed");
  const std::string ev = evidence_of(first);
  CHECK(ev.find("nonce has changed") != npos);
  CHECK(ev.find("not a wrong password") != npos);
  CHECK(ev.find("c0ffee0000000001@10.0.0.5") != npos);  // the later attempt that registered
  CHECK(j["attempts"][1]["diagnosis"]["code"] == "registered");
  // The failure alone: the reason still points at the nonce, not at the password.
  auto alone = analyze_bytes(slurp("ngrep/nonce_changed.ngrep").substr(0, slurp("ngrep/nonce_changed.ngrep").find("c0ffee")));
  CHECK(alone["attempts"][0]["diagnosis"]["code"] != "auth_failed");
}

TEST_CASE("analyze: findings no trace exercised — a reduced expiry, NAT without received or rport") {
  // Kamailio with max_expires 600 and sipprobe register --expires 3600 --keep.
  auto reduced = analyze_trace("pcap/lab_expires_reduced.pcap");
  CHECK(reduced["diagnosis"]["code"] == "registered");
  CHECK(finding_codes_of(reduced) == std::vector<std::string>{"expires_reduced"});
  CHECK(finding_detail_of(reduced, "expires_reduced") == "asked for 3600 s, granted 600 s");
  CHECK(reduced["registration"]["expires"] == 600);

  // The registrar adds neither received nor rport: the packet's source shows the NAT.
  auto nat = analyze_trace("pcap/nat_no_received.pcap");
  CHECK(nat["diagnosis"]["code"] == "registered");
  CHECK(finding_codes_of(nat) == std::vector<std::string>{"nat_private_contact"});
  CHECK(finding_detail_of(nat, "nat_private_contact").find("203.0.113.9") != npos);
}

TEST_CASE("analyze: a second final response to an answered REGISTER neither ends nor decides the attempt") {
  // Kamailio with the usual `if (!save("location")) sl_reply_error();` answers a short
  // interval with 423 from save() and then 500 from sl_reply_error() to the same request.
  // A phone's transaction is completed by the 423 and discards the 500 (RFC 3261
  // §17.1.1.2): it retries with Min-Expires and registers — sipprobe register did exactly that.
  auto j = analyze_trace("pcap/lab_423_then_500.pcap");
  REQUIRE(j["attempts"].size() == 2);
  CHECK(j["attempts"][0]["diagnosis"]["code"] == "registered");
  CHECK(finding_codes_of(j["attempts"][0]) == std::vector<std::string>{"expires_raised"});
  CHECK(j["attempts"][1]["diagnosis"]["code"] == "unregistered");
  CHECK(j["summary"]["by_diagnosis"].count("server_error") == 0);
  // The second answer is shown, and named for what it is.
  const auto ev = evidence_of(j["attempts"][0]);
  CHECK(ev.find(
            "500 I'm terribly sorry, server error occurred (1/SL) after 423 Interval Too Brief to the same REGISTER (CSeq 2)") !=
        npos);
  CHECK(ev.find("sl_reply_error") != npos);
}
