// What the user may type as a target (probe/locate/target.hpp), row by row: what each
// accepted form means for locating the server, and the one-line reason for each refusal.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/errors.hpp"
#include "probe/locate/request.hpp"
#include "probe/locate/target.hpp"

#include <optional>
#include <string>

using netcheck::transport;
using probe::locate::parse_dns_target;

namespace {

struct accepted {
  const char* text;
  const char* scheme;
  const char* user;
  const char* host;
  std::optional<std::uint16_t> port;
  std::optional<transport> t;
};

// "-" for none, so a failed check prints both sides.
std::string text(std::optional<transport> t) { return t ? std::string(netcheck::to_string(*t)) : "-"; }
std::string text(std::optional<std::uint16_t> p) { return p ? std::to_string(*p) : "-"; }

struct refused {
  std::string text;
  const char* error;
};

}  // namespace

TEST_CASE("target: every accepted form, reduced to what RFC 3263 needs") {
  const accepted rows[] = {
      {"example.com", "", "", "example.com", {}, {}},
      {"Example.COM.", "", "", "example.com", {}, {}},  // lower case, root dot dropped
      {"example.com:5070", "", "", "example.com", 5070, {}},
      {"_sip._udp.example.com", "", "", "_sip._udp.example.com", {}, {}},
      {"127.0.0.1", "", "", "127.0.0.1", {}, {}},
      {"127.0.0.1:5060", "", "", "127.0.0.1", 5060, {}},
      {"[::1]:5070", "", "", "::1", 5070, {}},
      {"[2001:db8::1]", "", "", "2001:db8::1", {}, {}},
      {"::1", "", "", "::1", {}, {}},
      {"alice@example.com", "", "alice", "example.com", {}, {}},
      {"sip:example.com", "sip", "", "example.com", {}, {}},
      {"SIP:Example.com", "sip", "", "example.com", {}, {}},
      {"sip:alice@example.com", "sip", "alice", "example.com", {}, {}},
      {"<sip:alice@example.com>", "sip", "alice", "example.com", {}, {}},
      {"sip:alice@example.com?subject=x", "sip", "alice", "example.com", {}, {}},
      {"sip:example.com;transport=TCP", "sip", "", "example.com", {}, transport::tcp},
      {"sip:example.com;lr;transport=udp;x=y", "sip", "", "example.com", {}, transport::udp},
      {"sip:[::1]:5070;transport=tls", "sip", "", "::1", 5070, transport::tls},
      {"sips:alice@example.com", "sips", "alice", "example.com", {}, {}},
      // RFC 3261 §26.2: sips with transport=tcp is TLS over TCP.
      {"sips:alice@example.com:5061;transport=tcp", "sips", "alice", "example.com", 5061, transport::tls},
  };
  for (const auto& x : rows) {
    CAPTURE(x.text);
    const auto t = parse_dns_target(x.text);
    REQUIRE_MESSAGE(t, (t ? std::string() : t.error().message()));
    CHECK(t->scheme == x.scheme);
    CHECK(t->user == x.user);
    CHECK(t->host == x.host);
    CHECK(text(t->port) == text(x.port));
    CHECK(text(t->transport) == text(x.t));
    CHECK(t->secure() == (std::string(x.scheme) == "sips"));
  }
}

TEST_CASE("target: every refusal has its one-line reason, which never quotes the text") {
  const refused rows[] = {
      {"", "empty target"},
      {"exa mple.com", "the target contains spaces or control characters"},
      {"example.com\n", "the target contains spaces or control characters"},
      {"http://example.com", "unsupported URI scheme (use sip:, sips:, a domain or host:port)"},
      {"tel:+15550123", "unsupported URI scheme (use sip:, sips:, a domain or host:port)"},
      {"@example.com", "empty user part before '@'"},
      {"example.com;transport=tcp", "URI parameters need a sip: or sips: URI"},
      {"[::1", "missing ']' after IPv6 address"},
      {"[::1]x", "unexpected text after ']'"},
      {"[::1]:", "empty port after ':'"},
      {"[127.0.0.1]", "not an IPv6 address inside [ ]"},
      {"[example.com]:5060", "not an IPv6 address inside [ ]"},
      {"sip:::1", "not an IPv6 address (write [addr]:port)"},
      {"1:2:3", "not an IPv6 address (write [addr]:port)"},
      {"example.com:", "empty port after ':'"},
      {"example.com:0", "the port is not a number from 1 to 65535"},
      {"example.com:65536", "the port is not a number from 1 to 65535"},
      {"example.com:5x", "the port is not a number from 1 to 65535"},
      {"sip:", "empty host"},
      {"example..com", "empty label in the host name"},
      {std::string(64, 'a') + ".com", "label longer than 63 characters in host name"},
      {std::string(200, 'a') + "." + std::string(60, 'b'), "host name longer than 253 characters"},
      {"exa!mple.com", "character '!' not allowed in a host name"},
      {"999.1.1.1", "not a valid IPv4 address"},
      {"sip:example.com;transport=sctp", "this transport= is not supported (udp, tcp or tls)"},
      {"sips:example.com;transport=udp", "sips: cannot use transport=udp (SIPS needs TLS)"},
  };
  for (const auto& x : rows) {
    CAPTURE(x.text);
    const auto t = parse_dns_target(x.text);
    REQUIRE_FALSE(t);
    const std::string error = t.error().message();
    CHECK(error == x.error);
    if (x.text.size() > 1) CHECK(error.find(x.text) == std::string::npos);
  }
}

TEST_CASE("target: a bad value of an option is refused naming the option, not the value") {
  try {
    probe::locate::parse_target_or_throw("sip:alice:hunter2@exa mple.com", "--registrar");
    FAIL("a target with a space was accepted");
  } catch (const probe::usage_error& e) {
    CHECK(std::string(e.what()) == "--registrar: cannot use the value: the target contains spaces or control characters");
  }
}

TEST_CASE("target: --transport against what the target says") {
  const auto plain = parse_dns_target("sip:example.com:5070");
  const auto udp = parse_dns_target("sip:example.com;transport=udp");
  const auto secure = parse_dns_target("sips:example.com");
  REQUIRE(plain);
  REQUIRE(udp);
  REQUIRE(secure);

  const auto req = probe::locate::locate_request_from(*plain, "tcp");
  CHECK(req.host == "example.com");
  CHECK(text(req.port) == "5070");
  CHECK(text(req.forced) == "tcp");
  CHECK_FALSE(req.secure);
  CHECK(text(probe::locate::locate_request_from(*udp, "").forced) == "udp");
  CHECK(probe::locate::locate_request_from(*secure, "tls").secure);

  struct row {
    const probe::locate::dns_target& target;
    const char* transport;
    const char* error;
  };
  const row rows[] = {
      {*plain, "sctp", "--transport must be udp, tcp or tls, not sctp"},
      {*udp, "tcp", "--transport tcp contradicts the URI's transport=udp"},
      {*secure, "udp", "--transport udp: a sips: URI needs TLS"},
  };
  for (const auto& x : rows) {
    CAPTURE(x.transport);
    try {
      probe::locate::locate_request_from(x.target, x.transport);
      FAIL("accepted");
    } catch (const probe::usage_error& e) {
      CHECK(std::string(e.what()) == x.error);
    }
  }
}
