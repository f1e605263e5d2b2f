// The catalog applied to one attempt (see analyze_diagnose.hpp).
#include "probe/analyze_diagnose.hpp"

#include "probe/evidence.hpp"

#include "sip/digest.hpp"
#include "sip/headers.hpp"
#include "sip/scan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

namespace probe::analyze {
namespace {

struct txn {
  const kept_message* req = nullptr;
  const kept_message* final = nullptr;
  std::vector<const kept_message*> provisional;
  const kept_message* challenge = nullptr;  // the 401/407 the request's credentials answer
};

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The credentials of a request: Authorization, else Proxy-Authorization.
std::optional<sip::digest_credentials> credentials(const sip::message_view& m, bool* proxy = nullptr) {
  std::vector<std::string_view> values;
  bool is_proxy = false;
  if (sip::get::authorization(m, values) || values.empty()) {
    values.clear();
    if (sip::get::proxy_authorization(m, values) || values.empty()) return std::nullopt;
    is_proxy = true;
  }
  sip::digest_credentials cr;
  if (sip::parse_credentials(values.front(), cr)) return std::nullopt;
  if (proxy) *proxy = is_proxy;
  return cr;
}

std::vector<sip::digest_challenge> challenges(const sip::message_view& m) {
  std::vector<std::string_view> values;
  std::vector<sip::digest_challenge> out;
  if (m.status == 407) (void)sip::get::proxy_authenticate(m, values);
  else (void)sip::get::www_authenticate(m, values);
  for (auto v : values) (void)sip::parse_challenges(v, out);
  return out;
}

// Expires asked for: the first Contact's ;expires, else the Expires header (RFC 3261 §10.2.1.1).
std::int64_t requested_expires(const sip::message_view& m) {
  std::vector<sip::name_addr> cs;
  bool star = false;
  if (!sip::get::contacts(m, cs, star) && !cs.empty())
    if (auto e = cs.front().expires()) return *e;
  std::uint32_t e = 0;
  if (!sip::get::expires(m, e)) return e;
  return -1;
}

std::string contact_key(const sip::name_addr& c) {
  std::string hp = c.addr.host;
  hp += ":" + std::to_string(c.addr.port == 0 ? (c.addr.scheme == "sips" ? 5061 : 5060) : c.addr.port);
  return c.addr.user + "@" + hp;
}

std::optional<sip::name_addr> first_contact(const sip::message_view& m) {
  std::vector<sip::name_addr> cs;
  bool star = false;
  if (sip::get::contacts(m, cs, star) || cs.empty() || star) return std::nullopt;
  return cs.front();
}

std::string summary(const kept_message& k) {
  const auto& m = *k.msg;
  std::string s;
  if (m.is_request()) {
    s = std::string(m.method) + " " + std::string(m.request_uri);
    std::string extra;
    if (k.cseq) extra = "CSeq " + std::to_string(k.cseq);
    bool proxy = false;
    if (auto cr = credentials(m, &proxy))
      extra += std::string(extra.empty() ? "" : ", ") + (proxy ? "Proxy-Authorization" : "Authorization") +
               " user " + quoted(cr->username);
    auto e = requested_expires(m);
    if (e >= 0) extra += std::string(extra.empty() ? "" : ", ") + "expires " + std::to_string(e);
    if (!extra.empty()) s += " (" + extra + ")";
  } else {
    s = std::to_string(m.status) + (m.reason.empty() ? "" : " " + std::string(m.reason));
    std::string extra;
    if (k.cseq) extra = "CSeq " + std::to_string(k.cseq);
    if (m.status == 401 || m.status == 407) {
      auto chs = challenges(m);
      if (!chs.empty()) {
        extra += std::string(extra.empty() ? "" : ", ") + "realm " + quoted(chs.front().realm);
        if (chs.front().stale) extra += ", stale";
      }
    }
    std::uint32_t n = 0;
    if (m.status == 423 && !sip::get::min_expires(m, n)) extra += std::string(extra.empty() ? "" : ", ") + "Min-Expires " + std::to_string(n);
    if (!extra.empty()) s += " (" + extra + ")";
  }
  return s;
}

std::string host_of(std::string_view addr) {  // "1.2.3.4:5060" / "[v6]:p" -> host
  if (!addr.empty() && addr.front() == '[') {
    auto close = addr.find(']');
    return std::string(addr.substr(1, close == std::string_view::npos ? addr.size() - 1 : close - 1));
  }
  auto colon = addr.rfind(':');
  return std::string(addr.substr(0, colon));
}

std::optional<std::uint16_t> port_of(std::string_view addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string_view::npos || (addr.front() == '[' && addr.rfind(']') > colon)) return std::nullopt;
  auto v = sip::parse_decimal(addr.substr(colon + 1), 65535);
  if (!v) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

// Pairs requests and responses: top Via branch, else CSeq, else order (pasted traces).
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
    if (match == nullptr || (status >= 200 && match->final != nullptr)) {
      txns.push_back({});
      match = &txns.back();
    }
    if (status < 200) match->provisional.push_back(&k);
    else match->final = &k;
  }
  return txns;
}

// What the last transaction got back; the catalog decides from it.
response_outcome outcome_of(const txn& last) {
  response_outcome out;
  if (!last.final) return out;
  // The kept facts first; the whole message is parsed only for what they do not say.
  out.status = last.final->msg.status();
  out.sent_authorization = last.req && last.req->msg.has_authorization();
  out.sent_proxy_authorization = last.req && last.req->msg.has_proxy_authorization();
  if ((out.status == 401 || out.status == 407) && last.final->msg.may_be_stale())
    for (const auto& ch : challenges(*last.final->msg)) out.stale = out.stale || ch.stale;
  if (out.status == 423) {
    std::uint32_t min = 0;
    out.min_expires_unusable = sip::get::min_expires(*last.final->msg, min) || (last.req && requested_expires(*last.req->msg) >= min);
  }
  return out;
}

}  // namespace

diagnosis_code classify(const attempt& a) {
  auto txns = pair_messages(a);
  if (txns.empty()) return diagnosis_code::no_response;
  return classify_response(outcome_of(txns.back()));
}

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
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
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

  std::vector<txn> txns = pair_messages(a);
  for (const auto& k : a.messages) {
    r.absolute_time = r.absolute_time || k.absolute_time;
    if (r.aor.empty()) {
      sip::name_addr to;
      if (!sip::get::to(*k.msg, to)) r.aor = to.uri_error ? std::string(to.uri_text) : to.addr.to_string();
    }
    r.messages.push_back({k.time, k.absolute_time, k.src.str(), k.dst.str(), k.transport.str(), summary(k), k.where(), k.repeats});
  }

  for (const auto& t : txns) {
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
        tr.note = std::string(proxy ? "Proxy-Authorization" : "Authorization") + " user " + quoted(cr->username) +
                  ", " + std::string(sip::to_string(cr->algorithm));
    }
    for (const auto* p : t.provisional) tr.provisional.push_back(p->msg->status);
    if (t.final) {
      tr.status = t.final->msg->status;
      tr.reason = std::string(t.final->msg->reason);
      if (t.req && t.req->time >= 0 && t.final->time >= 0) tr.rtt_ms = (t.final->time - t.req->time) * 1000.0;
    } else {
      tr.reason = "no response in the trace";
    }
    r.transactions.push_back(std::move(tr));
  }

  // The outcome: the last transaction.
  if (txns.empty()) {
    r.primary.code = diagnosis_code::no_response;
    r.primary.evidence.push_back("no REGISTER traffic in this attempt");
    return r;
  }
  const txn& last = txns.back();
  std::optional<sip::digest_credentials> last_cr;
  bool last_proxy = false;
  if (last.req) last_cr = credentials(*last.req->msg, &last_proxy);
  r.primary.code = classify_response(outcome_of(last));
  auto& ev = r.primary.evidence;
  const std::string req_name = last.req ? "REGISTER" + (last.req->cseq ? " (CSeq " + std::to_string(last.req->cseq) + ")" : std::string())
                                        : std::string("REGISTER");
  if (last.final) {
    const auto& fm = *last.final->msg;
    std::string line = std::to_string(fm.status) + " " + std::string(fm.reason) + " to " + req_name;
    if (!last.final->src.empty()) line += " from " + last.final->src.str();
    auto t = format_time(last.final->time, last.final->absolute_time);
    line += t.empty() ? " (" + last.final->where() + ")" : " at " + t + " (" + last.final->where() + ")";
    ev.push_back(line);
    if (!last.req) ev.push_back("the REGISTER it answers is not in the trace (capture started later?)");
  } else if (last.req) {
    std::string line = req_name;
    if (!last.req->dst.empty()) line += " to " + last.req->dst.str();
    line += " sent " + std::to_string(last.req->repeats + 1) + " time" + (last.req->repeats ? "s" : "") + " (" +
            std::to_string(last.req->repeats) + " retransmission" + (last.req->repeats == 1 ? "" : "s") + ")";
    if (last.req->repeats > 0 && last.req->time >= 0 && last.req->last_repeat >= 0) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " over %.1f s", last.req->last_repeat - last.req->time);
      line += buf;
    }
    line += ", and no final response in the trace";
    ev.push_back(line);
    if (!last.provisional.empty())
      ev.push_back("only a provisional " + std::to_string(last.provisional.back()->msg->status) +
                   " came back: the request reached the registrar, so look at it and what it waits for (its log, its"
                   " auth backend or database) before the network");
    if (txns.size() > 1) ev.push_back("earlier in this attempt: " + std::to_string(txns.size() - 1) + " transaction(s) answered");
  }
  std::size_t rejected_after_creds = 0;
  for (const auto& t : txns)
    if (t.req && t.final && t.challenge && (t.final->msg->status == 401 || t.final->msg->status == 407)) ++rejected_after_creds;
  switch (r.primary.code) {
    case diagnosis_code::auth_failed:
    case diagnosis_code::proxy_auth_failed:
      if (last_cr)
        ev.push_back("the rejected REGISTER carried " + std::string(last_proxy ? "Proxy-Authorization" : "Authorization") +
                     " for user " + quoted(last_cr->username) + ", realm " + quoted(last_cr->realm));
      if (rejected_after_creds > 1) ev.push_back(std::to_string(rejected_after_creds) + " challenges in a row after credentials were sent (the \"401 loop\")");
      break;
    case diagnosis_code::auth_not_attempted: {
      ev.push_back("no REGISTER with credentials followed the challenge in the trace");
      if (a.last_time >= 0 && last.final && last.final->time >= 0 && a.last_time - last.final->time < 1)
        ev.push_back("the trace of this attempt ends right after the challenge: capture longer if the phone may still answer");
      break;
    }
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
      if (last.final && !sip::get::retry_after(*last.final->msg, ra)) ev.push_back("Retry-After: " + std::to_string(ra.seconds) + " s");
      break;
    }
    case diagnosis_code::redirected: {
      if (auto c = last.final ? first_contact(*last.final->msg) : std::nullopt) ev.push_back("redirected to " + std::string(c->uri_text));
      break;
    }
    default:
      break;
  }

  // Registration details.
  if (r.primary.code == diagnosis_code::registered && last.final) {
    registration_record reg;
    reg.requested_expires = last.req ? requested_expires(*last.req->msg) : -1;
    std::optional<sip::name_addr> ours = last.req ? first_contact(*last.req->msg) : std::nullopt;
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
        if (b.ours || (cs.size() == 1 && !ours)) reg.expires = b.expires;
        reg.bindings.push_back(std::move(b));
      }
    }
    if (reg.expires < 0 && has_hdr_expires) reg.expires = hdr_expires;
    if (reg.requested_expires > 0 && reg.expires >= 0 && reg.expires < reg.requested_expires)
      add_finding(r.findings, {finding_code::expires_reduced, "asked for " + std::to_string(reg.requested_expires) +
                                                                  " s, granted " + std::to_string(reg.expires) + " s"});
    r.registration = std::move(reg);
  }

  // Credentials against the challenge they answer; the secret, when given.
  const bool failed = r.primary.code != diagnosis_code::registered;
  const txn* last_authed = nullptr;
  for (const auto& t : txns) {
    if (!t.req) continue;
    bool proxy = false;
    auto cr = credentials(*t.req->msg, &proxy);
    if (!cr || !cr->is_digest()) continue;
    last_authed = &t;
    if (!t.challenge) continue;
    auto chs = challenges(*t.challenge->msg);
    if (chs.empty()) continue;
    const sip::digest_challenge* ch = &chs.front();
    for (const auto& c : chs)
      if (c.realm == cr->realm && c.nonce == cr->nonce) ch = &c;
    sip::digest_inputs expect;
    expect.method = t.req->msg->method;
    expect.uri = t.req->msg->request_uri;
    auto v = sip::verify_credentials(*ch, *cr, expect);
    std::string detail;
    auto add = [&detail](const std::string& s) { detail += (detail.empty() ? "" : "; ") + s; };
    if (v.has(sip::digest_mismatch::realm)) add("realm " + quoted(cr->realm) + " in the credentials, the challenge said " + quoted(ch->realm));
    if (v.has(sip::digest_mismatch::nonce)) add("nonce " + quoted(cr->nonce) + " is not the one the challenge gave (" + quoted(ch->nonce) + ")");
    if (v.has(sip::digest_mismatch::uri)) add("uri " + quoted(cr->uri) + " differs from the Request-URI " + quoted(expect.uri));
    if (v.has(sip::digest_mismatch::algorithm)) add("algorithm " + std::string(sip::to_string(cr->algorithm)) + " answers a challenge for " + std::string(sip::to_string(ch->algorithm)));
    if (v.has(sip::digest_mismatch::qop)) add("qop " + (cr->qop_text.empty() ? std::string("absent") : quoted(cr->qop_text)) + " does not fit the challenge's qop options");
    if (v.has(sip::digest_mismatch::opaque)) add("opaque not echoed unchanged");
    if (!detail.empty()) add_finding(r.findings, {finding_code::credential_mismatch, summary(*t.req) + ": " + detail});
  }
  if (last_authed && o.has_secret()) {
    bool proxy = false;
    auto cr = credentials(*last_authed->req->msg, &proxy);
    sip::digest_challenge ch;
    ch.scheme = "Digest";
    ch.realm = cr->realm;
    ch.nonce = cr->nonce;
    ch.algorithm = cr->algorithm;
    ch.algorithm_text = cr->algorithm_text;
    sip::digest_inputs expect;
    expect.password = o.password;
    expect.ha1 = o.ha1;
    expect.method = last_authed->req->msg->method;
    auto v = sip::verify_credentials(ch, *cr, expect);
    if (v.error) {
      ev.push_back("the digest response could not be checked with the " + o.secret_source + ": " + v.error.message());
    } else if (v.response_ok) {
      ev.push_back("the password given (" + o.secret_source + ") produces the response the phone sent for user " +
                   quoted(cr->username) + (failed ? ": the server rejected a correct password — check the server side (the account's "
                                                    "password or HA1 there, its realm, and which auth user it expects)"
                                                  : ""));
    } else {
      ev.push_back("the password given (" + o.secret_source + ") does not produce the response the phone sent for user " +
                   quoted(cr->username) + ": the phone's password (or auth user) is wrong");
      add_finding(r.findings, {finding_code::credential_mismatch,
                               "the digest response does not match the password given (" + o.secret_source + ")"});
    }
  }
  if (last_authed && failed) {
    auto cr = credentials(*last_authed->req->msg);
    sip::name_addr from;
    if (cr && !sip::get::from(*last_authed->req->msg, from) && !from.uri_error) {
      const std::string& fu = from.addr.user;
      if (!fu.empty() && !cr->username.empty() && all_digits(cr->username) != all_digits(fu))
        add_finding(r.findings, {finding_code::auth_user_looks_like_extension,
                                 "auth username " + quoted(cr->username) + ", From user " + quoted(fu)});
    }
  }

  // NAT, and rewriting in the path.
  std::vector<echoed_header> echoed;
  std::string alg_extra;
  for (const auto& t : txns) {
    if (!t.req || !t.final) continue;
    const auto& q = *t.req->msg;
    const auto& s = *t.final->msg;
    sip::via qv, sv;
    const bool have_qv = !sip::get::top_via(q, qv), have_sv = !sip::get::top_via(s, sv);
    if (have_qv) {
      nat_facts nf;
      nf.via_host = std::string(qv.host);
      nf.via_port = qv.port;
      if (auto c = first_contact(q)) nf.contact_host = c->addr.host;
      if (have_sv) {
        if (auto rcv = sv.received()) nf.received = std::string(*rcv);
        nf.rport = sv.rport();
      }
      if (nf.received.empty() && !nf.rport && !t.req->src.empty()) {
        // No received/rport: the packet's own source address says what the network saw.
        auto h = host_of(t.req->src);
        if (h != nf.via_host && classify_address(h) != address_scope::not_ip) nf.received = h, nf.rport = port_of(t.req->src);
      }
      if (auto f = check_nat(nf)) add_finding(r.findings, std::move(*f));
    }
    if (have_qv && have_sv) {
      auto sent_by = [](const sip::via& v) {
        std::string h = v.ipv6 ? "[" + std::string(v.host) + "]" : std::string(v.host);
        return v.port ? h + ":" + std::to_string(v.port) : h;
      };
      echoed.push_back({"Via sent-by", sent_by(qv), sent_by(sv)});
      echoed.push_back({"Via branch", std::string(qv.branch()), std::string(sv.branch())});
    }
    std::string_view qc, sc;
    if (!sip::get::call_id(q, qc) && !sip::get::call_id(s, sc)) echoed.push_back({"Call-ID", std::string(qc), std::string(sc)});
    sip::name_addr qf, sf;
    if (!sip::get::from(q, qf) && !sip::get::from(s, sf)) echoed.push_back({"From tag", std::string(qf.tag()), std::string(sf.tag())});
    if (t.req->cseq && t.final->cseq) echoed.push_back({"CSeq", std::to_string(t.req->cseq), std::to_string(t.final->cseq)});
    if (s.status >= 200 && s.status < 300) {
      auto ours = first_contact(q);
      std::vector<sip::name_addr> cs;
      bool star = false;
      if (ours && !sip::get::contacts(s, cs, star) && !cs.empty()) {
        const bool found = std::any_of(cs.begin(), cs.end(), [&](const sip::name_addr& c) { return contact_key(c) == contact_key(*ours); });
        if (!found) {
          std::string listed;
          for (const auto& c : cs) listed += (listed.empty() ? "" : ", ") + std::string(c.uri_text);
          echoed.push_back({"Contact", std::string(ours->uri_text), "not among the bindings of the 200: " + listed});
        }
      }
    }
  }
  for (const auto& k : a.messages) {
    std::uint32_t cl = 0;
    if (k.body_on_wire >= 0 && !sip::get::content_length(*k.msg, cl) && static_cast<std::int64_t>(cl) != k.body_on_wire)
      alg_extra += (alg_extra.empty() ? "" : "; ") + summary(k) + ": Content-Length " + std::to_string(cl) + " but the datagram carries " +
                   std::to_string(k.body_on_wire) + " body bytes";
  }
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  std::vector<echoed_header> unique;
  for (auto& e : echoed)
    if (seen.insert({e.name, e.sent, e.echoed}).second) unique.push_back(std::move(e));
  auto alg = check_rewrites(unique);
  if (!alg_extra.empty()) {
    if (!alg) alg = finding{finding_code::sip_alg_suspected, alg_extra};
    else alg->detail += "; " + alg_extra;
  }
  if (alg) add_finding(r.findings, std::move(*alg));

  // 423 answered with Min-Expires, and stale nonces.
  for (std::size_t i = 0; i < txns.size(); ++i) {
    const auto& t = txns[i];
    if (!t.final) continue;
    const auto& s = *t.final->msg;
    std::uint32_t min = 0;
    if (s.status == 423 && !sip::get::min_expires(s, min) && r.primary.code == diagnosis_code::registered) {
      for (std::size_t j = i + 1; j < txns.size(); ++j) {
        if (!txns[j].req) continue;
        auto e = requested_expires(*txns[j].req->msg);
        if (e >= min) {
          add_finding(r.findings, {finding_code::expires_raised,
                                   "the registrar answered 423 with Min-Expires " + std::to_string(min) + " and the phone retried with " +
                                       std::to_string(e) + " s: configure a registration interval of at least " + std::to_string(min) + " s"});
          break;
        }
      }
    }
    if ((s.status == 401 || s.status == 407) && t.challenge && i + 1 < txns.size()) {
      for (const auto& ch : challenges(s))
        if (ch.stale) add_finding(r.findings, {finding_code::stale_nonce, "a challenge with stale=true after credentials was answered with the new nonce"});
    }
  }
  return r;
}

}  // namespace probe::analyze
