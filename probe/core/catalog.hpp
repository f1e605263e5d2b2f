// probe/core/catalog.hpp — the diagnosis catalog (docs/catalog.md is generated from it): one table serving
// register, diagnose, batch and analyze.
//
// A run ends in exactly one primary diagnosis and any number of findings. Codes are
// stable identifiers (JSON, exit-status docs, tests): never rename one, add new ones.
// The decision functions are pure: they take what was observed and return a code.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace probe {

enum class diagnosis_code {
  registered,
  auth_failed,
  proxy_auth_failed,
  auth_not_attempted,
  auth_unsupported,
  forbidden,
  not_found,
  interval_too_brief,
  temporarily_unavailable,
  service_unavailable,
  server_error,
  redirected,
  unexpected_response,
  dns_failure,
  port_unreachable,
  wrong_transport,
  no_response,
  tls_failure,
  malformed_response,
  unregistered,
  credentials_valid,
  trace_incomplete,
  network_unreachable,
  interrupted,
  inbound_unreachable,
};

enum class finding_code {
  expires_raised,
  expires_reduced,
  nat_private_contact,
  sip_alg_suspected,
  realm_mismatch,
  stale_nonce,
  srv_failover,
  tls_certificate_expiring,
  credential_mismatch,
  auth_user_looks_like_extension,
  tls_certificate_unverified,
  nat_binding_short,
  nat_lifetime_unmeasured,
};

// The fixed text of one catalog entry.
struct entry {
  std::string_view code;
  std::string_view title;                   // one line
  std::string_view explanation;             // what it means, in plain words
  std::string_view trigger;                 // what was observed that leads to it (docs/catalog.md)
  std::span<const std::string_view> fixes;  // ordered, concrete steps (may be empty)
};

const entry& describe(diagnosis_code c) noexcept;
const entry& describe(finding_code c) noexcept;
std::optional<diagnosis_code> diagnosis_from_string(std::string_view code) noexcept;
std::optional<finding_code> finding_from_string(std::string_view code) noexcept;
std::span<const diagnosis_code> all_diagnoses() noexcept;
std::span<const finding_code> all_findings() noexcept;

// A diagnosis with the facts that triggered it, filled in at run time.
struct diagnosis {
  diagnosis_code code = diagnosis_code::unexpected_response;
  std::vector<std::string> evidence;
};

struct finding {
  finding_code code;
  std::string detail;
};

// Adds f to `list`; when a finding of its code is listed already, f's detail joins that
// one's instead ("; ", unless it says the same): a report names each finding once, with
// everything that led to it.
void add_finding(std::vector<finding>& list, finding f);

// What the last REGISTER of an attempt got back (active or from a trace).
struct response_outcome {
  int status = 0;                         // final status code; 0 when none arrived
  bool sent_authorization = false;        // the request carried Authorization
  bool sent_proxy_authorization = false;  // … or Proxy-Authorization
  bool stale = false;                     // the challenge said stale=true
  bool min_expires_unusable = false;      // 423 without Min-Expires, or 423 after using it
  bool removal = false;                   // the request removed bindings (Expires 0, Contact: *)
  bool query = false;                     // the request had no Contact: a binding query
};

// Maps a final response to the primary diagnosis (RFC 3261 §21 classes). A 2xx is
// `registered`, or `unregistered` for a removal and `credentials_valid` for a binding query
// (RFC 3261 §10.2.2, §10.2.3). A 401/407 after credentials is the "401 loop" — unless
// stale=true, which means the nonce, not the password, was refused; a challenge never
// answered is auth_not_attempted.
diagnosis_code classify_response(const response_outcome& r) noexcept;

// What the network said when no SIP final response settled the question.
struct network_outcome {
  bool dns_resolved = true;
  bool tls_failed = false;                // handshake or certificate verification failed
  bool malformed_reply = false;           // bytes came back but were not SIP
  bool refused = false;                   // ICMP port unreachable or TCP RST
  bool other_transport_answered = false;  // another transport to the same target replied
  bool unreachable = false;               // every target: no route (network or host unreachable)
};

// The catalog's network-level reasoning: DNS first, then what came back; no route to any
// target comes before silence (the request never left, or a router said so: no firewall
// swallowed it). One target without a route (an IPv6 address on an IPv4-only host) while
// another stays silent is silence.
diagnosis_code classify_network(const network_outcome& n) noexcept;

// The request did what it was sent for: registered, unregistered (a removal) or
// credentials_valid (a query). Everything else is a problem the report explains.
bool is_success(diagnosis_code c) noexcept;

// The "verdict" of the JSON documents: the code itself for a success, else "failed".
std::string_view verdict_for(diagnosis_code c) noexcept;

// Exit status of a run whose primary diagnosis is `c`: 0 for a success, 1 anything else.
int exit_status_for(diagnosis_code c) noexcept;

}  // namespace probe
