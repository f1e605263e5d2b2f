// The message parser and stream framer (sip/parse.hpp, sip/message.hpp).
#include <ostream>
#include <doctest/doctest.h>

#include "sip/error.hpp"
#include "sip/parse.hpp"
#include "sip/scan.hpp"

#include <string>
#include <vector>

using namespace std::literals;

namespace {

const std::string reg =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@example.com>\r\n"
    "From: Bob <sip:bob@example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Expires: 7200\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const std::string resp401 =
    "SIP/2.0 401 Unauthorized\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=198.51.100.7;rport=61234\r\n"
    "To: Bob <sip:bob@example.com>;tag=2493k59kd\r\n"
    "From: Bob <sip:bob@example.com>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\",\r\n"
    "  algorithm=SHA-256, qop=\"auth\"\r\n"
    "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"ea9c\", algorithm=MD5\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "hello";

std::string replace(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, from);
  s.replace(pos, from.size(), to);
  return s;
}

std::string lf_only(std::string s) {
  std::string out;
  for (char c : s)
    if (c != '\r') out.push_back(c);
  return out;
}

}  // namespace

TEST_CASE("parse: request start line, headers and ids") {
  sip::message_view m;
  auto r = sip::parse(reg, m, sip::framing::datagram);
  REQUIRE_FALSE(r.ec);
  CHECK(r.consumed == reg.size());
  CHECK(m.is_request());
  CHECK(m.method == "REGISTER");
  CHECK(m.request_uri == "sip:example.com");
  CHECK(m.version == "SIP/2.0");
  CHECK(m.raw == reg);
  CHECK(m.body.empty());
  REQUIRE(m.headers.size() == 9);
  CHECK(m.headers[0].id == sip::header_id::via);
  CHECK(m.headers[5].id == sip::header_id::cseq);
  CHECK(m.find(sip::header_id::call_id)->value == "843817637684230@998sdasdh09");
  CHECK(m.find("call-id") == m.find(sip::header_id::call_id));
  CHECK(m.find("i") == m.find(sip::header_id::call_id));
  CHECK(m.find(sip::header_id::retry_after) == nullptr);
  CHECK(m.count(sip::header_id::contact) == 1);
}

TEST_CASE("parse: response with body, auth headers come back whole") {
  sip::message_view m;
  auto r = sip::parse(resp401, m, sip::framing::datagram);
  REQUIRE_FALSE(r.ec);
  CHECK_FALSE(m.is_request());
  CHECK(m.status == 401);
  CHECK(m.reason == "Unauthorized");
  CHECK(m.body == "hello");
  std::vector<std::string_view> ch;
  REQUIRE_FALSE(m.values(sip::header_id::www_authenticate, ch));
  REQUIRE(ch.size() == 2);
  CHECK(ch[0].substr(0, 7) == "Digest ");
  CHECK(ch[0].find("qop=\"auth\"") != std::string_view::npos);  // folded line kept in the value
  CHECK(ch[1] == "Digest realm=\"example.com\", nonce=\"ea9c\", algorithm=MD5");
}

TEST_CASE("parse: header names, compact forms, canonical names") {
  struct row {
    const char* name;
    sip::header_id id;
  };
  const row rows[] = {
      {"i", sip::header_id::call_id},
      {"M", sip::header_id::contact},
      {"e", sip::header_id::content_encoding},
      {"l", sip::header_id::content_length},
      {"c", sip::header_id::content_type},
      {"f", sip::header_id::from},
      {"s", sip::header_id::subject},
      {"k", sip::header_id::supported},
      {"T", sip::header_id::to},
      {"v", sip::header_id::via},
      {"o", sip::header_id::event},
      {"u", sip::header_id::allow_events},
      {"r", sip::header_id::refer_to},
      {"b", sip::header_id::referred_by},
      {"x", sip::header_id::session_expires},
      {"a", sip::header_id::accept_contact},
      {"j", sip::header_id::reject_contact},
      {"d", sip::header_id::request_disposition},
      {"y", sip::header_id::identity},
      {"n", sip::header_id::identity_info},
      {"CALL-ID", sip::header_id::call_id},
      {"cseq", sip::header_id::cseq},
      {"www-authenticate", sip::header_id::www_authenticate},
      {"Max-Forwards", sip::header_id::max_forwards},
      {"record-route", sip::header_id::record_route},
      {"X-Custom", sip::header_id::other},
      {"q", sip::header_id::other},
      {"", sip::header_id::other},
  };
  for (const auto& r : rows) CHECK_MESSAGE(sip::lookup_header(r.name) == r.id, r.name);
  CHECK(sip::canonical_name(sip::header_id::call_id) == "Call-ID");
  CHECK(sip::canonical_name(sip::header_id::www_authenticate) == "WWW-Authenticate");
  for (int i = 1; i < static_cast<int>(sip::header_id::count_); ++i) {
    auto id = static_cast<sip::header_id>(i);
    CHECK(sip::lookup_header(sip::canonical_name(id)) == id);
  }
  CHECK(sip::is_list_header(sip::header_id::via));
  CHECK_FALSE(sip::is_list_header(sip::header_id::authorization));
  CHECK_FALSE(sip::is_list_header(sip::header_id::date));
}

TEST_CASE("parse: compact forms, folding, whitespace before the colon, LF-only") {
  std::string msg =
      "INVITE sip:bob@example.com SIP/2.0\r\n"
      "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,\r\n SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n"
      "V : SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n"
      "f: <sip:alice@example.com>;tag=1\r\n"
      "t:\r\n\t<sip:bob@example.com>\r\n"
      "i: abc@def\r\n"
      "CSeq: 1\r\n INVITE\r\n"
      "Subject: first\r\n  second\r\n\tthird\r\n"
      "l: 0\r\n"
      "\r\n";
  for (const auto& text : {msg, lf_only(msg)}) {
    sip::message_view m;
    auto r = sip::parse(text, m, sip::framing::datagram);
    REQUIRE_FALSE(r.ec);
    std::vector<std::string_view> vias;
    REQUIRE_FALSE(m.values(sip::header_id::via, vias));
    REQUIRE(vias.size() == 3);
    CHECK(vias[2] == "SIP/2.0/UDP c.example.com;branch=z9hG4bK3");
    CHECK(sip::trim_lws(m.find(sip::header_id::to)->value) == "<sip:bob@example.com>");
    auto subject = m.find(sip::header_id::subject)->value;
    CHECK(subject.substr(0, 5) == "first");
    CHECK(subject.substr(subject.size() - 5) == "third");
    CHECK(sip::serialize(m).find("Subject: first  second\tthird\r\n") != std::string::npos);
  }
}

TEST_CASE("parse: repeated and comma-separated headers") {
  std::string msg = replace(reg, "Contact: <sip:bob@192.0.2.4>\r\n",
                            "Contact: <sip:a@h>, \"x, y\" <sip:b@h>\r\nAllow: INVITE, ACK\r\n"
                            "Contact: <sip:c@h>\r\nAllow: BYE\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
                            "X-Thing: 1, 2\r\n");
  sip::message_view m;
  REQUIRE_FALSE(sip::parse(msg, m, sip::framing::datagram).ec);
  std::vector<std::string_view> v;
  REQUIRE_FALSE(m.values(sip::header_id::contact, v));
  CHECK(v == std::vector<std::string_view>{"<sip:a@h>", "\"x, y\" <sip:b@h>", "<sip:c@h>"});
  v.clear();
  REQUIRE_FALSE(m.values("allow", v));
  CHECK(v == std::vector<std::string_view>{"INVITE", "ACK", "BYE"});
  v.clear();
  REQUIRE_FALSE(m.values(sip::header_id::date, v));
  CHECK(v.size() == 1);
  v.clear();
  REQUIRE_FALSE(m.values("x-thing", v));
  CHECK(v == std::vector<std::string_view>{"1, 2"});
}

TEST_CASE("parse: datagram body and Content-Length (RFC 3261 §18.3)") {
  sip::message_view m;
  std::string with_body = replace(reg, "Content-Length: 0\r\n\r\n", "Content-Length: 4\r\n\r\nbodyEXTRA");
  auto r = sip::parse(with_body, m, sip::framing::datagram);
  REQUIRE_FALSE(r.ec);
  CHECK(m.body == "body");
  CHECK(r.consumed == with_body.size() - 5);
  std::string no_cl = replace(reg, "Content-Length: 0\r\n\r\n", "\r\nwhole rest");
  REQUIRE_FALSE(sip::parse(no_cl, m, sip::framing::datagram).ec);
  CHECK(m.body == "whole rest");
  std::string keepalive = "\r\n\r\n" + reg;
  r = sip::parse(keepalive, m, sip::framing::datagram);
  REQUIRE_FALSE(r.ec);
  CHECK(r.consumed == keepalive.size());
  CHECK(m.raw == reg);
}

TEST_CASE("parse: strict and lenient modes") {
  sip::parse_options lenient;
  lenient.lenient = true;
  sip::message_view m;
  std::string trimmed = "OPTIONS sip:x@example.com SIP/2.0\nTo: <sip:x@example.com>\n\n";
  CHECK(sip::parse(trimmed, m, sip::framing::datagram).ec == sip::errc::missing_required_header);
  REQUIRE_FALSE(sip::parse(trimmed, m, sip::framing::datagram, lenient).ec);
  CHECK(m.headers.size() == 1);
  // no blank line at the end of a pasted trace
  std::string open_end = "SIP/2.0 200 OK\nCall-ID: x\nCSeq: 1 REGISTER";
  CHECK(sip::parse(open_end, m, sip::framing::datagram).ec == sip::errc::missing_header_end);
  REQUIRE_FALSE(sip::parse(open_end, m, sip::framing::datagram, lenient).ec);
  CHECK(m.find(sip::header_id::cseq)->value == "1 REGISTER");
  // trailing SP on the request line, status line without reason phrase
  std::string trws = replace(reg, "SIP/2.0\r\n", "SIP/2.0  \r\n");
  CHECK(sip::parse(trws, m, sip::framing::datagram).ec == sip::errc::bad_start_line);
  REQUIRE_FALSE(sip::parse(trws, m, sip::framing::datagram, lenient).ec);
  CHECK(m.version == "SIP/2.0");
  std::string noreason = replace(resp401, "401 Unauthorized", "401");
  CHECK(sip::parse(noreason, m, sip::framing::datagram).ec == sip::errc::bad_start_line);
  REQUIRE_FALSE(sip::parse(noreason, m, sip::framing::datagram, lenient).ec);
  CHECK(m.status == 401);
  CHECK(m.reason.empty());
  // the CSeq check and duplicate check are strict-only
  std::string mismatch = replace(reg, "1826 REGISTER", "1826 INVITE");
  CHECK(sip::parse(mismatch, m, sip::framing::datagram).ec == sip::errc::bad_cseq);
  CHECK_FALSE(sip::parse(mismatch, m, sip::framing::datagram, lenient).ec);
  // Max-Forwards is not required (RFC 2543 peers)
  CHECK_FALSE(sip::parse(replace(reg, "Max-Forwards: 70\r\n", ""), m, sip::framing::datagram).ec);
}

TEST_CASE("parse: limits") {
  sip::message_view m;
  std::string big = replace(reg, "Expires", "X-Pad: " + std::string(9000, 'p') + "\r\nExpires");
  auto r = sip::parse(big, m, sip::framing::datagram);
  CHECK(r.ec == sip::errc::line_too_long);
  CHECK(r.offset == big.find("X-Pad"));
  CHECK(r.line == 9);
  // exactly at the limit is fine
  std::string at_limit = replace(reg, "Expires", "X-Pad: " + std::string(8192 - 7, 'p') + "\r\nExpires");
  CHECK_FALSE(sip::parse(at_limit, m, sip::framing::datagram).ec);
  std::string folded = replace(reg, "Expires",
                               "X-Pad: " + std::string(5000, 'p') + "\r\n " + std::string(5000, 'q') + "\r\nExpires");
  CHECK(sip::parse(folded, m, sip::framing::datagram).ec == sip::errc::line_too_long);
  std::string many;
  for (int i = 0; i < 300; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  std::string lots = replace(reg, "Expires", many + "Expires");
  r = sip::parse(lots, m, sip::framing::datagram);
  CHECK(r.ec == sip::errc::too_many_headers);
  CHECK(r.offset == lots.find("X-H249:"));  // 7 headers before, 256 allowed
  std::string huge = replace(reg, "Content-Length: 0\r\n\r\n", "\r\n" + std::string(70000, 'b'));
  r = sip::parse(huge, m, sip::framing::datagram);
  CHECK(r.ec == sip::errc::message_too_large);
  sip::parse_options small;
  small.max_message = 600;
  small.max_headers = 5;
  small.max_line = 40;
  CHECK(sip::parse(reg, m, sip::framing::datagram, small).ec == sip::errc::line_too_long);
  std::string cl_big = replace(reg, "Content-Length: 0", "Content-Length: 70000");
  CHECK(sip::parse(cl_big, m, sip::framing::stream).ec == sip::errc::message_too_large);
  std::string endless = "OPTIONS sip:a@b SIP/2.0\r\n";
  while (endless.size() < 70000) endless += "X-Filler: " + std::string(1000, 'f') + "\r\n";
  CHECK(sip::parse(endless, m, sip::framing::stream).ec == sip::errc::message_too_large);
}

TEST_CASE("parse: malformed input gives errc, offset and line") {
  struct row {
    std::string text;
    sip::errc want;
    std::string at;    // offset = first occurrence of this text ("" = do not check)
    std::size_t line;  // 0 = do not check
    sip::framing f = sip::framing::datagram;
  };
  const std::string badcl = replace(reg, "Content-Length: 0", "Content-Length: 12abc");
  const std::vector<row> rows = {
      {"", sip::errc::empty_message, "", 1},
      {"\r\n\r\n", sip::errc::empty_message, "", 3},
      {replace(reg, "REGISTER sip:example.com SIP/2.0", "REGISTER"), sip::errc::bad_start_line, "REGISTER", 1},
      {replace(reg, "REGISTER sip", "REG@STER sip"), sip::errc::bad_method, "@", 1},
      {replace(reg, "SIP/2.0\r\nVia", "SIP/3.0\r\nVia"), sip::errc::bad_version, "SIP/3.0", 1},
      {replace(reg, "SIP/2.0\r\nVia", "HTTP/1.1\r\nVia"), sip::errc::bad_version, "HTTP", 1},
      {replace(resp401, "401 Unauth", "40 Unauth"), sip::errc::bad_status_code, "40 ", 1},
      {replace(resp401, "401 Unauth", "099 Unauth"), sip::errc::bad_status_code, "099", 1},
      {replace(resp401, "401 Unauth", "700 Unauth"), sip::errc::bad_status_code, "700", 1},
      {replace(resp401, "401 Unauth", "4010 Unauth"), sip::errc::bad_status_code, "4010", 1},
      {replace(resp401, "401 Unauth", "4x1 Unauth"), sip::errc::bad_status_code, "4x1", 1},
      {replace(resp401, "SIP/2.0 401", "SIP/1.0 401"), sip::errc::bad_version, "SIP/1.0", 1},
      {replace(reg, "REGISTER sip", "REGISTER  sip"), sip::errc::bad_start_line, " sip:", 1},
      {replace(reg, "REGISTER sip:example.com", "REGISTER <sip:example.com>"), sip::errc::bad_request_uri, "<sip", 1},
      {replace(reg, "sip:example.com SIP", "sip:example.com; lr SIP"), sip::errc::bad_request_uri, " lr", 1},
      {replace(reg, "sip:example.com SIP", "sip:example.com?Route=x SIP"), sip::errc::bad_request_uri, "?Route", 1},
      {replace(reg, "sip:example.com SIP", "sip:[::1 SIP"), sip::errc::bad_request_uri, "sip:[", 1},
      {replace(reg, "sip:example.com SIP", "nonsense SIP"), sip::errc::bad_request_uri, "nonsense", 1},
      {replace(reg, "Max-Forwards: 70", "Max-Forwards 70"), sip::errc::bad_header_line, "70\r\nTo", 3},
      {replace(reg, "Max-Forwards: 70", "Max@Forwards: 70"), sip::errc::bad_header_name, "@", 3},
      {replace(reg, "Max-Forwards: 70", ": 70"), sip::errc::bad_header_name, ": 70", 3},
      {replace(reg, "Max-Forwards: 70", "Max Forwards: 70"), sip::errc::bad_header_line, "Forwards", 3},
      {replace(reg, "\r\nVia:", "\r\n Via:"), sip::errc::bad_folding, " Via", 2},
      {replace(reg, "Expires: 7200", "Expires: 72\r00"), sip::errc::bad_line_ending, "\r00", 9},
      {replace(reg, "Expires: 7200", "Expires: 72"s + '\0' + "00"), sip::errc::bad_line_ending, "\0"s, 9},
      {replace(reg, "Expires: 7200", "Expires: 72\x7f"), sip::errc::bad_line_ending, "\x7f", 9},
      {replace(reg, "Expires: 7200", "Expires: 72\x01"), sip::errc::bad_line_ending, "\x01", 9},
      {reg.substr(0, reg.size() - 2), sip::errc::missing_header_end, "", 11},
      {badcl, sip::errc::bad_content_length, "12abc", 10},
      {replace(reg, "Content-Length: 0", "Content-Length: -1"), sip::errc::bad_content_length, "-1", 10},
      {replace(reg, "Content-Length: 0", "Content-Length: 99999999999"), sip::errc::bad_content_length, "999", 10},
      {replace(reg, "Expires", "l: 3\r\nExpires"), sip::errc::bad_content_length, "0\r\n\r\n", 11},
      {replace(reg, "Content-Length: 0\r\n\r\n", "Content-Length: 10\r\n\r\nabc"), sip::errc::body_truncated, "", 12},
      {replace(reg, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n", ""), sip::errc::missing_required_header,
       "", 10},
      {replace(reg, "CSeq: 1826 REGISTER\r\n", ""), sip::errc::missing_required_header, "", 10},
      {replace(reg, "Call-ID", "From: <sip:x@y>;tag=2\r\nCall-ID"), sip::errc::duplicate_header, "From: <sip:x", 6},
      {replace(reg, "Expires", "i: again\r\nExpires"), sip::errc::duplicate_header, "i: again", 9},
      {replace(reg, "1826 REGISTER", "1826 INVITE"), sip::errc::bad_cseq, "1826", 7},
      {replace(reg, "1826 REGISTER", "abc REGISTER"), sip::errc::bad_cseq, "abc", 7},
      {replace(reg, "1826 REGISTER", "2147483648 REGISTER"), sip::errc::bad_cseq, "2147483648", 7},
      {replace(reg, "1826 REGISTER", "1826REGISTER"), sip::errc::bad_cseq, "1826", 7},
      {replace(reg, "Content-Length: 0\r\n", ""), sip::errc::missing_content_length, "", 10, sip::framing::stream},
      {replace(reg, "REGISTER sip", "\rREGISTER sip"), sip::errc::bad_line_ending, "", 1},
  };
  CHECK(rows.size() >= 30);
  for (const auto& r : rows) {
    sip::message_view m;
    auto res = sip::parse(r.text, m, r.f);
    INFO("input: ", r.text.substr(0, 80));
    CHECK(res.ec == r.want);
    if (!r.at.empty()) CHECK(res.offset == r.text.find(r.at));
    if (r.line != 0) CHECK(res.line == r.line);
  }
}

TEST_CASE("parse: a Request-URI seen before gives the same verdict (the per-thread memo)") {
  // The same URI with headers: accepted in lenient mode, refused where its '?' is in
  // strict mode, whichever came first; another URI in between changes nothing.
  const std::string with_headers = replace(reg, "sip:example.com SIP", "sip:example.com?Route=x SIP");
  const std::string other = replace(reg, "sip:example.com SIP", "sip:other.example.com SIP");
  sip::parse_options lenient;
  lenient.lenient = true;
  for (int round = 0; round < 3; ++round) {
    sip::message_view m;
    CHECK_FALSE(sip::parse(with_headers, m, sip::framing::datagram, lenient).ec);
    auto strict = sip::parse(with_headers, m, sip::framing::datagram);
    CHECK(strict.ec == sip::errc::bad_request_uri);
    CHECK(strict.offset == with_headers.find("?Route"));
    CHECK_FALSE(sip::parse(with_headers, m, sip::framing::datagram, lenient).ec);
    if (round == 1) CHECK_FALSE(sip::parse(other, m, sip::framing::datagram).ec);
    CHECK_FALSE(sip::parse(reg, m, sip::framing::datagram).ec);
    CHECK(sip::parse(replace(reg, "sip:example.com SIP", "sip:exa mple.com SIP"), m, sip::framing::datagram).ec ==
          sip::errc::bad_request_uri);
  }
}

TEST_CASE("parse: round trip parse -> serialize -> parse") {
  std::string folded = replace(resp401, "Content-Type", "x-odd-CASE :  v\r\n  w\r\nContent-Type");
  for (const auto& text : {reg, resp401, folded, lf_only(reg)}) {
    sip::message_view a, b;
    REQUIRE_FALSE(sip::parse(text, a, sip::framing::datagram).ec);
    std::string once = sip::serialize(a);
    REQUIRE_FALSE(sip::parse(once, b, sip::framing::stream).ec);
    CHECK(sip::serialize(b) == once);
    CHECK(a.method == b.method);
    CHECK(a.status == b.status);
    CHECK(a.body == b.body);
    REQUIRE(a.headers.size() == b.headers.size());
    for (std::size_t i = 0; i < a.headers.size(); ++i) CHECK(a.headers[i].id == b.headers[i].id);
  }
  sip::message_view m;
  REQUIRE_FALSE(
      sip::parse(
          "INVITE sip:a@example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:b@h>;tag=1\r\nt: <sip:a@h>\r\ni: x\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"sv,
          m, sip::framing::datagram)
          .ec);
  CHECK(sip::serialize(m) ==
        "INVITE sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@h>;tag=1\r\n"
        "To: <sip:a@h>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("parse: owned_message outlives the buffer and survives moves") {
  sip::owned_message kept;
  {
    std::string buf = resp401;
    sip::message_view m;
    REQUIRE_FALSE(sip::parse(buf, m, sip::framing::datagram).ec);
    kept = sip::to_owned(m);
    buf.assign(buf.size(), 'X');  // scribble over the original
  }
  sip::owned_message moved = std::move(kept);
  CHECK(kept->headers.empty());
  sip::owned_message copy = moved;
  std::vector<sip::owned_message> store;
  for (int i = 0; i < 20; ++i) store.push_back(copy);  // reallocations move the elements
  for (const auto* o : {&moved, &copy, &store.back()}) {
    CHECK((*o)->status == 401);
    CHECK((*o)->reason == "Unauthorized");
    CHECK((*o)->body == "hello");
    CHECK((*o)->find(sip::header_id::call_id)->value == "843817637684230@998sdasdh09");
    CHECK(sip::serialize(o->view()) == sip::serialize(moved.view()));
  }
  CHECK(moved->raw.data() != copy->raw.data());
}

TEST_CASE("parse: owned_message can take the buffer it was parsed from, short or long") {
  // A stream buffer holding the message and more after it.
  std::string buf = std::string(resp401) + "OPTIONS sip:x SIP/2.0\r\n";
  sip::message_view m;
  const auto r = sip::parse(buf, m, sip::framing::stream);
  REQUIRE_FALSE(r.ec);
  const auto expected = sip::serialize(m);
  sip::owned_message taken(std::move(buf), std::move(m));
  CHECK(taken->raw.size() == r.consumed);
  // A buffer too short for any message, which a string keeps inside itself: a hand-made
  // view into it must follow the bytes as well.
  std::string tiny = "xAB: cd";
  sip::message_view v;
  v.raw = std::string_view(tiny).substr(1);
  v.headers.push_back({v.raw.substr(0, 2), v.raw.substr(4), sip::header_id::other});
  sip::owned_message small(std::move(tiny), std::move(v));
  std::vector<sip::owned_message> store;
  for (int i = 0; i < 20; ++i) {  // moves, reallocations and copies
    store.push_back(std::move(taken));
    store.push_back(std::move(small));
    taken = store[store.size() - 2];
    small = store.back();
  }
  for (const auto* o : {&taken, &store[0], &store[store.size() - 2]}) {
    CHECK((*o)->status == 401);
    CHECK(sip::serialize(o->view()) == expected);
  }
  for (const auto* o : {&small, &store[1], &store.back()}) {
    CHECK((*o)->raw == "AB: cd");
    REQUIRE((*o)->headers.size() == 1);
    CHECK((*o)->headers[0].name == "AB");
    CHECK((*o)->headers[0].value == "cd");
    CHECK((*o)->headers[0].name.data() == (*o)->raw.data());
  }
}

namespace {

// Feeds `stream` to a framer in the given chunks and returns the messages serialized.
std::vector<std::string> frame(std::string_view stream, const std::vector<std::size_t>& cuts) {
  sip::stream_framer framer;
  std::vector<std::string> out;
  std::size_t prev = 0;
  auto feed = [&](std::size_t to) {
    REQUIRE_FALSE(framer.append(stream.substr(prev, to - prev)));
    prev = to;
    sip::message_view m;
    while (true) {
      auto r = framer.next(m);
      if (r.ec == sip::errc::need_more) break;
      REQUIRE_FALSE(r.ec);
      out.push_back(sip::serialize(m));
    }
  };
  for (auto c : cuts) feed(c);
  feed(stream.size());
  return out;
}

}  // namespace

TEST_CASE("stream: several messages in one read, keep-alives, split at every offset") {
  std::string folded = replace(reg, "Expires", "Subject: a\r\n b\r\nExpires");
  std::string stream = "\r\n\r\n" + reg + resp401 + "\r\n" + folded + lf_only(resp401);
  auto whole = frame(stream, {});
  REQUIRE(whole.size() == 4);
  CHECK(whole[1] == sip::serialize([&] {
          static sip::message_view v;
          REQUIRE_FALSE(sip::parse(resp401, v, sip::framing::datagram).ec);
          return v;
        }()));
  for (std::size_t k = 0; k <= stream.size(); ++k) CHECK(frame(stream, {k}) == whole);
  for (std::size_t k = 0; k + 7 <= stream.size(); k += 7) CHECK(frame(stream, {k, k + 3}) == whole);
  std::vector<std::size_t> bytes;
  for (std::size_t k = 1; k < stream.size(); ++k) bytes.push_back(k);
  CHECK(frame(stream, bytes) == whole);
}

TEST_CASE("stream: every proper prefix needs more, the full message parses") {
  for (const auto& text : {reg, resp401, lf_only(resp401)}) {
    sip::message_view m;
    for (std::size_t k = 0; k < text.size(); ++k) {
      auto r = sip::parse(std::string_view(text).substr(0, k), m, sip::framing::stream);
      CHECK_MESSAGE(r.ec == sip::errc::need_more, k);
    }
    auto r = sip::parse(text, m, sip::framing::stream);
    REQUIRE_FALSE(r.ec);
    CHECK(r.consumed == text.size());
  }
}

TEST_CASE("stream: framer errors, skipping, bounds and keep-alive count") {
  sip::stream_framer framer;
  sip::message_view m;
  std::string bad = replace(reg, "1826 REGISTER", "1826 INVITE");
  REQUIRE_FALSE(framer.append("\r\n\r\n" + bad + "\r\n" + reg));
  auto r = framer.next(m);
  CHECK(r.ec == sip::errc::bad_cseq);  // framed: skipped, the stream goes on
  CHECK(r.offset == 4 + bad.find("1826"));
  CHECK_FALSE(framer.failed());
  REQUIRE_FALSE(framer.next(m).ec);
  CHECK(m.method == "REGISTER");
  CHECK(framer.next(m).ec == sip::errc::need_more);
  CHECK(framer.keepalives() == 3);
  CHECK(framer.buffered() == 0);

  REQUIRE_FALSE(framer.append(replace(reg, "Content-Length: 0\r\n", "")));
  r = framer.next(m);
  CHECK(r.ec == sip::errc::missing_content_length);
  CHECK(framer.failed());
  CHECK(framer.next(m).ec == sip::errc::missing_content_length);  // sticky
  framer.reset();
  REQUIRE_FALSE(framer.append(reg));
  CHECK_FALSE(framer.next(m).ec);

  sip::stream_framer tiny(sip::parse_options{}, 100);
  CHECK(tiny.append(reg) == sip::errc::message_too_large);
  sip::stream_framer flood;
  std::string filler = "OPTIONS sip:a@b SIP/2.0\r\n";
  while (filler.size() < 66000) filler += "X-Filler: " + std::string(1000, 'f') + "\r\n";
  REQUIRE_FALSE(flood.append(filler));
  CHECK(flood.next(m).ec == sip::errc::message_too_large);
}
