#include "probe/core/catalog.hpp"

#include <array>

namespace probe {
namespace {

using sv = std::string_view;

// The tables are laid out by hand, one field or fix per line: clang-format would pack them.
// clang-format off
// Fix lists live in static arrays so entries can hand out spans into them.
constexpr std::array<sv, 0> no_fixes{};
constexpr std::array<sv, 1> registered_fixes{
    "Nothing to fix: the account registers. Configure the phone with the same server, "
    "transport and credentials."};
constexpr std::array<sv, 4> auth_failed_fixes{
    "Check the username: it is the SIP authentication user, which is not always the "
    "extension number.",
    "Re-enter the password: look for stray spaces, a changed password, or characters the "
    "phone's keypad mangles.",
    "Compare the realm in the phone's settings with the one the server sends in "
    "WWW-Authenticate.",
    "Enable digest authentication logging on the server and retry to see why it refused."};
constexpr std::array<sv, 3> proxy_auth_failed_fixes{
    "Check the username and password for the proxy's realm (from Proxy-Authenticate).",
    "Check the outbound-proxy setting: is this the proxy the account belongs to?",
    "Enable authentication logging on the proxy and retry."};
constexpr std::array<sv, 2> auth_not_attempted_fixes{
    "Configure the authentication username and password on the phone.",
    "Check that the phone supports the digest algorithm the server offers (MD5, SHA-256)."};
constexpr std::array<sv, 2> auth_unsupported_fixes{
    "Enable MD5 or SHA-256 digest authentication on the server for this account.",
    "Or upgrade the client to one that supports the algorithm the server offers."};
constexpr std::array<sv, 4> forbidden_fixes{
    "Check the account's status on the PBX: disabled, suspended or out of credit?",
    "Check the server's IP allow/deny lists and geographic blocking for the phone's public "
    "address.",
    "Check device or MAC authorisation if the PBX ties accounts to devices.",
    "Read the server log for this request: the reason phrase often names the rule."};
constexpr std::array<sv, 3> not_found_fixes{
    "Verify the SIP domain and the username in the phone's provisioning.",
    "Check that the account exists on this registrar: deleted, or moved to another server?",
    "If the domain is served by several registrars, check DNS points at the right one."};
constexpr std::array<sv, 2> interval_too_brief_fixes{
    "Raise the phone's registration interval (expires) to at least the server's Min-Expires.",
    "3600 s suits most servers; some hosted providers want 1800 or 600."};
constexpr std::array<sv, 2> temporarily_unavailable_fixes{
    "Retry later.", "Check the registrar's backend: database, user directory, licence limits."};
constexpr std::array<sv, 2> service_unavailable_fixes{
    "Retry after the time given in Retry-After.",
    "Check the server's health: load, maintenance mode, upstream dependencies."};
constexpr std::array<sv, 1> server_error_fixes{
    "Check the registrar's logs at the time of this request: the fault is on the server."};
constexpr std::array<sv, 1> redirected_fixes{
    "Register with the server named in the Contact of the 3xx response."};
constexpr std::array<sv, 1> unexpected_response_fixes{
    "Read the status line and reason phrase; check the server's documentation for it."};
constexpr std::array<sv, 3> dns_failure_fixes{
    "Check the spelling of the SIP domain.",
    "Check the records: _sip._udp, _sip._tcp and _sips._tcp SRV (and NAPTR) for the domain, "
    "and A/AAAA for the targets.",
    "Check which resolver the phone uses and that it can reach it."};
constexpr std::array<sv, 3> port_unreachable_fixes{
    "Check the registrar's listening port and transport.",
    "Check the port configured on the phone (5060 for UDP/TCP, 5061 for TLS by default).",
    "Check that the SIP service is running on the server."};
constexpr std::array<sv, 2> wrong_transport_fixes{
    "Switch the phone's transport (and port) to the one that answered.",
    "Or enable the configured transport on the registrar."};
constexpr std::array<sv, 4> no_response_fixes{
    "Test connectivity to the port from the phone's network (the request left, nothing came "
    "back).",
    "Check firewalls on both sides for the SIP port and transport.",
    "Disable SIP ALG on the router: it often drops or mangles SIP.",
    "Verify the registrar's IP address, port and transport."};
constexpr std::array<sv, 3> tls_failure_fixes{
    "Read the TLS error: expired certificate, untrusted CA, name mismatch, or no common "
    "protocol/cipher.",
    "Install the CA that signed the server certificate on the client (or use --ca-file).",
    "Fix the server certificate: it must name the SIP domain the phone registers to (RFC "
    "5922), or the host the phone is configured with as its registrar."};
constexpr std::array<sv, 2> malformed_response_fixes{
    "Capture on both sides to see where the message is corrupted.",
    "Disable SIP ALG on routers and firewalls in the path."};
constexpr std::array<sv, 1> unregistered_fixes{
    "Nothing to fix: the binding is gone. Register again (without Expires 0) to check that the "
    "account can register."};
constexpr std::array<sv, 1> credentials_valid_fixes{
    "Nothing to fix: the credentials are accepted. Run without --query to register for real."};
constexpr std::array<sv, 2> trace_incomplete_fixes{
    "Capture longer: at least 32 s after the last REGISTER (RFC 3261 Timer F), or until the "
    "phone gives up.",
    "Capture on the phone's side and on the registrar's, to see where the answer is lost."};

constexpr std::array<sv, 3> network_unreachable_fixes{
    "Check this host's network: is the interface up with an address, and is there a route to "
    "the registrar (`ip route get ADDRESS`)? A missing default route or a VPN that is down is "
    "the usual cause.",
    "Check the registrar's address: a private, test or mistyped address cannot be reached "
    "from here.",
    "If a router answered unreachable, check its routes and firewall (a reject rule sends ICMP "
    "unreachable)."};

constexpr std::array<sv, 1> interrupted_fixes{
    "Run it again and let it finish: --timeout bounds how long it waits for a slow registrar."};

constexpr std::array<sv, 5> inbound_unreachable_fixes{
    "Turn on NAT handling at the registrar: record the REGISTER's source address (received, "
    "as Kamailio's fix_nated_register or Asterisk's nat=force_rport,comedia do) and send "
    "requests there, not to the private Contact.",
    "Keep the NAT binding open: send keep-alives (CRLF or OPTIONS) or re-register more often "
    "than the router forgets UDP mappings (often 30-120 s).",
    "Use TCP or TLS with a registrar that sends requests back over the connection the REGISTER "
    "opened (RFC 5626 connection reuse, or NAT handling that records it): one that opens a new "
    "connection to the Contact is stopped by the NAT like UDP.",
    "Register through an outbound proxy that keeps the flow (RFC 5626), if the provider has one.",
    "Disable SIP ALG (\"SIP helper\", \"SIP fixup\") on the router: it rewrites Contact and Via "
    "and may forget the mapping it made."};

constexpr std::array<entry, 25> diagnoses{{
    {"registered", "Registration works",
     "The registrar accepted the REGISTER with 200 OK: the credentials are valid and the "
     "account can receive calls at the registered contact.",
     "200 OK (any 2xx) to a REGISTER that carried a Contact with a non-zero expiry.",
     registered_fixes},
    {"auth_failed", "Wrong credentials: the registrar rejected the digest response",
     "The registrar challenged with 401, the credentials were sent, and it answered 401 "
     "again (the \"401 loop\"): the username, password or realm does not match what the "
     "server has.",
     "401 again after the REGISTER carried Authorization for the challenge, without stale=true (or still 401 after one retry with a stale nonce).",
     auth_failed_fixes},
    {"proxy_auth_failed", "Wrong credentials: a proxy rejected the digest response",
     "A proxy in the path challenged with 407, the credentials were sent, and it answered "
     "407 again: it does not accept this username, password or realm.",
     "407 again after the REGISTER carried Proxy-Authorization for the proxy's challenge.",
     proxy_auth_failed_fixes},
    {"auth_not_attempted", "The phone never answered the authentication challenge",
     "The server asked for credentials (401/407) but the phone did not send REGISTER again "
     "with an Authorization header: its authentication settings are missing or broken.",
     "A 401/407 challenge that no REGISTER with credentials followed: in a trace, the phone's next move; live, no password was given.",
     auth_not_attempted_fixes},
    {"auth_unsupported", "No common digest algorithm",
     "The server's challenge offers only algorithms or protection modes this client cannot "
     "compute, so no valid credentials can be sent.",
     "Every challenge names an algorithm or qop the client cannot compute (not MD5, SHA-256 or SHA-512-256; not auth or none).",
     auth_unsupported_fixes},
    {"forbidden", "Access denied (403 Forbidden)",
     "The registrar refuses this account outright. The credentials may be fine: the account "
     "is disabled or suspended, the source IP is not allowed, the region is blocked, or the "
     "device is not authorised.",
     "403 to the REGISTER.",
     forbidden_fixes},
    {"not_found", "Unknown account (404 Not Found)",
     "The address of record (user@domain in To and the Request-URI) does not exist on this "
     "registrar.",
     "404 to the REGISTER.",
     not_found_fixes},
    {"interval_too_brief", "Registration interval too short (423)",
     "The requested Expires is below the server's minimum, and the request could not be "
     "satisfied by using the server's Min-Expires.",
     "423 without a usable Min-Expires, or 423 again after retrying with its Min-Expires.",
     interval_too_brief_fixes},
    {"temporarily_unavailable", "Registrar temporarily unavailable (480)",
     "The registrar is up but not accepting registrations right now.",
     "480 to the REGISTER.",
     temporarily_unavailable_fixes},
    {"service_unavailable", "Service unavailable (503)",
     "The registrar is overloaded or in maintenance.",
     "503 to the REGISTER (the Retry-After is quoted), on every target tried.",
     service_unavailable_fixes},
    {"server_error", "Registrar error (5xx)",
     "The registrar failed while handling the request: the fault is on the server side.",
     "500 or another 5xx except 503.",
     server_error_fixes},
    {"redirected", "Redirected (3xx)",
     "The registrar points to another server for this account.",
     "A 3xx to the REGISTER (live, it is followed once; this code stays when that fails).",
     redirected_fixes},
    {"unexpected_response", "Unexpected final response",
     "The final response is not a registration outcome the catalog knows.",
     "Any other final response, or a request that could not be sent (a value not allowed in SIP).",
     unexpected_response_fixes},
    {"dns_failure", "The registrar cannot be found in DNS",
     "Resolving the SIP domain failed (no such name, no usable NAPTR/SRV/A/AAAA records, or "
     "the resolver failed or timed out), so a phone cannot find where to register.",
     "NXDOMAIN, SERVFAIL, a DNS timeout, or no usable NAPTR/SRV/A/AAAA record for the domain.",
     dns_failure_fixes},
    {"port_unreachable", "Nothing listens on the registrar's port",
     "The host answered that the port is closed (ICMP port unreachable, or TCP reset): the "
     "host is up, but no SIP service listens on that port and transport.",
     "ICMP port unreachable to the UDP request, or a TCP reset to the connect, on every target.",
     port_unreachable_fixes},
    {"wrong_transport", "Wrong transport: the registrar answers on another one",
     "Nothing answered on the configured transport, but the same target answers on another "
     "(for example the phone uses UDP and the registrar takes only TCP or TLS).",
     "Nothing answered on the configured transport while another transport to the same target answered.",
     wrong_transport_fixes},
    {"no_response", "No response from the registrar",
     "The request was sent and nothing came back on any transport before the timeout: a "
     "firewall drops SIP, or the address or port is wrong.",
     "The request was sent (and retransmitted over UDP per RFC 3261 Timer E) and no final response came before the timeout.",
     no_response_fixes},
    {"tls_failure", "TLS connection failed",
     "The TLS handshake failed or the server's certificate does not verify for this host, so "
     "encrypted SIP cannot be set up.",
     "The TLS handshake failed, or the certificate did not verify against the SIP domain (RFC 5922).",
     tls_failure_fixes},
    {"malformed_response", "The reply is not valid SIP",
     "Something came back, but it is not a valid SIP message: a broken server, or a device "
     "in the path (often a SIP ALG) corrupting packets.",
     "Bytes came back that are not a valid SIP response (start line, headers, Content-Length against the body).",
     malformed_response_fixes},
    {"unregistered", "Binding removed",
     "The registrar accepted the removal of the binding (Expires 0): the account no longer "
     "receives calls at that contact. Nothing was registered.",
     "200 OK (any 2xx) to a REGISTER whose Contact asked for expiry 0, or Contact: * with Expires: 0.",
     unregistered_fixes},
    {"credentials_valid", "Credentials accepted, nothing registered",
     "The registrar accepted the credentials; no binding was changed (a binding query lists the "
     "bindings the registrar holds and changes none).",
     "200 OK (any 2xx) to a REGISTER without Contact: a binding query (--query).",
     credentials_valid_fixes},
    {"trace_incomplete", "The trace ends too early for a verdict",
     "The capture stops before the request could have been answered or timed out: nothing in "
     "it says whether the registrar answered later.",
     "(analyze) No final response, and the trace ends before the request's transaction could have timed out (RFC 3261 Timer F: 32 s after the request, UDP and TCP alike, counted to the input's last packet); in a trace without times, a UDP request shown sent fewer than the 11 times of its Timer E schedule.",
     trace_incomplete_fixes},
    {"network_unreachable", "No route to the registrar",
     "The network could not carry the request: this host has no route to the registrar's "
     "address (the request never left: interface, address or default route missing), or a "
     "router on the way answered that the host or network is unreachable.",
     "Sending failed with \"network unreachable\" or \"no route to host\" (ENETUNREACH, EHOSTUNREACH: no local route, or ICMP host/network unreachable from a router), on every target.",
     network_unreachable_fixes},
    {"interrupted", "Interrupted before a verdict",
     "A signal (Ctrl-C, SIGTERM, a closed terminal or output pipe) stopped the run before the "
     "registrar's answers settled the question. The request in flight was waited for and "
     "whatever it registered removed, unless a second signal said to quit at once.",
     "SIGINT, SIGTERM, SIGHUP or SIGPIPE arrived before the registration reached a final outcome (live runs only).",
     interrupted_fixes},
    {"inbound_unreachable", "Registered, but requests to the account do not arrive",
     "The registrar accepted the registration, but a request sent to the address of record "
     "through it did not reach the registered contact: calls to this account would fail the "
     "same way, although the phone shows it is registered.",
     "--inbound (diagnose: after a successful registration): an OPTIONS to the AOR, sent through the registrar from a second socket, got no answer, 408, a 2xx the registered flow never saw, or another final response (404, 480, …).",
     inbound_unreachable_fixes},
}};

constexpr std::array<sv, 1> expires_raised_fixes{
    "Configure the registration interval to the value the server accepted."};
constexpr std::array<sv, 1> expires_reduced_fixes{
    "Nothing required; the phone re-registers more often than configured."};
constexpr std::array<sv, 3> nat_fixes{
    "Enable NAT traversal on the phone (STUN, rport, or a public address in Contact).",
    "Or enable NAT handling on the registrar (fix Contact from the source address).",
    "Disable SIP ALG on the router if it is rewriting headers badly."};
constexpr std::array<sv, 2> alg_fixes{
    "Disable SIP ALG (\"SIP helper\", \"SIP fixup\") on routers and firewalls in the path.",
    "Or use TLS so nothing in the path can rewrite SIP."};
constexpr std::array<sv, 1> realm_fixes{"Set the phone's realm to the server's, or leave it empty."};
constexpr std::array<sv, 1> cert_fixes{"Renew the registrar's certificate before it expires."};
constexpr std::array<sv, 2> mismatch_fixes{
    "Compare the phone's credentials with the server's challenge field by field.",
    "Check the phone's clock and firmware if the nonce or uri is wrong."};
constexpr std::array<sv, 1> extension_fixes{
    "Check which value the provider calls the authentication user; it often differs from "
    "the extension."};

constexpr std::array<sv, 2> unverified_fixes{
    "Fix what the reason names: renew an expired certificate, have it name the SIP domain "
    "(RFC 5922), or have it signed by a CA the phones trust.",
    "Or give the client the CA that signed it (--ca-file) and run without --insecure."};

constexpr std::array<sv, 4> nat_binding_short_fixes{
    "Have the phone send keep-alives more often than the NAT forgets: CRLF pings (RFC 5626 "
    "§4.4.1) or OPTIONS at the interval printed (\"NAT keep-alive\", \"UDP keep-alive\" in "
    "the phone's settings).",
    "Or re-register that often (a shorter Expires), if the registrar allows it.",
    "Or let the registrar keep it open: its NAT pings (Kamailio nathelper natping, Asterisk "
    "qualify) at the same interval.",
    "Or raise the router's UDP timeout (\"UDP session timeout\"), or use TCP/TLS with a "
    "registrar that sends requests back over the REGISTER's connection."};

constexpr std::array<sv, 2> nat_lifetime_unmeasured_fixes{
    "Measure how long the NAT keeps the binding: sipprobe register AOR --nat-lifetime (it takes "
    "minutes; --max-idle bounds it).",
    "Then have the phone send keep-alives or re-register more often than that."};

constexpr std::array<entry, 13> findings{{
    {"expires_raised", "Registration interval raised to the server's minimum",
     "The server answered 423 Interval Too Brief; retrying with its Min-Expires worked.",
     "423 with Min-Expires, then 200 OK to the retry that asked for Min-Expires.",
     expires_raised_fixes},
    {"expires_reduced", "Server granted a shorter expiry than requested",
     "The registration is valid for less time than asked for.",
     "The 200 OK grants our binding a shorter expiry than the REGISTER asked for.",
     expires_reduced_fixes},
    {"nat_private_contact", "Private address in Contact behind NAT",
     "The Contact holds a private address while the registrar saw another source address: "
     "registration works, but calls to this phone may fail.",
     "The Contact or Via holds a private address while Via received/rport (or the packet's source) shows another address.",
     nat_fixes},
    {"sip_alg_suspected", "SIP ALG suspected: the request was rewritten on the way",
     "Headers in the reply do not match what was sent (Via, Contact, branch, Call-ID or "
     "Content-Length): something in the path rewrites SIP.",
     "Via sent-by or branch, Call-ID, From tag or CSeq came back changed; the 200 OK lacks the Contact sent; Content-Length disagrees with the datagram; or the inbound check's OPTIONS reached the registered flow with its own Via's sent-by changed.",
     alg_fixes},
    {"realm_mismatch", "Configured realm differs from the server's",
     "The realm the user expected is not the one the server challenges with.",
     "The realm given with --realm differs from the realm of the server's challenge.",
     realm_fixes},
    {"stale_nonce", "Stale nonce refreshed",
     "The server said stale=true: the nonce had expired, not the password; the retry used "
     "the new nonce.",
     "401/407 with stale=true after credentials, answered with the new nonce.",
     no_fixes},
    {"srv_failover", "Failed over to another SRV target",
     "The first target failed and a lower-priority one served the request.",
     "A target failed (timeout, refusal, 503) and a later RFC 3263 target answered.",
     no_fixes},
    {"tls_certificate_expiring", "Registrar certificate expires soon",
     "The registrar's TLS certificate expires within 30 days.",
     "The registrar's certificate's notAfter is less than 30 days away.",
     cert_fixes},
    {"credential_mismatch", "Credentials do not fit the challenge",
     "The Authorization does not answer the challenge it follows: realm, nonce, uri or "
     "algorithm differ, or the digest response is wrong for the given password.",
     "(analyze) The Authorization's realm, nonce, uri, algorithm, qop or opaque does not fit the challenge it answers, or (with a password) its response is wrong.",
     mismatch_fixes},
    {"auth_user_looks_like_extension", "Authentication user looks like an extension",
     "The authentication username is all digits while the From user is not (or the reverse): "
     "the extension may have been entered where the auth user belongs.",
     "(analyze) On a failed attempt, the auth username is all digits and the From user is not, or the reverse.",
     extension_fixes},
    {"tls_certificate_unverified", "TLS certificate not verified (--insecure)",
     "The registrar's certificate failed verification (untrusted, self-signed, expired, or it "
     "does not name the SIP domain) and --insecure went on: the link is encrypted, but nothing "
     "proves it leads to the registrar. A phone that verifies fails with tls_failure.",
     "--insecure, and the server's certificate did not verify; the reason and the name checked are quoted.",
     unverified_fixes},
    {"nat_binding_short", "The NAT forgets an idle binding before the registration is refreshed",
     "Requests reached the binding right after it was registered, but no longer after it had "
     "been silent a while: the NAT in front of the phone dropped the mapping. Until the phone "
     "sends something again, calls to it are lost.",
     "--nat-lifetime: a binding silent for the printed time no longer received the registrar's OPTIONS, and the registrar granted a longer expiry than that.",
     nat_binding_short_fixes},
    {"nat_lifetime_unmeasured", "Calls may stop arriving once the NAT forgets the binding",
     "Requests reach the binding now, through a NAT, and the registrar expects a refresh only "
     "after longer than NATs usually keep an idle UDP mapping (30-120 s): unless the phone "
     "sends keep-alives, calls may be lost between refreshes. Not measured.",
     "The inbound check reached the binding over UDP, the registrar saw another source than the phone's own address (Via received/rport), and it granted more than 120 s.",
     nat_lifetime_unmeasured_fixes},
}};

constexpr std::array<diagnosis_code, 25> diagnosis_list{
    diagnosis_code::registered,          diagnosis_code::auth_failed,
    diagnosis_code::proxy_auth_failed,   diagnosis_code::auth_not_attempted,
    diagnosis_code::auth_unsupported,    diagnosis_code::forbidden,
    diagnosis_code::not_found,           diagnosis_code::interval_too_brief,
    diagnosis_code::temporarily_unavailable, diagnosis_code::service_unavailable,
    diagnosis_code::server_error,        diagnosis_code::redirected,
    diagnosis_code::unexpected_response, diagnosis_code::dns_failure,
    diagnosis_code::port_unreachable,    diagnosis_code::wrong_transport,
    diagnosis_code::no_response,         diagnosis_code::tls_failure,
    diagnosis_code::malformed_response,  diagnosis_code::unregistered,
    diagnosis_code::credentials_valid,   diagnosis_code::trace_incomplete,
    diagnosis_code::network_unreachable, diagnosis_code::interrupted,
    diagnosis_code::inbound_unreachable};

constexpr std::array<finding_code, 13> finding_list{
    finding_code::expires_raised,      finding_code::expires_reduced,
    finding_code::nat_private_contact, finding_code::sip_alg_suspected,
    finding_code::realm_mismatch,      finding_code::stale_nonce,
    finding_code::srv_failover,        finding_code::tls_certificate_expiring,
    finding_code::credential_mismatch, finding_code::auth_user_looks_like_extension,
    finding_code::tls_certificate_unverified, finding_code::nat_binding_short,
    finding_code::nat_lifetime_unmeasured};

// clang-format on
// describe() indexes the tables by enumerator: each list holds every enumerator in order.
constexpr bool in_enum_order(const auto& list) {
  for (std::size_t i = 0; i < list.size(); ++i)
    if (static_cast<std::size_t>(list[i]) != i) return false;
  return true;
}
static_assert(in_enum_order(diagnosis_list) && diagnosis_list.size() == diagnoses.size());
static_assert(in_enum_order(finding_list) && finding_list.size() == findings.size());
static_assert(static_cast<std::size_t>(diagnosis_code::inbound_unreachable) + 1 == diagnoses.size());
static_assert(static_cast<std::size_t>(finding_code::nat_lifetime_unmeasured) + 1 == findings.size());

}  // namespace

const entry& describe(diagnosis_code c) noexcept { return diagnoses[static_cast<std::size_t>(c)]; }
const entry& describe(finding_code c) noexcept { return findings[static_cast<std::size_t>(c)]; }

std::optional<diagnosis_code> diagnosis_from_string(std::string_view code) noexcept {
  for (auto c : diagnosis_list)
    if (describe(c).code == code) return c;
  return std::nullopt;
}

std::optional<finding_code> finding_from_string(std::string_view code) noexcept {
  for (auto c : finding_list)
    if (describe(c).code == code) return c;
  return std::nullopt;
}

std::span<const diagnosis_code> all_diagnoses() noexcept { return diagnosis_list; }
std::span<const finding_code> all_findings() noexcept { return finding_list; }

diagnosis_code classify_response(const response_outcome& r) noexcept {
  const int s = r.status;
  if (s >= 200 && s < 300) {
    if (r.removal) return diagnosis_code::unregistered;
    return r.query ? diagnosis_code::credentials_valid : diagnosis_code::registered;
  }
  if (s >= 300 && s < 400) return diagnosis_code::redirected;
  switch (s) {
    case 401:
      // A first 401 is normal; after credentials it is the "401 loop", unless the server
      // only said the nonce was stale (RFC 7616 §3.3).
      if (!r.sent_authorization) return diagnosis_code::auth_not_attempted;
      return r.stale ? diagnosis_code::unexpected_response : diagnosis_code::auth_failed;
    case 407:
      if (!r.sent_proxy_authorization) return diagnosis_code::auth_not_attempted;
      return r.stale ? diagnosis_code::unexpected_response : diagnosis_code::proxy_auth_failed;
    case 403: return diagnosis_code::forbidden;
    case 404: return diagnosis_code::not_found;
    case 423: return diagnosis_code::interval_too_brief;
    case 480: return diagnosis_code::temporarily_unavailable;
    case 503: return diagnosis_code::service_unavailable;
    default: break;
  }
  if (s >= 500 && s < 600) return diagnosis_code::server_error;
  if (s == 0) return diagnosis_code::no_response;
  return diagnosis_code::unexpected_response;
}

diagnosis_code classify_network(const network_outcome& n) noexcept {
  if (!n.dns_resolved) return diagnosis_code::dns_failure;
  if (n.tls_failed) return diagnosis_code::tls_failure;
  if (n.malformed_reply) return diagnosis_code::malformed_response;
  // Another transport answering is the most actionable fact: switching fixes it, whether
  // the configured one was refused or silent.
  if (n.other_transport_answered) return diagnosis_code::wrong_transport;
  if (n.refused) return diagnosis_code::port_unreachable;
  if (n.unreachable) return diagnosis_code::network_unreachable;
  return diagnosis_code::no_response;
}

bool is_success(diagnosis_code c) noexcept {
  return c == diagnosis_code::registered || c == diagnosis_code::unregistered || c == diagnosis_code::credentials_valid;
}

std::string_view verdict_for(diagnosis_code c) noexcept { return is_success(c) ? describe(c).code : "failed"; }

int exit_status_for(diagnosis_code c) noexcept { return is_success(c) ? 0 : 1; }

void add_finding(std::vector<finding>& list, finding f) {
  for (auto& g : list) {
    if (g.code != f.code) continue;
    if (f.detail.empty() || g.detail.find(f.detail) != std::string::npos) return;
    g.detail += g.detail.empty() ? f.detail : "; " + f.detail;
    return;
  }
  list.push_back(std::move(f));
}

}  // namespace probe
