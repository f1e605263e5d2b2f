// `sipprobe register --inbound` from behind a real NAT (tests/lab/netns/start): the OPTIONS
// to the AOR travels registrar → registered Contact through the kernel's masquerade, with and
// without the registrar's NAT handling, with and without the kernel's SIP ALG, over UDP and
// TCP. As root; lab_service removes the namespaces (and every process in them) also when a
// CHECK fails.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/lab_checks.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <string>

using test_support::has_finding;
using test_support::in_ns;
using test_support::lab_service;
using test_support::run;
using test_support::shell_quote;

namespace {

// `register --inbound --keep` as alice from the phone towards the PORT_KEY listener.
test_support::probe_run inbound_from_phone(const lab_service& lab, const char* port_key, const std::string& extra = "",
                                           bool json = true) {
  return test_support::sipprobe_prefixed(in_ns(lab, "PHONE_NS"),
                                         "register sip:alice@sip.test --inbound --keep --timeout 6 --registrar " +
                                             lab.get("SERVER_IP") + ":" + lab.get(port_key) + extra,
                                         "alice-secret", json);
}

std::string evidence_of(const nlohmann::json& report) {
  std::string all;
  for (const auto& e : report["diagnosis"]["evidence"]) all += e.get<std::string>() + "\n";
  return all;
}

// kamcmd ul.dump as printed.
std::string registrar_dump(const lab_service& lab) {
  auto r = run("kamcmd -s " + shell_quote(lab.get("CTL")) + " ul.dump 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, "kamcmd ul.dump failed: " << r.out);
  return r.out;
}

// Packets the router dropped because nobody inside had asked for them (a request sent by
// the registrar to the phone's private address).
long unsolicited_drops(const lab_service& lab) {
  auto r = run(in_ns(lab, "ROUTER_NS") + " nft list chain ip filter inbound 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, "nft list failed in the router: " << r.out);
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(r.out, m, std::regex(R"(counter packets (\d+))")), r.out);
  return std::stol(m[1]);
}

// The run's verdict: exit code, diagnosis and inbound result.
void check_verdict(const test_support::probe_run& p, int exit_code, const char* code, const char* inbound) {
  CHECK(p.exit_code == exit_code);
  CHECK(p.report["diagnosis"]["code"] == code);
  REQUIRE(p.report.contains("inbound"));
  CHECK(p.report["inbound"]["result"] == inbound);
}

}  // namespace

TEST_CASE("nat inbound: over UDP the OPTIONS reaches the phone through the NAT when the registrar handles NAT") {
  lab_service lab("netns", test_support::netns_lab_env(30, false));
  auto p = inbound_from_phone(lab, "NAT_PORT");
  INFO(p.out);
  check_verdict(p, 0, "registered", "reached");
  CHECK(p.report["inbound"]["status"] == 200);
  CHECK(p.report["inbound"]["elapsed_ms"] < 2000);
  // The private Contact is still reported: it is what makes other registrars fail.
  CHECK(has_finding(p.report, "nat_private_contact"));
  CHECK_FALSE(has_finding(p.report, "sip_alg_suspected"));  // a NAT without ALG leaves our Via alone
  CHECK(unsolicited_drops(lab) == 0);
  // Reached through a NAT, with an expiry of 3600 s: worth measuring how long that lasts.
  CHECK(test_support::finding_detail(p.report, "nat_lifetime_unmeasured")
            .find("saw the REGISTER from " + lab.get("ROUTER_PUBLIC_IP") + ":") != std::string::npos);
  // diagnose says the same.
  auto d = test_support::sipprobe_prefixed(
      in_ns(lab, "PHONE_NS"),
      "diagnose sip:alice@sip.test --transport udp --timeout 6 --registrar " + lab.get("SERVER_IP") + ":" + lab.get("NAT_PORT"),
      "alice-secret");
  INFO(d.out);
  CHECK(d.exit_code == 0);
  CHECK(d.report["inbound"]["result"] == "reached");
  CHECK(has_finding(d.report, "nat_lifetime_unmeasured"));
}

TEST_CASE("nat inbound: over UDP without NAT handling at the registrar the OPTIONS is lost at the router") {
  lab_service lab("netns", test_support::netns_lab_env(30, false));
  auto p = inbound_from_phone(lab, "PLAIN_PORT");
  INFO(p.out);
  check_verdict(p, 1, "inbound_unreachable", "not_reached");
  CHECK(p.report["inbound"]["status"] == 408);  // Kamailio's fr_timer (3 s) on the lost request
  CHECK(has_finding(p.report, "nat_private_contact"));
  const auto contact = test_support::our_contact(p.report);
  REQUIRE(contact.rfind("sip:alice@10.16.0.2:", 0) == 0);
  const std::string port = test_support::port_of(contact);
  // The evidence names the private Contact against the public source the registrar saw…
  const auto evidence = evidence_of(p.report);
  CHECK(evidence.find("nothing arrived on the registered flow (10.16.0.2:" + port + ")") != std::string::npos);
  CHECK(evidence.find("the registrar holds the Contact sip:alice@10.16.0.2:" + port + "; the REGISTER came from " +
                      lab.get("ROUTER_PUBLIC_IP") + ":" + port + " (Via received/rport of the 200 OK)") != std::string::npos);
  // …and both are true: the registrar holds the private Contact with no received, and it
  // sent the OPTIONS there (the router dropped it: nobody inside had asked for it).
  const auto held = registrar_dump(lab);
  CHECK(held.find("Address: " + contact) != std::string::npos);
  CHECK(held.find("Received: [not set]") != std::string::npos);
  CHECK(unsolicited_drops(lab) >= 1);
}

TEST_CASE("nat inbound: with the SIP ALG the registrar without NAT handling reaches the phone at the rewritten Contact") {
  lab_service lab("netns", test_support::netns_lab_env(30, true));
  auto p = inbound_from_phone(lab, "PLAIN_PORT");
  INFO(p.out);
  check_verdict(p, 0, "registered", "reached");
  // The ALG hid the NAT from the phone's REGISTER (the 200 OK was mapped back) …
  CHECK_FALSE(has_finding(p.report, "nat_private_contact"));
  // … but not from the inbound check: the OPTIONS came back to the registered flow with the
  // second socket's own Via rewritten to the public mapping, which no proxy does.
  const auto alg = test_support::finding_detail(p.report, "sip_alg_suspected");
  CHECK(alg.find("our Via rewritten: 10.16.0.2:") != std::string::npos);
  CHECK(alg.find(" arrived as " + lab.get("ROUTER_PUBLIC_IP") + ":") != std::string::npos);
  // The ALG hid the NAT from received/rport, not from the inbound check: a NAT is there.
  CHECK(has_finding(p.report, "nat_lifetime_unmeasured"));
  // … and from the registrar: it holds the public mapping the ALG wrote into the Contact.
  const auto port = test_support::port_of(test_support::our_contact(p.report));
  CHECK(registrar_dump(lab).find("Address: sip:alice@" + lab.get("ROUTER_PUBLIC_IP") + ":" + port) != std::string::npos);
  CHECK(unsolicited_drops(lab) == 0);
}

TEST_CASE("nat inbound: over TCP the OPTIONS comes back on the REGISTER's connection through the NAT") {
  lab_service lab("netns", test_support::netns_lab_env(30, false));
  // With NAT handling the binding's received is the connection's public end, and Kamailio
  // relays over the connection it already has to that address.
  auto p = inbound_from_phone(lab, "NAT_PORT", " --transport tcp --trace", false);
  INFO(p.out);
  CHECK(p.exit_code == 0);
  CHECK(p.out.find("Inbound: reached (200)") != std::string::npos);
  test_support::check_inbound_on_register_connection(p.out, R"(10\.16\.0\.2)");
  CHECK(unsolicited_drops(lab) == 0);

  // Without NAT handling TCP alone does not help: Kamailio opens a new connection to the
  // private Contact, and the router drops its SYN.
  auto plain = inbound_from_phone(lab, "PLAIN_PORT", " --transport tcp");
  INFO(plain.out);
  check_verdict(plain, 1, "inbound_unreachable", "not_reached");
  CHECK(unsolicited_drops(lab) >= 1);
}
