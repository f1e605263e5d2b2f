#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/evidence.hpp"

using probe::address_scope;

TEST_CASE("evidence: address scopes") {
  struct row {
    const char* host;
    address_scope scope;
  };
  const row rows[] = {
      {"127.0.0.1", address_scope::loopback},
      {"127.255.0.9", address_scope::loopback},
      {"10.0.0.5", address_scope::private_use},
      {"172.16.0.1", address_scope::private_use},
      {"172.31.255.255", address_scope::private_use},
      {"172.32.0.1", address_scope::global},
      {"172.15.0.1", address_scope::global},
      {"192.168.1.10", address_scope::private_use},
      {"100.64.0.1", address_scope::private_use},
      {"100.127.255.1", address_scope::private_use},
      {"100.128.0.1", address_scope::global},
      {"169.254.3.4", address_scope::link_local},
      {"198.51.100.7", address_scope::global},
      {"::1", address_scope::loopback},
      {"[::1]", address_scope::loopback},
      {"fd12:3456::1", address_scope::private_use},
      {"fc00::1", address_scope::private_use},
      {"fe80::1", address_scope::link_local},
      {"2001:db8::1", address_scope::global},
      {"::ffff:192.168.0.1", address_scope::private_use},
      {"sip.example.com", address_scope::not_ip},
      {"", address_scope::not_ip},
      {"999.1.1.1", address_scope::not_ip},
      {"[", address_scope::not_ip},
  };
  for (const auto& r : rows) {
    CAPTURE(r.host);
    CHECK(probe::classify_address(r.host) == r.scope);
  }
}

TEST_CASE("evidence: NAT with a private Contact") {
  probe::nat_facts f{"192.168.1.10", "192.168.1.10", "203.0.113.9", 40001, 5060};
  auto n = probe::check_nat(f);
  REQUIRE(n);
  CHECK(n->code == probe::finding_code::nat_private_contact);
  CHECK(n->detail ==
        "Contact holds 192.168.1.10 (private) but the registrar saw the request from "
        "203.0.113.9:40001 (port rewritten from 5060)");
}

TEST_CASE("evidence: no NAT finding when nothing differs or nothing is known") {
  CHECK_FALSE(probe::check_nat({"127.0.0.1", "127.0.0.1", "127.0.0.1", 5062, 5062}));
  CHECK_FALSE(probe::check_nat({"192.168.1.10", "192.168.1.10", "", std::nullopt, 5060}));
  CHECK_FALSE(probe::check_nat({"198.51.100.7", "198.51.100.7", "198.51.100.7", 5060, 5060}));
  // A private Contact the registrar saw as such (same LAN): not a NAT problem.
  CHECK_FALSE(probe::check_nat({"10.0.0.5", "10.0.0.5", "10.0.0.5", 5060, 5060}));
}

TEST_CASE("evidence: private Contact given by the user while the probe came from loopback") {
  auto n = probe::check_nat({"10.1.2.3", "127.0.0.1", "", 41000, 41000});
  REQUIRE(n);
  CHECK(n->detail.find("Contact holds 10.1.2.3") == 0);
}

TEST_CASE("evidence: rewritten headers") {
  CHECK_FALSE(probe::check_rewrites({{"Call-ID", "abc", "abc"}, {"Via branch", "z9hG4bK1", "z9hG4bK1"}}));
  auto f = probe::check_rewrites({{"Via sent-by", "127.0.0.1:5062", "192.0.2.1:5060"},
                                  {"Call-ID", "abc", "abc"},
                                  {"Contact", "<sip:a@127.0.0.1:5062>", "<sip:a@192.0.2.1:5060>"}});
  REQUIRE(f);
  CHECK(f->code == probe::finding_code::sip_alg_suspected);
  CHECK(f->detail.find("Via sent-by sent as \"127.0.0.1:5062\" came back as \"192.0.2.1:5060\"") == 0);
  CHECK(f->detail.find("Contact sent as") != std::string::npos);
  CHECK(f->detail.find("Call-ID") == std::string::npos);
}
