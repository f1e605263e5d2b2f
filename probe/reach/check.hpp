// probe/reach/check.hpp — "does anything answer there?": for each (target, transport), connect,
// send OPTIONS, wait for any SIP response, all in parallel within one deadline.
//
// Any SIP response counts as reachable (even 4xx): the question is whether a SIP server
// listens, not whether it likes us. UDP OPTIONS are retransmitted on Timer E.
#pragma once

#include "netcheck/rfc3263.hpp"
#include "netcheck/tls_report.hpp"
#include "netcheck/transport.hpp"
#include "netcheck/verdict.hpp"
#include "probe/core/catalog.hpp"
#include "probe/core/report.hpp"
#include "probe/reach/transaction.hpp"
#include "sip/random.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace probe::reach {

// One check's outcome. `verdict` is ok, refused, no_answer, tls_error, bad_reply or
// unreachable: a peer that hung up without a word (closed) and a local failure (error)
// are no_answer.
struct target_check {
  netcheck::target target;
  netcheck::probe_verdict verdict = netcheck::probe_verdict::no_answer;
  std::string detail;  // one line: what happened
  double connect_ms = -1, handshake_ms = -1, rtt_ms = -1;
  int retransmissions = 0;
  int status = 0;  // the OPTIONS answer
  std::string reason;
  std::string server;  // Server (or User-Agent) of the answer
  std::vector<std::string> allow;
  std::string local;                   // our address:port
  std::string received;                // Via received= the server saw
  std::optional<std::uint16_t> rport;  // Via rport= the server saw
  std::optional<netcheck::tls_report> tls;
};

struct check_settings {
  std::chrono::milliseconds timeout{10000};
  // The name every TLS certificate must hold: the SIP domain (or host) the user asked for
  // (RFC 5922 §4), not the SRV target a target came from. Empty: each target's own host.
  std::string server_name;
  sip_timers timers;
  netcheck::flow_options flow;  // --bind
  std::function<void(std::string_view, std::string_view)> trace;
};

// Checks every target in parallel; `done` gets the checks in the order of `targets`.
// `tls` may be null when no target is TLS; everything must outlive the operation.
void async_reach(boost::asio::io_context& io, sip::id_factory& ids, netcheck::tls_context* tls,
                 std::vector<netcheck::target> targets, const check_settings& settings,
                 std::function<void(std::vector<target_check>)> done);

// The catalog's network-level reasoning over checks that failed, or nullopt when every
// check answered. `configured` limits which checks count as "the phone's": the others
// only prove that another transport answers (wrong_transport).
std::optional<diagnosis> diagnosis_from(const std::vector<target_check>& checks);

// Findings from the checks (tls_certificate_expiring).
std::vector<finding> findings_from(const std::vector<target_check>& checks);

nlohmann::json to_json(const target_check& c);
nlohmann::json tls_to_json(const netcheck::tls_report& t);

// One line on why TLS failed: the verification verdict and reason (and the name checked),
// or the handshake error. Shared by reach and register so both say it the same way.
std::string tls_failure_detail(std::error_code ec, const netcheck::tls_report& tls);

// One line on a failed connect/send/receive that says what it means, shared by reach and
// register: no route ("the request never left this host"), a peer that hung up without a
// word, or the system's own message for anything else.
std::string network_error_detail(std::error_code ec);

// No route to the target: network or host unreachable (ENETUNREACH, EHOSTUNREACH).
bool is_unreachable(std::error_code ec) noexcept;

// tls_certificate_expiring when the certificate of `endpoint` expires within 30 days.
std::optional<finding> certificate_expiry_finding(const std::string& endpoint, const netcheck::tls_report& tls);

// tls_certificate_unverified when --insecure completed a handshake whose certificate did
// not verify: the reason and the name checked, so the skipped check is never silent.
std::optional<finding> unverified_certificate_finding(const std::string& endpoint, const netcheck::tls_report& tls);

// What the report keeps of a TLS connection (probe/core/report.hpp tls_record).
tls_record tls_record_of(const std::string& endpoint, const netcheck::tls_report& tls);

}  // namespace probe::reach
