// The catalog applied to one attempt (see diagnose.hpp): pairing, the decision,
// the ladder and the evidence. The findings are in findings.cpp.
#include "probe/analyze/diagnose.hpp"

#include "probe/analyze/headers.hpp"
#include "probe/analyze/txn.hpp"

#include "sip/headers.hpp"
#include "sip/parse.hpp"
#include "sip/scan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

namespace probe::analyze {
namespace {

// RFC 3261 §17.1.2.2: Timer F (64*T1) ends a non-INVITE client transaction that got no
// final response, over UDP and TCP alike; over UDP, Timer E sends the request 11 times
// before it fires (at 0, 0.5, 1.5, 3.5, 7.5, then every T2 = 4 s up to 31.5 s).
constexpr double timer_f_seconds = 32;
constexpr int udp_transmissions_before_timer_f = 11;

// What a reply that is not SIP looks like: its first line, cut, anything but printable
// ASCII shown as '.' (as ngrep does).
std::string excerpt(std::string_view bytes) {
  std::string out;
  for (const char c : bytes.substr(0, std::min<std::size_t>(bytes.find_first_of("\r\n"), 60)))
    out += c >= 0x20 && c < 0x7f ? c : '.';
  return out;
}

// A Content-Length past the end of a datagram (RFC 3261 §18.3: the phone discards it),
// from a plain scan; nullopt when it fits, over TCP, or when there is none.
std::optional<std::string> length_past_datagram(const kept_message& k) {
  const auto raw = k.msg.raw();
  const auto head_end = raw.find("\r\n\r\n");
  const auto cl = sip::parse_decimal(scan_header(raw, "Content-Length", "l"), 1u << 30);
  if (k.transport.view() != "udp" || head_end == std::string_view::npos || !cl) return {};
  const std::size_t body = raw.size() - (head_end + 4);
  if (*cl <= body) return {};
  return "Content-Length " + std::to_string(*cl) + " but the datagram carries " + std::to_string(body) +
         " body bytes: a phone discards it (RFC 3261 §18.3)";
}

// Why a reply is not valid SIP: what a phone's strict parser says (RFC 3261 §7, §18.3).
std::string reply_problem(const kept_message& k) {
  const auto raw = k.msg.raw();
  if (k.msg.kind() == reply_kind::unreachable) return "ICMP port unreachable";
  sip::message_view v;
  const auto r = sip::parse(raw, v, sip::framing::datagram);
  std::string why = r.ec && r.ec != sip::errc::body_truncated ? r.ec.message() + " at line " + std::to_string(r.line) : "";
  if (auto past = length_past_datagram(k)) why += (why.empty() ? "" : "; ") + *past;
  if (why.empty()) why = "not a SIP response";
  return why + "; it starts \"" + excerpt(raw) + "\"";
}

// What the last transaction got back; the catalog decides from it.
response_outcome outcome_of(const txn& last) {
  response_outcome out;
  if (!last.final) return out;
  // The kept facts first; the whole message is parsed only for what they do not say.
  out.status = last.final->msg.status();
  out.sent_authorization = last.req && last.req->msg.has_authorization();
  out.sent_proxy_authorization = last.req && last.req->msg.has_proxy_authorization();
  if (out.status >= 200 && out.status < 300 && last.req) {
    out.query = !last.req->msg.has_contact();
    out.removal = last.removal();
  }
  if (out.status == 401 || out.status == 407) {
    if (last.final->msg.may_be_stale())
      for (const auto& ch : challenges(*last.final->msg)) out.stale = out.stale || ch.stale;
    // A reason such as "nonce has changed" refuses the nonce as stale=true does.
    out.stale = out.stale || reason_names_nonce(last.final->msg.raw());
  }
  if (out.status == 423) {
    std::uint32_t min = 0;
    out.min_expires_unusable = sip::get::min_expires(*last.final->msg, min) ||
                               (last.req && requested_expires(*last.req->msg) >= min);
  }
  return out;
}

// Whether the trace stops before the request's Timer F could have fired; `after_ms` how
// long after the request it stops (<0 when the trace has no times).
bool cut_short(const attempt& a, const txn& last, double& after_ms) {
  after_ms = -1;
  if (!last.req) return false;
  if (last.req->time >= 0 && a.trace_end >= 0) {
    after_ms = (a.trace_end - last.req->time) * 1000.0;
    return a.trace_end - last.req->time < timer_f_seconds;
  }
  // No times: only the phone's own retransmissions show how long it waited.
  const auto tr = last.req->transport.view();
  if (tr == "tcp" || tr == "tls") return true;
  return last.req->repeats + 1 < udp_transmissions_before_timer_f;
}

diagnosis_code decide(const attempt& a, const std::vector<txn>& txns) {
  if (txns.empty()) return diagnosis_code::no_response;
  const txn& last = txns.back();
  if (last.final) return classify_response(outcome_of(last));
  if (last.malformed || last.unreachable) {
    network_outcome n;
    n.malformed_reply = last.malformed != nullptr;
    n.refused = last.unreachable != nullptr;
    return classify_network(n);
  }
  double after_ms = 0;
  return cut_short(a, last, after_ms) ? diagnosis_code::trace_incomplete : diagnosis_code::no_response;
}

std::string when_and_where(const kept_message& k) {
  auto t = format_time(k.time, k.absolute_time);
  return t.empty() ? " (" + k.where() + ")" : " at " + t + " (" + k.where() + ")";
}

std::string request_name(const txn& t) {
  return t.req && t.req->cseq ? "REGISTER (CSeq " + std::to_string(t.req->cseq) + ")" : std::string("REGISTER");
}

transaction_record transaction_of(const txn& t) {
  transaction_record tr;
  tr.request = t.req ? std::string(t.req->msg->method) : "REGISTER";
  tr.cseq = t.req ? t.req->cseq : (t.final ? t.final->cseq : 0);
  const kept_message* any = t.req ? t.req : t.final;
  if (any) tr.transport = any->transport;
  if (t.req) tr.local = t.req->src, tr.remote = t.req->dst, tr.retransmissions = t.req->repeats;
  else if (t.final) tr.local = t.final->dst, tr.remote = t.final->src, tr.note = "request not in the trace";
  if (t.req) {
    bool proxy = false;
    if (auto cr = credentials(*t.req->msg, &proxy))
      tr.note = std::string(proxy ? "Proxy-Authorization" : "Authorization") + " user " + quoted(cr->username) + ", " +
                std::string(sip::to_string(cr->algorithm));
  }
  for (const auto* p : t.provisional) tr.provisional.push_back(p->msg->status);
  if (t.final) {
    tr.status = t.final->msg->status;
    tr.reason = std::string(t.final->msg->reason);
    if (t.req && t.req->time >= 0 && t.final->time >= 0) tr.rtt_ms = (t.final->time - t.req->time) * 1000.0;
  } else if (t.unreachable) {
    tr.reason = "ICMP port unreachable";
  } else if (t.malformed) {
    tr.reason = "a reply that is not valid SIP";
  } else {
    tr.reason = "no response in the trace";
  }
  return tr;
}

// The line that says what came back as the final response, and where.
void final_evidence(const txn& last, std::vector<std::string>& ev) {
  const auto& fm = *last.final->msg;
  std::string line = std::to_string(fm.status) + " " + std::string(fm.reason) + " to " + request_name(last);
  if (!last.final->src.empty()) line += " from " + last.final->src.str();
  ev.push_back(line + when_and_where(*last.final));
  if (!last.req) ev.push_back("the REGISTER it answers is not in the trace (capture started later?)");
}

// The replies that are not valid SIP since the request, in order: one line for each
// kind of problem (junk, then a mangled response, …), with how many replies had it.
void malformed_evidence(const attempt& a, const kept_message& req, std::vector<std::string>& ev) {
  std::vector<std::pair<std::string, int>> problems;  // line, replies
  for (const auto& k : a.messages) {
    if (k.msg.kind() != reply_kind::malformed || k.seq < req.seq) continue;
    const std::string problem = reply_problem(k);
    auto same = std::find_if(problems.begin(), problems.end(), [&](const auto& p) { return p.first.ends_with(": " + problem); });
    if (same != problems.end()) {
      same->second += k.repeats + 1;
      continue;
    }
    if (problems.size() == 4) continue;  // enough to show what breaks
    problems.push_back({"a reply that is not valid SIP" + (k.src.empty() ? std::string() : " from " + k.src.str()) +
                            when_and_where(k) + ": " + problem,
                        k.repeats + 1});
  }
  for (const auto& [line, n] : problems) ev.push_back(n > 1 ? line + " (" + std::to_string(n) + " such replies)" : line);
}

// The lines that say what happened to a request without a final response.
void unanswered_evidence(const attempt& a, const std::vector<txn>& txns, diagnosis_code code, std::vector<std::string>& ev) {
  const txn& last = txns.back();
  if (!last.req) return;
  std::string line = request_name(last);
  if (!last.req->dst.empty()) line += " to " + last.req->dst.str();
  line += " sent " + std::to_string(last.req->repeats + 1) + " time" + (last.req->repeats ? "s" : "") + " (" +
          std::to_string(last.req->repeats) + " retransmission" + (last.req->repeats == 1 ? "" : "s") + ")";
  if (last.req->repeats > 0 && last.req->time >= 0 && last.req->last_repeat >= 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " over %.1f s", last.req->last_repeat - last.req->time);
    line += buf;
  }
  ev.push_back(line + ", and no final response in the trace");
  if (last.unreachable) {
    const auto& u = *last.unreachable;
    ev.push_back("ICMP port unreachable" + (u.src.empty() ? std::string() : " for " + u.src.str()) + when_and_where(u) +
                 (u.repeats ? ", " + std::to_string(u.repeats + 1) + " times (one per transmission)" : std::string()) +
                 ": the host is up, nothing listens on that port");
  }
  if (last.malformed) malformed_evidence(a, *last.req, ev);
  if (!last.provisional.empty())
    ev.push_back("only a provisional " + std::to_string(last.provisional.back()->msg->status) +
                 " came back: the request reached the registrar, so look at it and what it waits for (its log, its"
                 " auth backend or database) before the network");
  if (code == diagnosis_code::trace_incomplete) {
    double after_ms = 0;
    (void)cut_short(a, last, after_ms);
    if (after_ms >= 0)
      ev.push_back("the capture stops " + std::to_string(std::llround(after_ms)) +
                   " ms after the request, before its Timer F (32 s, RFC 3261 §17.1.2.2) could fire: nothing shows whether an "
                   "answer came later; capture longer");
    else
      ev.push_back("the trace has no times and shows the request sent " + std::to_string(last.req->repeats + 1) +
                   " time(s), fewer than the 11 a phone sends over UDP before it gives up (RFC 3261 Timer E, F): nothing shows "
                   "whether an answer came later; capture longer, with times");
  }
  if (txns.size() > 1) ev.push_back("earlier in this attempt: " + std::to_string(txns.size() - 1) + " transaction(s) answered");
}

// Lines that only some codes have.
void code_evidence(const attempt& a, const std::vector<txn>& txns, diagnosis_code code, std::vector<std::string>& ev) {
  const txn& last = txns.back();
  std::size_t rejected_after_creds = 0;
  for (const auto& t : txns)
    if (t.req && t.final && t.challenge && (t.final->msg->status == 401 || t.final->msg->status == 407)) ++rejected_after_creds;
  switch (code) {
    case diagnosis_code::auth_failed:
    case diagnosis_code::proxy_auth_failed: {
      bool proxy = false;
      if (auto cr = last.req ? credentials(*last.req->msg, &proxy) : std::nullopt)
        ev.push_back("the rejected REGISTER carried " + std::string(proxy ? "Proxy-Authorization" : "Authorization") +
                     " for user " + quoted(cr->username) + ", realm " + quoted(cr->realm));
      if (rejected_after_creds > 1)
        ev.push_back(std::to_string(rejected_after_creds) +
                     " challenges in a row after credentials were sent (the \"401 loop\")");
      break;
    }
    case diagnosis_code::auth_not_attempted:
      ev.push_back("no REGISTER with credentials followed the challenge in the trace");
      if (a.last_time >= 0 && last.final && last.final->time >= 0 && a.last_time - last.final->time < 1)
        ev.push_back("the trace of this attempt ends right after the challenge: capture longer if the phone may still answer");
      break;
    case diagnosis_code::interval_too_brief: {
      std::uint32_t min = 0;
      if (last.final && !sip::get::min_expires(*last.final->msg, min))
        ev.push_back("the registrar wants at least " + std::to_string(min) + " s (Min-Expires); the phone asked for " +
                     std::to_string(last.req ? requested_expires(*last.req->msg) : -1) + " s");
      else ev.push_back("the 423 carries no Min-Expires");
      break;
    }
    case diagnosis_code::service_unavailable: {
      sip::retry_after ra;
      if (last.final && !sip::get::retry_after(*last.final->msg, ra))
        ev.push_back("Retry-After: " + std::to_string(ra.seconds) + " s");
      break;
    }
    case diagnosis_code::redirected:
      if (auto c = last.final ? first_contact(*last.final->msg) : std::nullopt)
        ev.push_back("redirected to " + std::string(c->uri_text));
      break;
    default: break;
  }
}

// RFC 7616 §3.3: a 401/407 after credentials that refuses the nonce (stale=true, or a
// reason that names it) says nothing against the password.
bool nonce_evidence(const txn& last, std::vector<std::string>& ev) {
  if (!last.final || !last.req || !(last.req->msg.has_authorization() || last.req->msg.has_proxy_authorization())) return false;
  const int s = last.final->msg.status();
  if (s != 401 && s != 407) return false;
  bool stale = false;
  for (const auto& ch : challenges(*last.final->msg)) stale = stale || ch.stale;
  const bool named = reason_names_nonce(last.final->msg.raw());
  if (!stale && !named) return false;
  const std::string status = std::to_string(s) + " " + std::string(last.final->msg->reason);
  ev.push_back("the " + status + " after credentials " + (stale ? std::string("says stale=true") : "names the nonce") +
               ": the registrar refused the nonce, not necessarily the password (RFC 7616 §3.3); the phone did not answer "
               "with the new nonce in this attempt");
  return true;
}

// A registrar that answered one REGISTER twice: the first final response decided, the
// others (named here) were discarded by the phone (RFC 3261 §17.1.1.2).
void late_final_evidence(const std::vector<txn>& txns, std::vector<std::string>& ev) {
  for (const auto& t : txns) {
    if (t.late_finals.empty() || !t.final) continue;
    const auto status_of = [](const kept_message& k) { return std::to_string(k.msg->status) + " " + std::string(k.msg->reason); };
    std::string late;
    for (const auto* k : t.late_finals) late += (late.empty() ? "" : ", ") + status_of(*k);
    ev.push_back(late + " after " + status_of(*t.final) + " to the same REGISTER" +
                 (t.final->cseq ? " (CSeq " + std::to_string(t.final->cseq) + ")" : std::string()) +
                 ": the first final response completes the transaction and a phone discards the rest (RFC 3261 "
                 "§17.1.1.2); a registrar that answers twice is misconfigured (e.g. Kamailio's `if "
                 "(!save(\"location\")) sl_reply_error();`, where save() has already replied)");
  }
}

// What the registrar holds after a success: the bindings its 2xx lists, the expiry it
// granted ours (a registration), or none (a removal or a query).
registration_record registration_of(const txn& last, diagnosis_code code) {
  registration_record reg;
  reg.requested_expires = last.req && code != diagnosis_code::credentials_valid ? requested_expires(*last.req->msg) : -1;
  const bool registering = code == diagnosis_code::registered;
  std::optional<sip::name_addr> ours = registering && last.req ? first_contact(*last.req->msg) : std::nullopt;
  std::vector<sip::name_addr> cs;
  bool star = false;
  std::uint32_t hdr_expires = 0;
  const bool has_hdr_expires = !sip::get::expires(*last.final->msg, hdr_expires);
  if (!sip::get::contacts(*last.final->msg, cs, star)) {
    for (const auto& c : cs) {
      binding_record b;
      b.contact = std::string(c.uri_text);
      b.expires = c.expires() ? *c.expires() : (has_hdr_expires ? hdr_expires : -1);
      b.ours = ours && contact_key(c) == contact_key(*ours);
      if (registering && (b.ours || (cs.size() == 1 && !ours))) reg.expires = b.expires;
      reg.bindings.push_back(std::move(b));
    }
  }
  if (registering && reg.expires < 0 && has_hdr_expires) reg.expires = hdr_expires;
  return reg;
}

}  // namespace

bool txn::removal() const { return req && req->msg.may_remove() && is_removal(*req->msg); }

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string summary(const kept_message& k) {
  if (k.msg.kind() == reply_kind::unreachable)
    return "ICMP port unreachable (quoting " + (k.cseq ? "REGISTER CSeq " + std::to_string(k.cseq) : std::string("the request")) +
           ")";
  if (k.msg.kind() == reply_kind::malformed)
    return "reply that is not valid SIP (" + std::to_string(k.msg.raw().size()) + " bytes): \"" + excerpt(k.msg.raw()) + "\"";
  const auto& m = *k.msg;
  std::string s;
  std::string extra;
  if (k.cseq) extra = "CSeq " + std::to_string(k.cseq);
  auto add = [&extra](const std::string& more) { extra += (extra.empty() ? "" : ", ") + more; };
  if (m.is_request()) {
    s = std::string(m.method) + " " + std::string(m.request_uri);
    bool proxy = false;
    if (auto cr = credentials(m, &proxy))
      add(std::string(proxy ? "Proxy-Authorization" : "Authorization") + " user " + quoted(cr->username));
    if (auto e = requested_expires(m); e >= 0) add("expires " + std::to_string(e));
  } else {
    s = std::to_string(m.status) + (m.reason.empty() ? "" : " " + std::string(m.reason));
    if (m.status == 401 || m.status == 407) {
      auto chs = challenges(m);
      if (!chs.empty()) add("realm " + quoted(chs.front().realm) + (chs.front().stale ? ", stale" : ""));
    }
    std::uint32_t n = 0;
    if (m.status == 423 && !sip::get::min_expires(m, n)) add("Min-Expires " + std::to_string(n));
  }
  if (!extra.empty()) s += " (" + extra + ")";
  return s;
}

std::vector<txn> pair_messages(const attempt& a) {
  std::vector<txn> txns;
  txns.reserve(a.messages.size());  // at most one each: no regrowth, once per attempt
  const kept_message* last_challenge = a.carried_challenge ? &*a.carried_challenge : nullptr;
  for (const auto& k : a.messages) {
    // Only the facts kept with every message: classify() runs this for every attempt.
    const auto& m = k.msg;
    if (m.is_request()) {
      txn t;
      t.req = &k;
      if (m.has_authorization() || m.has_proxy_authorization()) t.challenge = last_challenge;
      txns.push_back(std::move(t));
      continue;
    }
    const int status = m.status();
    if (status == 401 || status == 407) last_challenge = &k;
    txn* match = nullptr;
    for (auto it = txns.rbegin(); it != txns.rend() && !match; ++it) {
      if (!it->req) continue;
      if (!k.branch().empty() && !it->req->branch().empty()) {
        if (it->req->branch() == k.branch() && (k.cseq == 0 || it->req->cseq == k.cseq)) match = &*it;
      } else if (k.cseq != 0 && it->req->cseq != 0) {
        if (it->req->cseq == k.cseq) match = &*it;
      } else if (!it->final) {
        match = &*it;
      }
    }
    if (m.kind() != reply_kind::sip) {
      // A reply that is not SIP answers the request it names, else the last one.
      if (match == nullptr) continue;
      (m.kind() == reply_kind::unreachable ? match->unreachable : match->malformed) = &k;
      continue;
    }
    if (match != nullptr && status >= 200 && match->final != nullptr && (k.cseq != 0 || !k.branch().empty())) {
      match->late_finals.push_back(&k);  // matched by branch or CSeq: the same request again
      continue;
    }
    if (match == nullptr || (status >= 200 && match->final != nullptr)) {
      txns.push_back({});
      match = &txns.back();
    }
    if (status < 200) match->provisional.push_back(&k);
    else match->final = &k;
  }
  return txns;
}

diagnosis_code classify(const attempt& a) { return decide(a, pair_messages(a)); }

std::string format_time(double t, bool absolute) {
  if (t < 0) return "";
  char buf[64];
  const auto whole = static_cast<std::int64_t>(std::floor(t));
  const auto micros = static_cast<long>(std::llround((t - static_cast<double>(whole)) * 1e6)) % 1000000;
  const std::int64_t day = whole % 86400;
  const int h = static_cast<int>(day / 3600), m = static_cast<int>(day / 60 % 60), s = static_cast<int>(day % 60);
  if (!absolute) {
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06ld", h, m, s, micros);
    return buf;
  }
  std::time_t tt = static_cast<std::time_t>(whole);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, micros);
  return buf;
}

attempt_result diagnose(const attempt& a, const diagnose_options& o) {
  attempt_result r;
  r.serial = a.serial;
  r.last_seq = a.last_seq;
  r.call_id = a.call_id;
  r.first_time = a.first_time;
  r.last_time = a.last_time;
  r.messages_dropped = a.dropped;

  for (const auto& k : a.messages) {
    r.absolute_time = r.absolute_time || k.absolute_time;
    if (r.aor.empty() && k.msg.kind() == reply_kind::sip) {
      sip::name_addr to;
      if (!sip::get::to(*k.msg, to)) r.aor = to.uri_error ? std::string(to.uri_text) : to.addr.to_string();
    }
    r.messages.push_back(
        {k.time, k.absolute_time, k.src.str(), k.dst.str(), k.transport.str(), summary(k), k.where(), k.repeats});
  }
  const std::vector<txn> txns = pair_messages(a);
  for (const auto& t : txns) r.transactions.push_back(transaction_of(t));
  if (txns.empty()) {
    r.primary.code = diagnosis_code::no_response;
    r.primary.evidence.push_back("no REGISTER traffic in this attempt");
    return r;
  }
  const txn& last = txns.back();
  r.primary.code = decide(a, txns);
  auto& ev = r.primary.evidence;
  if (last.final) final_evidence(last, ev);
  else unanswered_evidence(a, txns, r.primary.code, ev);
  code_evidence(a, txns, r.primary.code, ev);
  r.nonce_refused = nonce_evidence(last, ev);
  late_final_evidence(txns, ev);
  if (is_success(r.primary.code) && last.final) r.registration = registration_of(last, r.primary.code);
  add_findings(a, txns, o, r);
  return r;
}

}  // namespace probe::analyze
