// SIP, SIPS and TEL URIs (RFC 3261 §19.1, §25.1; RFC 3966).
#include <ostream>
#include <doctest/doctest.h>

#include "sip/error.hpp"
#include "sip/uri.hpp"

using namespace std::literals;

TEST_CASE("uri: full SIP URI") {
  sip::uri u;
  REQUIRE_FALSE(sip::parse_uri("sip:alice:secret@Example.COM:5070;transport=tcp;lr?Subject=hi&Priority=urgent", u));
  CHECK(u.scheme == "sip");
  CHECK(u.user == "alice");
  CHECK(u.password == "secret");
  CHECK(u.host == "Example.COM");
  CHECK_FALSE(u.ipv6);
  CHECK(u.port == 5070);
  REQUIRE(u.params.size() == 2);
  CHECK(u.param("TRANSPORT") == "tcp");
  CHECK(u.param("lr") == "");
  CHECK_FALSE(u.param("maddr"));
  REQUIRE(u.headers.size() == 2);
  CHECK(u.header("subject") == "hi");
  CHECK(u.header("Priority") == "urgent");
  CHECK(u.host_port() == "Example.COM:5070");
}

TEST_CASE("uri: host only, sips, upper-case scheme") {
  sip::uri u;
  REQUIRE_FALSE(sip::parse_uri("SIPS:registrar.example.net", u));
  CHECK(u.scheme == "sips");
  CHECK(u.user.empty());
  CHECK(u.port == 0);
  CHECK(u.host_port() == "registrar.example.net");
  REQUIRE_FALSE(sip::parse_uri("sip:192.0.2.4:5060", u));
  CHECK(u.host == "192.0.2.4");
  CHECK(u.port == 5060);
  REQUIRE_FALSE(sip::parse_uri("sip:host.example.com.", u));  // trailing dot (FQDN)
}

TEST_CASE("uri: IPv6 references") {
  sip::uri u;
  REQUIRE_FALSE(sip::parse_uri("sip:user@[2001:db8::10]:5070;maddr=[2001:db8::1]", u));
  CHECK(u.ipv6);
  CHECK(u.host == "2001:db8::10");
  CHECK(u.port == 5070);
  CHECK(u.host_port() == "[2001:db8::10]:5070");
  CHECK(u.param("maddr") == "[2001:db8::1]");
  for (auto ok : {"sip:[::1]", "sip:[::]", "sip:[1:2:3:4:5:6:7:8]", "sip:[::ffff:192.0.2.1]", "sip:[1:2:3:4:5:6:192.0.2.1]",
                  "sip:[fe80::1:2]", "sip:[1::]"})
    CHECK_MESSAGE(!sip::parse_uri(ok, u), ok);
  for (auto bad : {"sip:[1:2:3:4:5:6:7:8:9]", "sip:[1::2::3]", "sip:[12345::1]", "sip:[1:2:3:4:5:6:7]", "sip:[:1]", "sip:[1:]",
                   "sip:[::1", "sip:[g::1]", "sip:[::1]x", "sip:[::256.0.0.1]", "sip:[]"})
    CHECK_MESSAGE(sip::parse_uri(bad, u) == sip::errc::bad_uri_host, bad);
}

TEST_CASE("uri: TEL URIs") {
  sip::uri u;
  REQUIRE_FALSE(sip::parse_uri("tel:+1-201-555-0123;ext=1234;phone-context=example.com", u));
  CHECK(u.scheme == "tel");
  CHECK(u.user == "+1-201-555-0123");
  CHECK(u.host.empty());
  CHECK(u.param("ext") == "1234");
  CHECK(u.to_string() == "tel:+1-201-555-0123;ext=1234;phone-context=example.com");
  REQUIRE_FALSE(sip::parse_uri("tel:7042;phone-context=example.com", u));
  CHECK(sip::parse_uri("tel:", u) == sip::errc::bad_uri_user);
  CHECK(sip::parse_uri("tel:12+3", u) == sip::errc::bad_uri_user);
  CHECK(sip::parse_uri("tel:--", u) == sip::errc::bad_uri_user);
  CHECK(sip::parse_uri("tel:123?x=y", u) == sip::errc::bad_uri_user);
}

TEST_CASE("uri: %-escapes are decoded and re-escaped") {
  sip::uri u;
  REQUIRE_FALSE(sip::parse_uri("sip:sips%3Auser%40example.com@example.net", u));
  CHECK(u.user == "sips:user@example.com");
  CHECK(u.host == "example.net");
  CHECK(u.to_string() == "sip:sips%3Auser%40example.com@example.net");
  REQUIRE_FALSE(sip::parse_uri("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", u));
  CHECK(u.user == "caller");
  CHECK(u.param("lr") == "");
  CHECK(u.param("name") == "value%41");
  REQUIRE_FALSE(sip::parse_uri("sip:null-%00-null@example.com", u));
  CHECK(u.user == "null-\0-null"s);
  REQUIRE_FALSE(sip::parse_uri("sip:user@example.com?Route=%3Csip:sip.example.com%3E", u));
  CHECK(u.header("Route") == "<sip:sip.example.com>");
  CHECK(sip::parse_uri("sip:a%4@h", u) == sip::errc::bad_escape);
  CHECK(sip::parse_uri("sip:a%zz@h", u) == sip::errc::bad_escape);
  CHECK(sip::parse_uri("sip:h;p=%", u) == sip::errc::bad_escape);
  std::string out;
  CHECK(sip::percent_decode("a%20b", out) == std::error_code{});
  CHECK(out == "a b");
}

TEST_CASE("uri: user part may hold a semicolon and ? (RFC 4475 semiuri, intmeth)") {
  sip::uri u;
  REQUIRE_FALSE(sip::parse_uri("sip:user;par=u%40example.net@example.com", u));
  CHECK(u.user == "user;par=u@example.net");
  CHECK(u.params.empty());
  REQUIRE_FALSE(sip::parse_uri(
      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com", u));
  CHECK(u.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  CHECK(u.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
}

TEST_CASE("uri: to_string round trip") {
  for (auto text :
       {"sip:alice@example.com", "sips:bob:pw@[2001:db8::1]:5061;transport=tls",
        "sip:example.com;lr;maddr=192.0.2.1?subject=a%20b&x=y", "sip:%22quoted%22@example.com", "tel:+33123456789;isub=12"}) {
    sip::uri a, b;
    REQUIRE_MESSAGE(!sip::parse_uri(text, a), text);
    REQUIRE_MESSAGE(!sip::parse_uri(a.to_string(), b), a.to_string());
    CHECK(a.to_string() == b.to_string());
    CHECK(a.user == b.user);
    CHECK(a.host == b.host);
    CHECK(a.port == b.port);
    CHECK(a.params == b.params);
    CHECK(a.headers == b.headers);
  }
}

TEST_CASE("uri: malformed URIs get a precise error") {
  struct row {
    const char* text;
    sip::errc want;
  };
  const row rows[] = {
      {"", sip::errc::bad_uri},
      {"alice@example.com", sip::errc::bad_uri},
      {":x", sip::errc::bad_uri},
      {"1sip:x", sip::errc::bad_uri},
      {"http://example.com", sip::errc::bad_uri_scheme},
      {"mailto:a@b", sip::errc::bad_uri_scheme},
      {"sip:", sip::errc::bad_uri_host},
      {"sip:@example.com", sip::errc::bad_uri_user},
      {"sip:a b@example.com", sip::errc::bad_uri_user},
      {"sip:a:p w@example.com", sip::errc::bad_uri_user},
      {"sip:alice@", sip::errc::bad_uri_host},
      {"sip:alice@exa mple.com", sip::errc::bad_uri_host},
      {"sip:alice@-example.com", sip::errc::bad_uri_host},
      {"sip:alice@example..com", sip::errc::bad_uri_host},
      {"sip:alice@example.123", sip::errc::bad_uri_host},
      {"sip:alice@192.0.2.256", sip::errc::bad_uri_host},
      {"sip:alice@192.0.2", sip::errc::bad_uri_host},
      {"sip:alice@example.com:", sip::errc::bad_uri_port},
      {"sip:alice@example.com:0", sip::errc::bad_uri_port},
      {"sip:alice@example.com:65536", sip::errc::bad_uri_port},
      {"sip:alice@example.com:50a", sip::errc::bad_uri_port},
      {"sip:alice@example.com;", sip::errc::bad_uri_parameter},
      {"sip:alice@example.com;=x", sip::errc::bad_uri_parameter},
      {"sip:alice@example.com;a=", sip::errc::bad_uri_parameter},
      {"sip:alice@example.com;a b", sip::errc::bad_uri_parameter},
      {"sip:alice@example.com?", sip::errc::bad_uri_header},
      {"sip:alice@example.com?novalue", sip::errc::bad_uri_header},
      {"sip:alice@example.com?=v", sip::errc::bad_uri_header},
      {"sip:alice@example.com?a=<b>", sip::errc::bad_uri_header},
  };
  for (const auto& r : rows) {
    sip::uri u;
    CHECK_MESSAGE(sip::parse_uri(r.text, u) == r.want, r.text);
  }
}

TEST_CASE("uri: IP literal helpers") {
  CHECK(sip::detail::is_ipv4_literal("255.255.255.255"));
  CHECK_FALSE(sip::detail::is_ipv4_literal("1.2.3.4.5"));
  CHECK_FALSE(sip::detail::is_ipv4_literal("1.2.3."));
  CHECK_FALSE(sip::detail::is_ipv4_literal("1234.2.3.4"));
  CHECK(sip::detail::is_ipv6_literal("2001:db8::9:1"));
  CHECK(sip::detail::is_absolute_uri("soap.beep://192.0.2.103:3002"));
  CHECK_FALSE(sip::detail::is_absolute_uri("<sip:a@b>"));
  CHECK_FALSE(sip::detail::is_absolute_uri("sip:a b"));
}
