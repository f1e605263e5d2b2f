// `sipprobe reach`: is anything listening where a phone would send, on every transport?
//
//   sipprobe reach sip.example.com [--dns-server IP[:PORT]] [--transport tls] [--ca-file F]
//
// Exit: 0 every check answered, 1 some check failed (the diagnosis says how), 2 usage.
#include "netcheck/endpoint.hpp"
#include "netcheck/tls_report.hpp"
#include "probe/cli/app.hpp"
#include "probe/core/report.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/locate/dns_report.hpp"
#include "probe/locate/request.hpp"
#include "probe/reach/check.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <random>

namespace probe::cli {
namespace {

struct reach_options {
  std::string target;
  std::vector<std::string> servers;
  std::string transport;
  std::string ca_file;
  bool insecure = false;
  std::string bind;
  common_options common;
};

struct reach_run {
  std::string input;
  netcheck::resolution located;
  std::vector<reach::target_check> checks;
  std::optional<diagnosis> primary;
  std::vector<finding> findings;
  bool insecure = false;
  double elapsed_ms = 0;
};

void write_text(std::ostream& out, const reach_run& r, color_mode color) {
  const bool c = color == color_mode::always;
  const char* green = c ? "\033[32m" : "";
  const char* red = c ? "\033[31m" : "";
  const char* dim = c ? "\033[2m" : "";
  const char* reset = c ? "\033[0m" : "";
  out << "Checks for " << printable(r.input) << (r.insecure ? "  (--insecure: certificate failures do not stop TLS)" : "")
      << "\n";
  for (const auto& k : r.checks) {
    const bool ok = k.verdict == netcheck::probe_verdict::ok;
    out << "  " << netcheck::to_string(k.target.t) << " " << printable(netcheck::endpoint_text(k.target));
    if (!k.target.host.empty() && k.target.host != k.target.address) out << " (" << printable(k.target.host) << ")";
    out << "  " << (ok ? green : red) << netcheck::to_string(k.verdict) << reset << "  " << printable(k.detail);
    if (k.rtt_ms >= 0) out << "  " << ms_text(k.rtt_ms);
    out << "\n";
    std::string extra;
    if (k.connect_ms >= 0) extra += "connect " + ms_text(k.connect_ms);
    if (k.handshake_ms >= 0) extra += ", TLS handshake " + ms_text(k.handshake_ms);
    if (k.retransmissions > 0) extra += (extra.empty() ? "" : ", ") + std::to_string(k.retransmissions) + " retransmissions";
    if (!k.server.empty()) extra += (extra.empty() ? "" : ", ") + std::string("server \"") + printable(k.server) + "\"";
    if (!k.received.empty() || k.rport)
      extra += (extra.empty() ? "" : ", ") + std::string("seen from ") + (k.received.empty() ? "?" : printable(k.received)) +
               (k.rport ? ":" + std::to_string(*k.rport) : "");
    if (!extra.empty()) out << "    " << dim << extra << reset << "\n";
    if (!k.allow.empty()) {
      out << "    " << dim << "Allow:";
      for (const auto& a : k.allow) out << " " << printable(a);
      out << reset << "\n";
    }
    if (k.tls && (k.tls->handshake_ok() || k.tls->has_certificate)) {
      const auto& t = *k.tls;
      out << "    " << dim << "TLS " << printable(t.protocol) << " " << printable(t.cipher) << "; subject "
          << printable(t.subject) << "; issuer " << printable(t.issuer) << reset << "\n";
      out << "    " << dim << "SAN:";
      for (const auto& d : t.san_dns) out << " DNS:" << printable(d);
      for (const auto& i : t.san_ip) out << " IP:" << printable(i);
      out << "; expires " << printable(t.not_after);
      if (t.days_left) out << (*t.days_left < 0 ? std::string(" (expired)") : " (" + std::to_string(*t.days_left) + " days)");
      out << "; verify: " << netcheck::to_string(t.verdict);
      if (t.name_checked) out << " against \"" << printable(t.checked_name) << "\"";
      if (t.verify_code != 0) out << " (" << printable(t.verify_reason) << ")";
      out << reset << "\n";
    }
  }
  if (r.checks.empty()) out << "  no targets\n";
  out << "\n";
  if (!r.primary) {
    out << green << "✔ every check answered" << reset << "\n";
  } else {
    const auto& e = describe(r.primary->code);
    out << red << "✘ " << e.code << reset << ": " << e.title << "\n  " << e.explanation << "\n";
    for (const auto& ev : r.primary->evidence) out << "    - " << printable(ev) << "\n";
    out << "  What to fix:\n";
    int n = 1;
    for (auto f : e.fixes) out << "    " << n++ << ". " << f << "\n";
  }
  for (const auto& f : r.findings) out << "  • " << describe(f.code).code << ": " << printable(f.detail) << "\n";
  out << dim << "\nTotal " << ms_text(r.elapsed_ms) << reset << "\n";
}

nlohmann::json to_json(const reach_run& r) {
  nlohmann::json j;
  j["schema"] = "sipprobe.reach/1";
  j["input"] = r.input;
  j["insecure"] = r.insecure;
  auto& targets = j["targets"] = nlohmann::json::array();
  for (const auto& t : r.located.targets)
    targets.push_back({{"transport", std::string(netcheck::to_string(t.t))},
                       {"host", t.host},
                       {"address", t.address},
                       {"port", t.port},
                       {"via", std::string(netcheck::to_string(t.found_by))}});
  auto& checks = j["checks"] = nlohmann::json::array();
  for (const auto& c : r.checks) checks.push_back(to_json(c));
  if (r.primary) {
    const auto& e = describe(r.primary->code);
    nlohmann::json fixes = nlohmann::json::array();
    for (auto f : e.fixes) fixes.push_back(std::string(f));
    j["diagnosis"] = {{"code", std::string(e.code)},
                      {"title", std::string(e.title)},
                      {"explanation", std::string(e.explanation)},
                      {"fixes", fixes},
                      {"evidence", r.primary->evidence}};
  } else {
    j["diagnosis"] = nullptr;
  }
  auto& findings = j["findings"] = nlohmann::json::array();
  for (const auto& f : r.findings) findings.push_back({{"code", std::string(describe(f.code).code)}, {"detail", f.detail}});
  j["elapsed_ms"] = std::round(r.elapsed_ms * 10) / 10;
  return j;
}

int run_reach(const reach_options& o) {
  auto target = locate::parse_target_or_throw(o.target, "target");
  auto req = locate::locate_request_from(target, o.transport);
  if (o.transport.empty()) req = locate::every_transport_request(req);
  const auto overall = std::chrono::milliseconds(static_cast<long>(o.common.timeout_s * 1000));
  const auto start = std::chrono::steady_clock::now();

  boost::asio::io_context io;
  auto res = locate::make_resolver(io, o.servers, overall);
  auto tls = locate::make_tls(o.ca_file, o.insecure);
  reach::check_settings rs;
  rs.flow = locate::bind_options(o.bind);
  rs.server_name = req.host;  // RFC 5922 §4: the name asked for, not each SRV target's

  reach_run run;
  run.input = o.target;
  run.insecure = o.insecure;
  sip::id_factory ids(sip::openssl_random());
  std::mt19937 rng{std::random_device{}()};
  netcheck::locate_limits limits;
  limits.deadline = overall;
  bool done = false;
  netcheck::async_locate(*res, req, limits, rng, [&](netcheck::resolution r) {
    res->cancel();
    run.located = std::move(r);
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    rs.timeout = std::max(overall - spent, std::chrono::milliseconds(1));
    reach::async_reach(io, ids, tls.get(), run.located.targets, rs, [&](std::vector<reach::target_check> checks) {
      run.checks = std::move(checks);
      done = true;
    });
  });
  io.run_for(overall + std::chrono::seconds(2));
  if (!done) throw std::runtime_error("reach did not finish within its time limit");
  run.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  if (run.located.targets.empty()) {
    run.primary = locate::dns_diagnosis(run.located, req.host, res->servers());
  } else {
    run.primary = reach::diagnosis_from(run.checks);
  }
  run.findings = reach::findings_from(run.checks);
  if (o.common.json) std::cout << json_text(to_json(run)) << "\n";
  else write_text(std::cout, run, resolve_color(o.common.color, ::isatty(STDOUT_FILENO) == 1));
  return run.primary ? exit_failed : exit_ok;
}

}  // namespace

void setup_reach(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand("reach", "Check that the registrar answers on UDP, TCP and TLS (OPTIONS, TLS certificate)");
  auto o = std::make_shared<reach_options>();
  cmd->add_option("target", o->target, "domain, AOR or URI (sip:alice@example.com), host[:port], [IPv6]:port")->required();
  cmd->add_option("--dns-server", o->servers, "DNS server IP[:PORT] to ask (repeatable; default: /etc/resolv.conf)")
      ->allow_extra_args(false);
  cmd->add_option("--transport", o->transport, "Only this transport: udp, tcp or tls")->check(one_of({"udp", "tcp", "tls"}));
  cmd->add_option("--ca-file", o->ca_file, "Trust the CAs in this PEM file for TLS (default: the system store)");
  cmd->add_flag("--insecure", o->insecure, "Complete TLS even when the certificate does not verify (still reported)");
  cmd->add_option("--bind", o->bind, "Local ADDR[:PORT] to send from");
  add_common_options(*cmd, o->common);
  cmd->callback([&selected, o] { selected = [o] { return run_reach(*o); }; });
}

}  // namespace probe::cli
