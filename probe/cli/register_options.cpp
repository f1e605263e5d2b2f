#include "probe/cli/register_options.hpp"

#include "probe/core/text_safety.hpp"
#include "probe/locate/request.hpp"
#include "probe/registration/nat_lifetime.hpp"
#include "sip/scan.hpp"
#include "sip/uri.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <limits>

namespace probe::cli {
namespace {

// --contact goes between < and > in the Contact header: a SIP URI (or "*"), nothing that
// would end the header or the URI.
CLI::Validator contact_uri() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text == "*") return "";
        if (auto why = sip_text()(text); !why.empty()) return why;
        sip::uri u;
        if (auto ec = sip::parse_uri(text, u)) return "not a SIP URI (" + ec.message() + ")";
        if (text.find_first_of(" \t<>") != std::string::npos) return "not a SIP URI (white space, < or >)";
        return "";
      },
      "");
}

}  // namespace

void add_route_options(CLI::App& cmd, registration::route_options& route, std::string& transport) {
  cmd.add_option("--registrar", route.registrar,
                 "Send to HOST[:PORT] instead of locating the registrar by DNS (batch: for rows without a registrar value)")
      ->check(target_text());
  cmd.add_option("--outbound-proxy", route.outbound_proxy, "Send through this proxy URI (sip:host[:port][;transport=…])")
      ->check(target_text());
  cmd.add_option("--transport", transport,
                 "udp, tcp or tls (default: what RFC 3263 picks; batch: for rows without a transport value)")
      ->check(one_of({"udp", "tcp", "tls"}));
  cmd.add_option("--dns-server", route.dns_servers, "Use this resolver, IP[:PORT] (repeatable)");
  cmd.add_option("--ca-file", route.ca_file, "Trust the CAs in this PEM file for TLS (default: the system store)");
  cmd.add_flag("--insecure", route.insecure, "Go on when the TLS certificate does not verify (register and diagnose report it)");
  cmd.add_option("--bind", route.bind, "Local ADDR[:PORT] to send from");
}

void add_register_options(CLI::App& cmd, register_cli& o) {
  cmd.add_option("aor", o.aor, "Address of record: sip:alice@example.com, sips:… or alice@example.com")->required();
  add_common_options(cmd, o.common);
  add_secret_options(cmd, o.secret);
  cmd.add_option("--user", o.user, "Authentication username (default: the AOR's user)")->check(sip_text());
  cmd.add_option("--realm", o.realm, "Expected realm: warn when the server's differs")->check(sip_text());
  add_route_options(cmd, o.route, o.transport);
  cmd.add_option("--expires", o.settings.expires, "Registration interval to ask for, in seconds")
      ->check(whole_number_in(0, 4294967295u))
      ->capture_default_str();
  cmd.add_flag("--keep", o.settings.keep, "Leave the probe's binding registered (default: remove it afterwards)");
  cmd.add_flag("--query", o.settings.query,
               "Authenticated REGISTER without Contact: check credentials, list bindings, change nothing");
  cmd.add_flag("--inbound,!--no-inbound", o.settings.inbound,
               "While registered, send an OPTIONS to the AOR through the registrar from a second socket: does it reach "
               "the registered contact? (diagnose: on unless --no-inbound)");
  auto* lifetime = cmd.add_flag("--nat-lifetime", o.nat_lifetime,
                                "After the inbound check, measure how long the NAT keeps an idle UDP binding reachable "
                                "(minutes: bindings of its own, silent for 15, 30, … s; implies --inbound, UDP)");
  cmd.add_option("--max-idle", o.max_idle_s, "--nat-lifetime: the longest idle period to try, in seconds")
      ->check(whole_number_in(registration::min_max_idle.count(), registration::max_max_idle.count()))
      ->needs(lifetime)
      ->capture_default_str();
  cmd.add_option("--contact", o.settings.contact, "Register this Contact URI (e.g. what the phone sends)")->check(contact_uri());
  cmd.add_option("--user-agent", o.settings.user_agent, "User-Agent header (default: sipprobe/<version>)")->check(sip_text());
  cmd.add_option("--header", o.headers, "Extra header 'Name: value' (repeatable)");
  cmd.add_flag("--trace", o.trace, "Print every message sent and received (on stderr), with times and addresses");
  cmd.add_flag("--nagios", o.nagios, "Monitoring-plugin output and exit codes (OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3)");
  cmd.add_option("--warning", o.warning_ms, "--nagios: WARNING when the run takes longer than this many ms")
      ->check(number_in(0, std::numeric_limits<double>::max()));
  cmd.add_option("--critical", o.critical_ms, "--nagios: CRITICAL when the run takes longer than this many ms")
      ->check(number_in(0, std::numeric_limits<double>::max()));
}

registration::account make_account(register_cli& o) {
  registration::account a;
  auto aor = registration::parse_aor(o.aor);
  if (!aor) throw usage_error(aor.error());
  a.aor = *std::move(aor);
  // RFC 3261 section 19.1.1: a password in the userinfo is not recommended; here it would
  // travel in From and To and appear in the report.
  if (!a.aor.password.empty())
    throw usage_error(
        "the address of record carries a password (user:password@host): give the password with "
        "--password-env, --password-file, --password-stdin or SIPPROBE_PASSWORD");
  a.auth_user = o.user;
  a.expected_realm = o.realm;
  a.credentials = acquire_secret(o.secret, process_secret_env());
  protect_process_memory();
  return a;
}

namespace {

// --nat-lifetime measures UDP bindings: it needs a binding (no --query, no --expires 0), it
// implies --inbound and UDP, and shows progress on a terminal unless the output is JSON.
void apply_nat_lifetime(register_cli& o) {
  if (o.settings.query) throw usage_error("--nat-lifetime needs a binding to measure: not with --query");
  if (o.settings.expires == 0) throw usage_error("--nat-lifetime needs a binding to measure: not with --expires 0");
  if (o.route.transport && *o.route.transport != netcheck::transport::udp)
    throw usage_error("--nat-lifetime measures how long a NAT keeps a UDP binding: not with --transport " + o.transport);
  o.route.transport = netcheck::transport::udp;
  o.settings.inbound = true;
  o.settings.nat_lifetime = std::chrono::seconds(o.max_idle_s);
  if (!o.common.json && !o.nagios && ::isatty(STDERR_FILENO) == 1)
    o.settings.progress = [](const std::string& line) { std::cerr << line << std::endl; };
}

}  // namespace

void finish_settings(register_cli& o) {
  if (!o.transport.empty()) {
    std::string t = o.transport;
    for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    o.route.transport = netcheck::transport_from_string(t);
  }
  for (const auto& h : o.headers) {
    auto colon = h.find(':');
    // The value is not echoed: it may be a credential (an Authorization header).
    if (colon == std::string::npos || colon == 0) throw usage_error("--header needs 'Name: value' (no header name before a ':')");
    std::string name = h.substr(0, colon);
    std::string value = std::string(sip::trim_lws(std::string_view(h).substr(colon + 1)));
    for (char c : name)
      if (!sip::is_token_char(c)) throw usage_error("--header: the text before ':' is not a header name (RFC 3261 token)");
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        throw usage_error("--header: control character in the value of " + name);
    o.settings.extra.push_back({name, value});
  }
  if (o.trace) {
    auto start = std::chrono::steady_clock::now();
    o.settings.trace = [start](std::string_view where, std::string_view bytes) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      // The messages as they went and came, but a server's ESC sequences shown, not obeyed.
      const std::string shown = printable_lines(bytes);
      std::fprintf(stderr, "--- %8.1f ms %.*s\n%s\n", ms, static_cast<int>(where.size()), where.data(), shown.c_str());
    };
  }
  if (o.nagios && o.common.json) throw usage_error("--nagios and --json exclude each other");
  if (o.nat_lifetime) apply_nat_lifetime(o);
}

int emit_report(const report& r, const register_cli& o) {
  if (o.nagios) {
    auto n = nagios_line(r, o.warning_ms, o.critical_ms);
    std::cout << n.line << "\n";
    return n.status;
  }
  if (o.common.json) {
    std::cout << json_text(to_json(r)) << "\n";
  } else {
    write_text(std::cout, r, resolve_color(o.common.color, ::isatty(STDOUT_FILENO) == 1));
  }
  return exit_status_for(r.primary.code);
}

}  // namespace probe::cli
