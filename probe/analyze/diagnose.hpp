// probe/analyze/diagnose.hpp — the catalog applied to one registration attempt of a trace.
//
// diagnose() is pure: it reads the messages of an attempt (probe/analyze/attempts.hpp)
// and returns a bounded summary — the ladder lines, the REGISTER transactions, the
// primary diagnosis with its evidence and the findings — that no longer refers to the
// messages.
//
// Requests and responses are paired by top Via branch, else CSeq, else order (pasted
// traces). The outcome is that of the last transaction: its final status goes through
// probe::classify_response (a removal answered 2xx is `unregistered`, a REGISTER without
// Contact `credentials_valid`; a 401/407 after credentials whose challenge says
// stale=true or whose reason names the nonce is not `auth_failed`). Without a final
// status: an ICMP port unreachable quoting the request is `port_unreachable`, a reply that
// is not valid SIP `malformed_response` (probe::classify_network); else
// `trace_incomplete` when the trace stops before the request's Timer F could fire (64*T1
// = 32 s after it was first sent, RFC 3261 §17.1.2.2; without times, when a UDP request
// was sent fewer than the 11 times of its whole Timer E schedule, or over TCP), and
// `no_response` otherwise. Findings: credentials
// against the challenge they answer (credential_mismatch; with a secret, whether it
// produces the response the phone sent), auth user vs From user
// (auth_user_looks_like_extension, on failed attempts), NAT (nat_private_contact via
// probe::check_nat, from Via received/rport or the packet's source address), rewriting in
// the path (sip_alg_suspected via probe::check_rewrites, plus Contact missing from the 200
// and Content-Length against the datagram), 423 handling (expires_raised), a shorter
// grant (expires_reduced) and stale nonces (stale_nonce).
#pragma once

#include "probe/analyze/attempts.hpp"
#include "probe/core/report.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace probe::analyze {

// One line of the ladder.
struct message_line {
  double time = -1;
  bool absolute_time = false;
  std::string src, dst, transport;
  std::string summary;  // "REGISTER sip:example.com (CSeq 2, Authorization user 1001)"
  std::string where;    // position in the trace
  int repeats = 0;      // retransmissions of it that followed
};

struct attempt_result {
  std::uint64_t serial = 0;
  std::uint64_t last_seq = 0;
  std::string call_id;
  std::string aor;  // To URI
  double first_time = -1, last_time = -1;
  bool absolute_time = false;
  std::vector<message_line> messages;
  std::size_t messages_dropped = 0;
  diagnosis primary;
  // The refusal named the nonce (stale=true, or a reason like "nonce has changed") rather
  // than the password; with the user and realm of the last credentials sent, so that the
  // report can point at a later success of the same user.
  bool nonce_refused = false;
  std::string auth_user, auth_realm;
  std::vector<finding> findings;
  std::vector<transaction_record> transactions;
  std::optional<registration_record> registration;
};

// The secret to check the captured digest responses with (optional).
struct diagnose_options {
  std::string password;  // empty: none given
  std::string ha1;       // hex HA1 instead of a password
  std::string secret_source;
  bool has_secret() const noexcept { return !password.empty() || !ha1.empty(); }
};

attempt_result diagnose(const attempt& a, const diagnose_options& o);

// Only the primary diagnosis code of diagnose(): the same pairing and decision, without
// the evidence, ladder and findings — cheap enough for every attempt of a huge trace.
diagnosis_code classify(const attempt& a);

// "2024-05-01T10:00:00.123456Z" (absolute), "10:00:00.123456" (time of day), "" unknown.
std::string format_time(double t, bool absolute);

}  // namespace probe::analyze
