// probe/analyze/txn.hpp — an attempt's messages paired into transactions, shared by the
// diagnosis (diagnose.cpp) and the findings (findings.cpp). Internal to
// `sipprobe analyze`.
#pragma once

#include "probe/analyze/attempts.hpp"
#include "probe/analyze/diagnose.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace probe::analyze {

// One REGISTER and what came back to it (pointers into the attempt's messages).
struct txn {
  const kept_message* req = nullptr;
  const kept_message* final = nullptr;
  std::vector<const kept_message*> provisional;
  const kept_message* challenge = nullptr;    // the 401/407 the request's credentials answer
  const kept_message* malformed = nullptr;    // the last reply to it that is not valid SIP
  const kept_message* unreachable = nullptr;  // an ICMP port unreachable quoting it
  // Final responses after the first: the transaction was complete, a phone discards them
  // (RFC 3261 §17.1.1.2), so they decide nothing; the evidence names them.
  std::vector<const kept_message*> late_finals;

  // The request removes bindings (Expires 0, Contact: *): nothing is registered by it.
  bool removal() const;
};

// Pairs requests and their answers: top Via branch, else CSeq, else order (pasted traces).
std::vector<txn> pair_messages(const attempt& a);

// One line of the ladder for a message ("REGISTER sip:… (CSeq 2, …)", "401 Unauthorized
// (…)", "reply that is not valid SIP …", "ICMP port unreachable …").
std::string summary(const kept_message& k);

std::string quoted(std::string_view s);

// The findings of an attempt whose primary diagnosis is r.primary.code: credentials
// against the challenge they answer (and the secret, which adds evidence), auth user vs
// From user, NAT and rewriting in the path, 423 handling, a shorter grant, stale nonces.
// Transactions that remove bindings draw no NAT, rewriting or expiry finding.
void add_findings(const attempt& a, const std::vector<txn>& txns, const diagnose_options& o, attempt_result& r);

}  // namespace probe::analyze
