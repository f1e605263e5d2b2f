// `sipprobe register` from behind a real NAT: the kernel's masquerade (and, when asked, its
// SIP ALG) in network namespaces built by tests/lab/netns/start, towards a Kamailio that
// routes to registered users. As root; every namespace carries this process's PID and a
// counter in its name, and lab_service removes it (and every process in it) also when a
// CHECK fails.
#include <ostream>
#include <doctest/doctest.h>

#include "support/capture.hpp"
#include "support/lab.hpp"
#include "support/lab_checks.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

using test_support::has_finding;
using test_support::in_ns;
using test_support::lab_service;
using test_support::our_contact;
using test_support::port_of;
using test_support::run;
using test_support::shell_quote;

namespace {

// `register` run in the phone namespace towards the registrar's PORT_KEY listener; the
// binding stays (--keep) so the registrar's view can be read afterwards.
test_support::probe_run register_from_phone(const lab_service& lab, const char* port_key) {
  return test_support::sipprobe_prefixed(
      in_ns(lab, "PHONE_NS"), "register sip:alice@sip.test --keep --registrar " + lab.get("SERVER_IP") + ":" + lab.get(port_key),
      "alice-secret");
}

// The registrar's bindings as kamcmd ul.dump prints them: Address -> its Received and Socket.
struct binding_view {
  std::string received, socket;
};
std::map<std::string, binding_view> registrar_bindings(const lab_service& lab) {
  auto r = run("kamcmd -s " + shell_quote(lab.get("CTL")) + " ul.dump 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, "kamcmd ul.dump failed: " << r.out);
  std::map<std::string, binding_view> out;
  std::istringstream lines(r.out);
  std::string line, address;
  auto value = [&](const std::string& key) {
    auto at = line.find(key + ": ");
    return at == std::string::npos ? std::string() : line.substr(at + key.size() + 2);
  };
  while (std::getline(lines, line)) {
    if (auto a = value("Address"); !a.empty()) address = a;
    if (auto v = value("Received"); !v.empty()) out[address].received = v;
    if (auto v = value("Socket"); !v.empty()) out[address].socket = v;
  }
  return out;
}

// The router's conntrack entries for UDP to the registrar's port, as `conntrack -L` prints them.
std::vector<std::string> nat_entries(const lab_service& lab, const std::string& dport) {
  auto r = run(in_ns(lab, "ROUTER_NS") + " conntrack -L -p udp --dport " + dport + " 2>/dev/null");
  REQUIRE_MESSAGE(r.exit_code == 0, "conntrack -L failed in the router: " << r.out);
  std::vector<std::string> entries;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("udp", 0) == 0) entries.push_back(line);
  return entries;
}

// The countdown (seconds left) of a conntrack entry line: "udp 17 19 src=…".
int countdown(const std::string& entry) {
  std::istringstream words(entry);
  std::string proto, number;
  int left = -1;
  words >> proto >> number >> left;
  return left;
}

// What a capture saw of the SIP messages: one line per message, "REQUEST-OR-STATUS | Via |
// Contact" (tshark's fields, header values as they were on the wire).
std::vector<std::string> sip_lines(const std::string& file) {
  auto r = run("tshark -r " + shell_quote(file) +
               " -Y sip -T fields -E separator='|' -e sip.Method -e sip.Status-Code -e sip.Via -e sip.Contact 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, "tshark could not read " << file << ": " << r.out);
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// The first captured message whose line starts with `start` (e.g. "REGISTER||" for a request
// or "|200|" for the 200 OK) and holds `needle`.
std::string find_line(const std::vector<std::string>& lines, const std::string& start, const std::string& needle) {
  for (const auto& l : lines)
    if (l.rfind(start, 0) == 0 && l.find(needle) != std::string::npos) return l;
  return "";
}

// A capture of UDP on the namespace's only link.
test_support::capture capture_in(const lab_service& lab, const char* ns_key, const std::string& name) {
  return test_support::capture(lab.dir() + "/" + name + ".pcap", lab.dir() + "/" + name + ".log", in_ns(lab, ns_key), "eth0",
                               "udp");
}

}  // namespace

TEST_CASE("nat lab: only the listener with NAT handling records the public mapping of a phone behind the NAT") {
  lab_service lab("netns", test_support::netns_lab_env(30, false));
  auto phone_cap = capture_in(lab, "PHONE_NS", "phone");
  auto nat = register_from_phone(lab, "NAT_PORT");
  auto plain = register_from_phone(lab, "PLAIN_PORT");
  auto phone = sip_lines(phone_cap.stop());
  for (const auto* p : {&nat, &plain}) {
    CHECK(p->exit_code == 0);
    CHECK(p->report["diagnosis"]["code"] == "registered");
    // The phone sees its private Contact and the registrar's received= naming the router.
    CHECK(has_finding(p->report, "nat_private_contact"));
    CHECK(test_support::finding_detail(p->report, "nat_private_contact").find("Contact holds 10.16.0.2 (private)") !=
          std::string::npos);
    CHECK(test_support::finding_detail(p->report, "nat_private_contact").find(lab.get("ROUTER_PUBLIC_IP")) != std::string::npos);
    CHECK_FALSE(has_finding(p->report, "sip_alg_suspected"));
  }
  const auto nat_contact = our_contact(nat.report), plain_contact = our_contact(plain.report);
  REQUIRE(nat_contact.rfind("sip:alice@10.16.0.2:", 0) == 0);
  REQUIRE(plain_contact.rfind("sip:alice@10.16.0.2:", 0) == 0);
  auto held = registrar_bindings(lab);
  INFO("registrar holds " << held.size() << " bindings");
  REQUIRE(held.count(nat_contact) == 1);
  REQUIRE(held.count(plain_contact) == 1);
  // fix_nated_register: the binding keeps the Contact as sent and records where it came
  // from (the router's public address, same port: masquerade keeps it when it can).
  const std::string port = port_of(nat_contact);
  CHECK(held[nat_contact].received == "sip:" + lab.get("ROUTER_PUBLIC_IP") + ":" + port);
  CHECK(held[nat_contact].socket == "udp:" + lab.get("SERVER_IP") + ":" + lab.get("NAT_PORT"));
  // Without NAT handling only the private Contact is known: requests would go there.
  CHECK(held[plain_contact].received == "[not set]");
  CHECK(held[plain_contact].socket == "udp:" + lab.get("SERVER_IP") + ":" + lab.get("PLAIN_PORT"));
  // What the phone can see of it: Kamailio's 200 OK names the recorded source in the
  // Contact's received parameter — on the listener with NAT handling only.
  const std::string received_param = ";received=\"sip:" + lab.get("ROUTER_PUBLIC_IP") + ":" + port + "\"";
  CHECK(find_line(phone, "|200|", "<" + nat_contact + ">;expires=3600" + received_param) != "");
  const std::string plain_port = port_of(plain_contact);
  const std::string plain_200 = find_line(phone, "|200|SIP/2.0/UDP 10.16.0.2:" + plain_port + ";", "");
  CHECK(plain_200 != "");
  CHECK(plain_200.find("<" + plain_contact + ">;expires=3600") != std::string::npos);
  CHECK(plain_200.find("<" + plain_contact + ">;expires=3600;received") == std::string::npos);

  // Over TCP the same: the NAT listener records the connection's public end.
  auto tcp = test_support::sipprobe_prefixed(
      in_ns(lab, "PHONE_NS"),
      "register sip:bob@sip.test --keep --transport tcp --registrar " + lab.get("SERVER_IP") + ":" + lab.get("NAT_PORT"),
      "bob-secret");
  REQUIRE(tcp.exit_code == 0);
  const auto tcp_contact = our_contact(tcp.report);
  held = registrar_bindings(lab);
  REQUIRE(held.count(tcp_contact) == 1);
  CHECK(held[tcp_contact].received == "sip:" + lab.get("ROUTER_PUBLIC_IP") + ":" + port_of(tcp_contact) + ";transport=tcp");
  CHECK(held[tcp_contact].socket == "tcp:" + lab.get("SERVER_IP") + ":" + lab.get("NAT_PORT"));
}

TEST_CASE("nat lab: the router forgets a silent UDP mapping after the conntrack timeout it was given") {
  {
    lab_service lab("netns", test_support::netns_lab_env(20, false));
    // Per namespace: the router has 20 s, the host keeps its own setting.
    auto r = run(in_ns(lab, "ROUTER_NS") + " sysctl -n net.netfilter.nf_conntrack_udp_timeout");
    CHECK(r.out == "20\n");
    auto p = register_from_phone(lab, "NAT_PORT");
    REQUIRE(p.exit_code == 0);
    auto entries = nat_entries(lab, lab.get("NAT_PORT"));
    REQUIRE_MESSAGE(entries.size() == 1, "conntrack entries: " << entries.size());
    INFO(entries[0]);
    CHECK(entries[0].find("src=" + lab.get("PHONE_IP")) != std::string::npos);
    CHECK(entries[0].find("dst=" + lab.get("ROUTER_PUBLIC_IP")) != std::string::npos);  // the mapped reply address
    CHECK(countdown(entries[0]) > 15);
    CHECK(countdown(entries[0]) <= 20);
  }
  // And it really ends: with 3 s the mapping is gone 4.5 s after the last packet.
  lab_service lab("netns", test_support::netns_lab_env(3, false));
  REQUIRE(register_from_phone(lab, "NAT_PORT").exit_code == 0);
  CHECK(nat_entries(lab, lab.get("NAT_PORT")).size() == 1);
  test_support::sleep_ms(4500);
  CHECK(nat_entries(lab, lab.get("NAT_PORT")).empty());
}

TEST_CASE("nat lab: without a SIP ALG the registrar sees the private addresses and the phone its public mapping") {
  lab_service lab("netns", test_support::netns_lab_env(30, false));
  auto phone_cap = capture_in(lab, "PHONE_NS", "phone");
  auto server_cap = capture_in(lab, "SERVER_NS", "server");
  auto p = register_from_phone(lab, "PLAIN_PORT");
  auto phone = sip_lines(phone_cap.stop());
  auto server = sip_lines(server_cap.stop());
  REQUIRE(p.exit_code == 0);
  const auto contact = our_contact(p.report);
  const std::string port = port_of(contact);
  const std::string private_addr = "10.16.0.2:" + port, public_ip = lab.get("ROUTER_PUBLIC_IP");
  // The REGISTER arrives as it was sent: Via and Contact name the phone's private address.
  CHECK(find_line(server, "REGISTER||SIP/2.0/UDP " + private_addr, "<sip:alice@" + private_addr + ">") != "");
  // The 200 OK reaches the phone with received= naming the router's public side.
  CHECK(find_line(phone, "|200|", "received=" + public_ip) != "");
  CHECK(has_finding(p.report, "nat_private_contact"));
  CHECK_FALSE(has_finding(p.report, "sip_alg_suspected"));
}

TEST_CASE("nat lab: the kernel's SIP ALG rewrites the REGISTER to the public mapping and maps the 200 OK back") {
  lab_service lab("netns", test_support::netns_lab_env(30, true));
  auto phone_cap = capture_in(lab, "PHONE_NS", "phone");
  auto server_cap = capture_in(lab, "SERVER_NS", "server");
  auto first = register_from_phone(lab, "PLAIN_PORT");
  // A second flow (another local port, so another NAT mapping) to the same account.
  auto second = register_from_phone(lab, "PLAIN_PORT");
  // A Contact on a port other than the socket's: the ALG rewrites its host, opens a pinhole
  // for it, and does not map it back in the 200 OK.
  auto other_port = test_support::sipprobe_prefixed(
      in_ns(lab, "PHONE_NS"),
      "register sip:bob@sip.test --keep --contact sip:bob@10.16.0.2:5999 --registrar " + lab.get("SERVER_IP") + ":" +
          lab.get("PLAIN_PORT"),
      "bob-secret");
  auto phone = sip_lines(phone_cap.stop());
  auto server = sip_lines(server_cap.stop());
  REQUIRE(first.exit_code == 0);
  REQUIRE(second.exit_code == 0);
  const auto contact = our_contact(first.report);
  const std::string port = port_of(contact);
  const std::string private_addr = "10.16.0.2:" + port, public_addr = lab.get("ROUTER_PUBLIC_IP") + ":" + port;
  INFO("phone saw:\n"
       << [&] {
            std::string s;
            for (const auto& l : phone) s += l + "\n";
            return s;
          }());
  INFO("server saw:\n"
       << [&] {
            std::string s;
            for (const auto& l : server) s += l + "\n";
            return s;
          }());
  // Sent with the private address, arrived with the public mapping in Via and Contact.
  CHECK(find_line(phone, "REGISTER||SIP/2.0/UDP " + private_addr, "<sip:alice@" + private_addr + ">") != "");
  CHECK(find_line(server, "REGISTER||SIP/2.0/UDP " + public_addr, "<sip:alice@" + public_addr + ">") != "");
  CHECK(find_line(server, "REGISTER||", private_addr) == "");
  // The 200 OK left with received= and the Contact in public form and reached the phone
  // mapped back: the phone's own address in received=, its Contact as sent.
  CHECK(find_line(server, "|200|SIP/2.0/UDP " + public_addr, "received=" + lab.get("ROUTER_PUBLIC_IP")) != "");
  CHECK(find_line(phone, "|200|SIP/2.0/UDP " + private_addr, "received=10.16.0.2") != "");
  CHECK(find_line(phone, "|200|", lab.get("ROUTER_PUBLIC_IP")) != "");  // the other flow's binding, below
  // So one exchange shows the phone nothing: sipprobe today reports neither the NAT nor
  // the ALG for the first flow.
  CHECK(first.report["diagnosis"]["code"] == "registered");
  CHECK_FALSE(has_finding(first.report, "nat_private_contact"));
  CHECK_FALSE(has_finding(first.report, "sip_alg_suspected"));
  // What a phone CAN see: from a second flow, the 200 OK lists the first flow's binding in
  // the rewritten (public) form — the registrar holds a Contact this host never sent.
  bool public_form_listed = false;
  for (const auto& b : second.report["registration"]["bindings"])
    if (b["ours"] == false && b["contact"] == "sip:alice@" + public_addr) public_form_listed = true;
  CHECK(public_form_listed);
  // The Contact on another port: rewritten on the way, listed so in the 200 OK, and today's
  // finding sees it in one exchange.
  const std::string public_5999 = "sip:bob@" + lab.get("ROUTER_PUBLIC_IP") + ":5999";
  CHECK(find_line(phone, "REGISTER||", "<sip:bob@10.16.0.2:5999>") != "");
  CHECK(find_line(server, "REGISTER||", "<" + public_5999 + ">") != "");
  CHECK(find_line(phone, "|200|", "<" + public_5999 + ">;expires=3600") != "");
  CHECK(other_port.exit_code == 0);
  CHECK(test_support::finding_detail(other_port.report, "sip_alg_suspected") ==
        "the 200 OK does not list the Contact that was sent (sip:bob@10.16.0.2:5999)");
  auto expect = run(in_ns(lab, "ROUTER_NS") + " conntrack -L expect 2>/dev/null");
  INFO("expectations: " << expect.out);
  CHECK(expect.out.find("dst=" + lab.get("ROUTER_PUBLIC_IP") + " sport=0 dport=5999") != std::string::npos);
  CHECK(expect.out.find("master-src=10.16.0.2") != std::string::npos);
  // The ALG also raises the mapping's lifetime to its own (3600 s), whatever the sysctl says.
  auto entries = nat_entries(lab, lab.get("PLAIN_PORT"));
  REQUIRE_FALSE(entries.empty());
  CHECK(entries[0].find("helper=sip") != std::string::npos);
  CHECK(countdown(entries[0]) > 3000);
}

TEST_CASE("nat lab: two labs side by side do not collide, and the next start removes a lab whose test is gone") {
  // A lab named after a process that has exited, as if its test had been killed.
  auto gone = run("sh -c 'echo $$'");
  REQUIRE(gone.exit_code == 0);
  const std::string stale_tag = std::to_string(std::stoi(gone.out)) + "-1";
  lab_service stale("netns", {{"NETNS_TAG", stale_tag}});
  const std::string stale_ns = "/run/netns/sipprobe-" + stale_tag + "-phone";
  REQUIRE(run("test -e " + shell_quote(stale_ns)).exit_code == 0);

  lab_service one("netns", test_support::netns_lab_env(30, false));
  lab_service two("netns", test_support::netns_lab_env(30, false));
  CHECK(run("test -e " + shell_quote(stale_ns)).exit_code != 0);
  CHECK(one.get("PHONE_NS") != two.get("PHONE_NS"));
  auto a = register_from_phone(one, "NAT_PORT");
  auto b = register_from_phone(two, "NAT_PORT");
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  // Each registrar holds exactly the binding made through its own NAT.
  auto held_one = registrar_bindings(one), held_two = registrar_bindings(two);
  CHECK(held_one.size() == 1);
  CHECK(held_two.size() == 1);
  CHECK(held_one.count(our_contact(a.report)) == 1);
  CHECK(held_two.count(our_contact(b.report)) == 1);
}
