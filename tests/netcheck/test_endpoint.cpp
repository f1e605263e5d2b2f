// netcheck/endpoint.hpp: "host:port" text and the endpoint a flow connects to for a target.
#include <ostream>
#include <doctest/doctest.h>

#include "netcheck/endpoint.hpp"

TEST_CASE("endpoint: host:port text brackets IPv6 literals once") {
  CHECK(netcheck::endpoint_text("192.0.2.7", 5060) == "192.0.2.7:5060");
  CHECK(netcheck::endpoint_text("2001:db8::1", 5061) == "[2001:db8::1]:5061");
  CHECK(netcheck::endpoint_text("[::1]", 5060) == "[::1]:5060");
  CHECK(netcheck::endpoint_text("sip.example.com", 65535) == "sip.example.com:65535");
  netcheck::target t;
  t.address = "::1";
  t.port = 5070;
  CHECK(netcheck::endpoint_text(t) == "[::1]:5070");
}

TEST_CASE("endpoint: a target's address becomes the endpoint, with the name to check") {
  netcheck::target t;
  t.t = netcheck::transport::tls;
  t.host = "srv1.example.com";
  t.address = "2001:db8::5";
  t.port = 5061;
  const auto ep = netcheck::endpoint_for(t, "example.com");
  REQUIRE(ep);
  CHECK(ep->proto == netcheck::transport::tls);
  CHECK(ep->address.to_string() == "2001:db8::5");
  CHECK(ep->port == 5061);
  CHECK(ep->host == "example.com");
  CHECK(ep->to_string() == "tls:[2001:db8::5]:5061 (example.com)");
  t.address = "srv1.example.com";  // a name is not an address
  CHECK_FALSE(netcheck::endpoint_for(t, "example.com"));
}
