// Typed header accessors (sip/headers.hpp) and the RFC 4475-style torture corpus.
#include <ostream>
#include <doctest/doctest.h>

#include "sip/error.hpp"
#include "sip/headers.hpp"

#include <fstream>
#include <iterator>
#include <string>

using namespace std::literals;

namespace {

std::string load(std::string_view name) {
  std::ifstream in(std::string(SIPPROBE_TEST_DATA) + "/torture/" + std::string(name) + ".sip", std::ios::binary);
  REQUIRE_MESSAGE(in.good(), name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// errc{} stands for success, which std::error_code spells with the system category.
bool is(std::error_code ec, sip::errc want) { return want == sip::errc{} ? !ec : ec == want; }

sip::parse_options lenient() {
  sip::parse_options o;
  o.lenient = true;
  return o;
}

}  // namespace

TEST_CASE("headers: Via with received, rport with and without value, IPv6, folding") {
  sip::via v;
  REQUIRE_FALSE(sip::parse_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;received=198.51.100.7;rport=61234;ttl=1", v));
  CHECK(v.protocol_name == "SIP");
  CHECK(v.protocol_version == "2.0");
  CHECK(v.transport == "UDP");
  CHECK(v.host == "192.0.2.1");
  CHECK(v.port == 5060);
  CHECK(v.branch() == "z9hG4bK776");
  CHECK(v.received() == "198.51.100.7");
  CHECK(v.has_rport());
  CHECK(v.rport() == 61234);
  CHECK(v.param("TTL") == "1");
  CHECK(v.params.size() == 4);

  REQUIRE_FALSE(sip::parse_via("SIP/2.0/TLS proxy.example.com;rport;branch=z9hG4bKx", v));
  CHECK(v.port == 0);
  CHECK(v.has_rport());
  CHECK_FALSE(v.rport());
  CHECK_FALSE(v.received());

  REQUIRE_FALSE(sip::parse_via("SIP / 2.0 /\r\n WSS [2001:db8::9:1] : 5061 ; branch = z9hG4bKy ;received=2001:db8::9:255", v));
  CHECK(v.transport == "WSS");
  CHECK(v.ipv6);
  CHECK(v.host == "2001:db8::9:1");
  CHECK(v.port == 5061);
  CHECK(v.branch() == "z9hG4bKy");
  CHECK(v.received() == "2001:db8::9:255");

  std::vector<sip::via> list;
  REQUIRE_FALSE(sip::parse_via_list("SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , SIP/2.0/TCP b.example.com:5070", list));
  REQUIRE(list.size() == 2);
  CHECK(list[1].host == "b.example.com");
  CHECK(list[1].branch().empty());

  for (auto bad :
       {"", "SIP/2.0", "SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/2.0 UDP host", "SIP/2.0/UDPhost", "SIP/2.0/UDP host:0",
        "SIP/2.0/UDP host:65536", "SIP/2.0/UDP host:x", "SIP/2.0/UDP ho st", "SIP/2.0/UDP [::1", "SIP/2.0/UDP [zz::1]",
        "SIP/2.0/UDP host;branch=", "SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;received=example.com",
        "SIP/2.0/UDP host;rport=99999", "SIP/2.0/UDP host;;", "SIP/2.0/UDP 192.0.2.300", "SIP/2.0/UDP host;branch=\"q\""})
    CHECK_MESSAGE(sip::parse_via(bad, v) == sip::errc::bad_via, bad);
  list.clear();
  CHECK(sip::parse_via_list(" , ", list) == sip::errc::bad_via);
}

TEST_CASE("headers: name-addr and addr-spec (RFC 3261 §20.10)") {
  sip::name_addr na;
  REQUIRE_FALSE(sip::parse_name_addr(R"("Alice \"A\" Smith" <sip:alice@example.com;transport=tcp>;tag=88sja8x;x)", na));
  CHECK(na.display_name == R"(Alice "A" Smith)");
  CHECK(na.angle);
  CHECK(na.addr.user == "alice");
  CHECK(na.addr.param("transport") == "tcp");
  CHECK(na.tag() == "88sja8x");
  CHECK(na.param("x") == "");
  CHECK(na.params.size() == 2);

  // addr-spec: the ;params belong to the header, not to the URI
  REQUIRE_FALSE(sip::parse_name_addr("sip:bob@example.com;tag=1928301774;user=phone", na));
  CHECK_FALSE(na.angle);
  CHECK(na.uri_text == "sip:bob@example.com");
  CHECK(na.addr.params.empty());
  CHECK(na.tag() == "1928301774");
  CHECK(na.param("user") == "phone");
  CHECK(na.display_name.empty());

  REQUIRE_FALSE(sip::parse_name_addr("Bob  Smith<sips:bob@[2001:db8::1]:5061>", na));
  CHECK(na.display_name == "Bob  Smith");
  CHECK(na.addr.ipv6);
  CHECK(na.addr.scheme == "sips");

  REQUIRE_FALSE(sip::parse_name_addr("<tel:+1-201-555-0123>", na));
  CHECK(na.addr.user == "+1-201-555-0123");
  REQUIRE_FALSE(sip::parse_name_addr("<urn:service:sos>", na));  // other schemes stay opaque
  CHECK(na.uri_error == sip::errc::bad_uri_scheme);
  CHECK(na.addr.scheme == "urn");

  struct row {
    const char* text;
    sip::errc want;
  };
  const row rows[] = {
      {"", sip::errc::bad_name_addr},
      {"\"open <sip:a@b>", sip::errc::bad_quoted_string},
      {"\"name\" sip:a@b", sip::errc::bad_name_addr},
      {"<sip:a@b", sip::errc::bad_name_addr},
      {"< sip:a@b >", sip::errc::bad_name_addr},
      {"Bell, Alexander <sip:a@b>", sip::errc::bad_name_addr},
      {"sip:a@b?Route=x", sip::errc::bad_name_addr},
      {"sip:a@b, sip:c@d", sip::errc::bad_name_addr},
      {"sip:a@b junk", sip::errc::bad_parameter},
      {"<sip:a@b>;tag", sip::errc{}},
      {"<sip:a@b>;=x", sip::errc::bad_parameter},
      {"<sip:a@>", sip::errc::bad_uri_host},
      {"<nocolon>", sip::errc::bad_name_addr},
  };
  for (const auto& r : rows) CHECK_MESSAGE(is(sip::parse_name_addr(r.text, na), r.want), r.text);
}

TEST_CASE("headers: Contact lists, star, expires and q") {
  std::vector<sip::name_addr> cs;
  bool star = false;
  REQUIRE_FALSE(sip::parse_contact_list(" * ", cs, star));
  CHECK(star);
  CHECK(cs.empty());
  REQUIRE_FALSE(
      sip::parse_contact_list(R"("A, B" <sip:a@h>;expires=3600;q=0.7, sip:b@h;q=1.0 , <sip:c@h>;expires=x;q=1.5)", cs, star));
  CHECK_FALSE(star);
  REQUIRE(cs.size() == 3);
  CHECK(cs[0].display_name == "A, B");
  CHECK(cs[0].expires() == 3600u);
  CHECK(cs[0].q() == 700);
  CHECK(cs[1].q() == 1000);
  CHECK_FALSE(cs[1].expires());
  CHECK_FALSE(cs[2].expires());
  CHECK_FALSE(cs[2].q());
  CHECK(sip::parse_contact_list("*, <sip:a@h>", cs, star) == sip::errc::bad_name_addr);
  CHECK(sip::parse_contact_list("", cs, star) == sip::errc::bad_name_addr);
}

TEST_CASE("headers: CSeq, delta-seconds, Retry-After") {
  sip::cseq c;
  REQUIRE_FALSE(sip::parse_cseq("0009\r\n  INVITE", c));
  CHECK(c.number == 9);
  CHECK(c.method == "INVITE");
  REQUIRE_FALSE(sip::parse_cseq("2147483647 REGISTER", c));
  for (auto bad : {"", "1", "REGISTER", "1 ", "x1 INVITE", "2147483648 INVITE", "1 INV ITE", "-1 INVITE", "1 INVITE;"})
    CHECK_MESSAGE(sip::parse_cseq(bad, c) == sip::errc::bad_cseq, bad);

  std::uint32_t s = 0;
  REQUIRE_FALSE(sip::parse_delta_seconds(" 4294967295 ", s));
  CHECK(s == 4294967295u);
  CHECK(sip::parse_delta_seconds("4294967296", s) == sip::errc::bad_number);
  CHECK(sip::parse_delta_seconds("3600s", s) == sip::errc::bad_number);
  CHECK(sip::parse_delta_seconds("", s) == sip::errc::bad_number);

  sip::retry_after ra;
  REQUIRE_FALSE(sip::parse_retry_after("18000;duration=3600", ra));
  CHECK(ra.seconds == 18000);
  CHECK(ra.duration == 3600u);
  CHECK(ra.comment.empty());
  REQUIRE_FALSE(sip::parse_retry_after("120 (I'm in a meeting (really\\)) ) ;duration=60;x=y", ra));
  CHECK(ra.seconds == 120);
  CHECK(ra.comment == "I'm in a meeting (really\\)) ");
  CHECK(ra.duration == 60u);
  CHECK(ra.params.size() == 2);
  REQUIRE_FALSE(sip::parse_retry_after("5", ra));
  CHECK_FALSE(ra.duration);
  CHECK(sip::parse_retry_after("(no number)", ra) == sip::errc::bad_number);
  CHECK(sip::parse_retry_after("5 (open", ra) == sip::errc::bad_header_value);
  CHECK(sip::parse_retry_after("5;duration=soon", ra) == sip::errc::bad_parameter);
  CHECK(sip::parse_retry_after("5 junk", ra) == sip::errc::bad_parameter);
}

TEST_CASE("headers: accessors on a message") {
  const std::string text =
      "SIP/2.0 423 Interval Too Brief\r\n"
      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;received=198.51.100.7;rport=40000, SIP/2.0/TCP p.example.com\r\n"
      "Via: SIP/2.0/TLS q.example.com;branch=z9hG4bKq\r\n"
      "From: <sip:u@example.com>;tag=a1\r\n"
      "To: \"U\" <sip:u@example.com>;tag=b2\r\n"
      "Call-ID: 77@10.0.0.2\r\n"
      "CSeq: 3 REGISTER\r\n"
      "Min-Expires: 600\r\n"
      "Retry-After: 30 (busy);duration=10\r\n"
      "Server: ExampleProxy/1.2 (Linux)\r\n"
      "Allow: INVITE, ACK,REGISTER\r\n"
      "Proxy-Authenticate: Digest realm=\"a\", nonce=\"1\"\r\n"
      "Max-Forwards: 70\r\n"
      "Content-Length: 0\r\n\r\n";
  sip::message_view m;
  REQUIRE_FALSE(sip::parse(text, m, sip::framing::datagram).ec);
  sip::via v;
  REQUIRE_FALSE(sip::get::top_via(m, v));
  CHECK(v.received() == "198.51.100.7");
  CHECK(v.rport() == 40000);
  std::vector<sip::via> vs;
  REQUIRE_FALSE(sip::get::vias(m, vs));
  CHECK(vs.size() == 3);
  sip::name_addr na;
  REQUIRE_FALSE(sip::get::to(m, na));
  CHECK(na.tag() == "b2");
  REQUIRE_FALSE(sip::get::from(m, na));
  CHECK(na.tag() == "a1");
  std::string_view sv;
  REQUIRE_FALSE(sip::get::call_id(m, sv));
  CHECK(sv == "77@10.0.0.2");
  sip::cseq cs;
  REQUIRE_FALSE(sip::get::cseq(m, cs));
  CHECK(cs.number == 3);
  std::uint32_t n = 0;
  REQUIRE_FALSE(sip::get::min_expires(m, n));
  CHECK(n == 600);
  CHECK(sip::get::expires(m, n) == sip::errc::header_absent);
  REQUIRE_FALSE(sip::get::content_length(m, n));
  CHECK(n == 0);
  REQUIRE_FALSE(sip::get::max_forwards(m, n));
  CHECK(n == 70);
  sip::retry_after ra;
  REQUIRE_FALSE(sip::get::retry_after(m, ra));
  CHECK(ra.comment == "busy");
  REQUIRE_FALSE(sip::get::server(m, sv));
  CHECK(sv == "ExampleProxy/1.2 (Linux)");
  CHECK(sip::get::user_agent(m, sv) == sip::errc::header_absent);
  std::vector<std::string_view> list;
  REQUIRE_FALSE(sip::get::allow(m, list));
  CHECK(list == std::vector<std::string_view>{"INVITE", "ACK", "REGISTER"});
  list.clear();
  REQUIRE_FALSE(sip::get::proxy_authenticate(m, list));
  CHECK(list == std::vector<std::string_view>{"Digest realm=\"a\", nonce=\"1\""});
  CHECK(sip::get::www_authenticate(m, list) == sip::errc::header_absent);
  CHECK(sip::get::authorization(m, list) == sip::errc::header_absent);
  CHECK(sip::get::proxy_authorization(m, list) == sip::errc::header_absent);
  std::vector<sip::name_addr> contacts;
  bool star = false;
  CHECK(sip::get::contacts(m, contacts, star) == sip::errc::header_absent);
  CHECK_FALSE(sip::validate(m).ec);
}

TEST_CASE("headers: Contact star across header lines, validate offsets") {
  sip::message_view m;
  std::string text = "REGISTER sip:h SIP/2.0\r\nContact: *\r\nContact: <sip:a@h>\r\nExpires: 0\r\nMax-Forwards: 300\r\n\r\n";
  REQUIRE_FALSE(sip::parse(text, m, sip::framing::datagram, lenient()).ec);
  std::vector<sip::name_addr> cs;
  bool star = false;
  CHECK(sip::get::contacts(m, cs, star) == sip::errc::bad_name_addr);
  std::uint32_t n = 0;
  CHECK(sip::get::max_forwards(m, n) == sip::errc::bad_number);
  auto r = sip::validate(m);
  CHECK(r.ec == sip::errc::bad_number);
  CHECK(r.offset == text.find("300"));
  CHECK(r.line == 5);
  REQUIRE_FALSE(sip::parse("REGISTER sip:h SIP/2.0\r\nm: *\r\n\r\n"sv, m, sip::framing::datagram, lenient()).ec);
  REQUIRE_FALSE(sip::get::contacts(m, cs, star));
  CHECK(star);
  CHECK(sip::get::call_id(m, m.body) == sip::errc::header_absent);
}

TEST_CASE("torture: RFC 4475-style corpus, expected outcome of each") {
  using E = sip::errc;
  struct row {
    const char* name;
    E strict;   // sip::parse, strict datagram
    E lenient;  // sip::parse, lenient datagram
    E valid;    // sip::validate after the lenient parse (when it succeeded)
  };
  const row rows[] = {
      {"wsinv", {}, {}, {}},
      {"intmeth", {}, {}, {}},
      {"esc01", {}, {}, {}},
      {"lwsdisp", {}, {}, {}},
      {"longreq", {}, {}, {}},
      {"dblreq", {}, {}, {}},
      {"semiuri", {}, {}, {}},
      {"transports", {}, {}, {}},
      {"mpart01", {}, {}, {}},
      {"unreason", {}, {}, {}},
      {"noreason", {}, {}, {}},
      {"inv2543", {}, {}, {}},
      {"regescrt", {}, {}, {}},
      {"unksm2", {}, {}, {}},
      {"bcast", {}, {}, {}},
      {"bext01", {}, {}, {}},
      {"baddate", {}, {}, {}},
      {"ipv6", {}, {}, {}},
      {"badinv01", {}, {}, E::bad_via},
      {"clerr", E::body_truncated, E::body_truncated, {}},
      {"ncl", E::bad_content_length, E::bad_content_length, {}},
      {"scalar02", E::bad_cseq, {}, E::bad_cseq},
      {"quotbal", {}, {}, E::bad_quoted_string},
      {"ltgtruri", E::bad_request_uri, E::bad_request_uri, {}},
      {"lwsruri", E::bad_request_uri, E::bad_request_uri, {}},
      {"lwsstart", E::bad_start_line, E::bad_start_line, {}},
      {"trws", E::bad_start_line, {}, {}},
      {"escruri", E::bad_request_uri, {}, {}},
      {"regbadct", {}, {}, E::bad_name_addr},
      {"badaspec", {}, {}, E::bad_name_addr},
      {"baddn", {}, {}, E::bad_name_addr},
      {"badvers", E::bad_version, E::bad_version, {}},
      {"mismatch01", E::bad_cseq, {}, {}},
      {"mismatch02", E::bad_cseq, {}, {}},
      {"bigcode", E::bad_status_code, E::bad_status_code, {}},
      {"mcl01", E::bad_content_length, E::bad_content_length, {}},
      {"multi01", E::duplicate_header, {}, {}},
      {"insuf", E::missing_required_header, {}, {}},
      {"badbranch", {}, {}, E::bad_via},
  };
  for (const auto& r : rows) {
    INFO("message: ", std::string(r.name));
    std::string text = load(r.name);
    sip::message_view m;
    auto sr = sip::parse(text, m, sip::framing::datagram);
    CHECK_MESSAGE(is(sr.ec, r.strict), sr.ec.message());
    auto lr = sip::parse(text, m, sip::framing::datagram, lenient());
    CHECK_MESSAGE(is(lr.ec, r.lenient), lr.ec.message());
    if (!lr.ec) {
      auto vr = sip::validate(m);
      CHECK_MESSAGE(is(vr.ec, r.valid), vr.ec.message());
      if (r.valid == E{}) {  // what parses also survives serialize -> parse
        sip::message_view again;
        std::string wire = sip::serialize(m);
        CHECK_FALSE(sip::parse(wire, again, sip::framing::stream, lenient()).ec);
        CHECK(sip::serialize(again) == wire);
      }
    }
  }
}

TEST_CASE("torture: details of the valid messages") {
  sip::message_view m;
  std::string wsinv = load("wsinv");
  REQUIRE_FALSE(sip::parse(wsinv, m, sip::framing::datagram).ec);
  CHECK(m.request_uri == "sip:vivekg@chair-dnrc.example.com;unknownparam");
  sip::name_addr na;
  REQUIRE_FALSE(sip::get::to(m, na));
  CHECK(na.tag() == "1918181833n");
  CHECK_FALSE(na.angle);
  REQUIRE_FALSE(sip::get::from(m, na));
  CHECK(na.display_name == R"(J Rosenberg \")");
  CHECK(na.tag() == "98asjd8");
  std::uint32_t n = 0;
  REQUIRE_FALSE(sip::get::max_forwards(m, n));
  CHECK(n == 68);
  sip::cseq cs;
  REQUIRE_FALSE(sip::get::cseq(m, cs));
  CHECK(cs.number == 9);
  std::vector<sip::via> vs;
  REQUIRE_FALSE(sip::get::vias(m, vs));
  REQUIRE(vs.size() == 3);
  CHECK(vs[0].transport == "UDP");
  CHECK(vs[0].host == "192.0.2.2");
  CHECK(vs[1].transport == "TCP");
  CHECK(vs[1].branch() == "z9hG4bK9ikj8");
  CHECK(vs[2].host == "192.168.255.111");
  CHECK(vs[2].branch() == "z9hG4bK30239");
  std::vector<sip::name_addr> cs2;
  bool star = false;
  REQUIRE_FALSE(sip::get::contacts(m, cs2, star));
  REQUIRE(cs2.size() == 1);
  CHECK(cs2[0].display_name == R"(Quoted string "")");
  CHECK(cs2[0].param("newparam") == "newvalue");
  CHECK(cs2[0].q() == 330);
  REQUIRE_FALSE(sip::get::content_length(m, n));
  CHECK(m.body.size() == n);
  CHECK(m.find("NewFangledHeader") != nullptr);

  std::string dbl = load("dblreq");
  auto r = sip::parse(dbl, m, sip::framing::datagram);
  REQUIRE_FALSE(r.ec);
  CHECK(m.method == "REGISTER");
  CHECK(r.consumed < dbl.size());
  CHECK(dbl.substr(r.consumed, 6) == "INVITE");

  std::string esc = load("esc01");
  REQUIRE_FALSE(sip::parse(esc, m, sip::framing::datagram).ec);
  sip::uri ru;
  REQUIRE_FALSE(sip::parse_uri(m.request_uri, ru));
  CHECK(ru.user == "sips:user@example.com");
  REQUIRE_FALSE(sip::get::from(m, na));
  CHECK(na.addr.user == "I have spaces");

  std::string v6 = load("ipv6");
  REQUIRE_FALSE(sip::parse(v6, m, sip::framing::datagram).ec);
  sip::via v;
  REQUIRE_FALSE(sip::get::top_via(m, v));
  CHECK(v.ipv6);
  CHECK(v.rport() == 5061);
  REQUIRE_FALSE(sip::get::contacts(m, cs2, star));
  CHECK(cs2.back().expires() == 3600u);
  CHECK(cs2.back().addr.host_port() == "[2001:db8::9:1]:5060");

  REQUIRE_FALSE(sip::parse(load("noreason"), m, sip::framing::datagram).ec);
  CHECK(m.status == 100);
  CHECK(m.reason.empty());
  std::string mp = load("mpart01");
  REQUIRE_FALSE(sip::parse(mp, m, sip::framing::datagram).ec);
  CHECK(m.body.substr(0, 18) == "--7a9cbec02ceef655");
  std::string sc = load("scalar02");
  REQUIRE_FALSE(sip::parse(sc, m, sip::framing::datagram, lenient()).ec);
  CHECK(sip::get::max_forwards(m, n) == sip::errc::bad_number);
  CHECK(sip::get::expires(m, n) == sip::errc::bad_number);
  std::string unk = load("unksm2");
  REQUIRE_FALSE(sip::parse(unk, m, sip::framing::datagram).ec);
  REQUIRE_FALSE(sip::get::to(m, na));
  CHECK(na.uri_error == sip::errc::bad_uri_scheme);
  CHECK(na.uri_text == "isbn:2983792873");
}

TEST_CASE("headers: via_branch and top_via_branch, by a plain scan") {
  struct row {
    std::string_view value, branch;
  };
  const row table[] = {
      {"SIP/2.0/UDP h:5060;rport;branch=z9hG4bK1a2b", "z9hG4bK1a2b"},
      {"SIP/2.0/UDP h;rport=5;branch=z9hG4bKx;received=1.2.3.4", "z9hG4bKx"},
      {"SIP/2.0/UDP h ; BRANCH = z9hG4bKspaced ;rport", "z9hG4bKspaced"},  // SWS around "="
      {"SIP/2.0/UDP h;branchy=z9hG4bKno;branch=z9hG4bKyes", "z9hG4bKyes"},
      {"SIP/2.0/UDP h ;  Branch=z9hG4bKcase ;rport", "z9hG4bKcase"},
      {"SIP/2.0/UDP h;branch=z9hG4bKfirst, SIP/2.0/UDP g;branch=z9hG4bKsecond", "z9hG4bKfirst"},
      {"SIP/2.0/UDP h, SIP/2.0/UDP g;branch=z9hG4bKsecond", ""},  // only the first via-parm
      {"SIP/2.0/UDP h;received=1.2.3.4", ""},
      {"SIP/2.0/UDP h;xbranch=z9hG4bKno", ""},
      {"SIP/2.0/UDP h;branch=", ""},
      {"", ""},
  };
  for (const auto& t : table) {
    CAPTURE(t.value);
    CHECK(sip::via_branch(t.value) == t.branch);
  }
  sip::message_view m;
  REQUIRE_FALSE(sip::parse("SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;branch=z9hG4bKtop\r\nVia: SIP/2.0/UDP g;branch=z9hG4bKlow\r\n"
                           "Content-Length: 0\r\n\r\n"sv,
                           m, sip::framing::datagram, lenient())
                    .ec);
  CHECK(sip::get::top_via_branch(m) == "z9hG4bKtop");
  REQUIRE_FALSE(
      sip::parse("SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"sv, m, sip::framing::datagram, lenient()).ec);
  CHECK(sip::get::top_via_branch(m).empty());
}

TEST_CASE("headers: from_tag reads the tag as from().tag() does, without decoding the rest") {
  const std::string_view froms[] = {
      "<sip:a@h>;tag=abc",
      "\"A <b> \\\"c\\\"\" <sip:a@h;tag=uri-param>;x=1;TAG=def",  // <, > and quotes in the name
      "Bob <sip:b@h> ; tag = spaced",
      "sip:c@h;tag=addrspec",  // addr-spec: ;params are the header's
      "<sip:a@h;tag=not-this>",
      "<sip:a@h>",
      "<sip:a@h>;tag=\"quoted\"",
  };
  // The message outlives the views into it: one buffer per case.
  std::string text;
  auto with_from = [&text](std::string_view from) {
    text = "SIP/2.0 200 OK\r\nFrom: " + std::string(from) + "\r\nContent-Length: 0\r\n\r\n";
    sip::message_view m;
    REQUIRE_FALSE(sip::parse(text, m, sip::framing::datagram, lenient()).ec);
    return m;
  };
  for (auto from : froms) {
    CAPTURE(from);
    const auto m = with_from(from);
    sip::name_addr full;
    REQUIRE_FALSE(sip::get::from(m, full));
    std::string_view tag = "unset";
    REQUIRE_FALSE(sip::get::from_tag(m, tag));
    CHECK(tag == full.tag());
  }
  for (std::string_view bad : {"<sip:a@h", "\"open <sip:a@h>", "not a uri;tag=x", "<sip:a@h>;=x"}) {
    CAPTURE(bad);
    const auto m = with_from(bad);
    std::string_view tag;
    CHECK(sip::get::from_tag(m, tag));
  }
  sip::message_view none;
  REQUIRE_FALSE(sip::parse("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"sv, none, sip::framing::datagram, lenient()).ec);
  std::string_view tag;
  CHECK(sip::get::from_tag(none, tag) == sip::errc::header_absent);
}
