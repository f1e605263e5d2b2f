// The findings of one attempt (see txn.hpp): credentials, NAT, rewriting in the
// path, expiries and stale nonces.
#include "probe/analyze/headers.hpp"
#include "probe/analyze/txn.hpp"
#include "probe/core/evidence.hpp"

#include "sip/digest.hpp"
#include "sip/headers.hpp"
#include "sip/scan.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

namespace probe::analyze {
namespace {

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
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

// Each request's credentials against the challenge they answer (RFC 7616 §3.4).
void credential_findings(const std::vector<txn>& txns, attempt_result& r) {
  for (const auto& t : txns) {
    if (!t.req || !t.challenge) continue;
    auto cr = credentials(*t.req->msg);
    if (!cr || !cr->is_digest()) continue;
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
    if (v.has(sip::digest_mismatch::realm))
      add("realm " + quoted(cr->realm) + " in the credentials, the challenge said " + quoted(ch->realm));
    if (v.has(sip::digest_mismatch::nonce))
      add("nonce " + quoted(cr->nonce) + " is not the one the challenge gave (" + quoted(ch->nonce) + ")");
    if (v.has(sip::digest_mismatch::uri)) add("uri " + quoted(cr->uri) + " differs from the Request-URI " + quoted(expect.uri));
    if (v.has(sip::digest_mismatch::algorithm))
      add("algorithm " + std::string(sip::to_string(cr->algorithm)) + " answers a challenge for " +
          std::string(sip::to_string(ch->algorithm)));
    if (v.has(sip::digest_mismatch::qop))
      add("qop " + (cr->qop_text.empty() ? std::string("absent") : quoted(cr->qop_text)) +
          " does not fit the challenge's qop options");
    if (v.has(sip::digest_mismatch::opaque)) add("opaque not echoed unchanged");
    if (!detail.empty()) add_finding(r.findings, {finding_code::credential_mismatch, summary(*t.req) + ": " + detail});
  }
}

// The last digest response recomputed with the secret given, and the auth user against
// the From user on a failure.
void secret_findings(const txn& last_authed, const diagnose_options& o, attempt_result& r) {
  const bool failed = !is_success(r.primary.code);
  auto cr = credentials(*last_authed.req->msg);
  if (!cr) return;
  r.auth_user = cr->username;
  r.auth_realm = cr->realm;
  if (o.has_secret()) {
    sip::digest_challenge ch;
    ch.scheme = "Digest";
    ch.realm = cr->realm;
    ch.nonce = cr->nonce;
    ch.algorithm = cr->algorithm;
    ch.algorithm_text = cr->algorithm_text;
    sip::digest_inputs expect;
    expect.password = o.password;
    expect.ha1 = o.ha1;
    expect.method = last_authed.req->msg->method;
    auto v = sip::verify_credentials(ch, *cr, expect);
    auto& ev = r.primary.evidence;
    if (v.error) {
      ev.push_back("the digest response could not be checked with the " + o.secret_source + ": " + v.error.message());
    } else if (v.response_ok) {
      ev.push_back("the password given (" + o.secret_source + ") produces the response the phone sent for user " +
                   quoted(cr->username) +
                   (failed ? ": the server rejected a correct password — check the server side (the account's "
                             "password or HA1 there, its realm, and which auth user it expects)"
                           : ""));
    } else {
      ev.push_back("the password given (" + o.secret_source + ") does not produce the response the phone sent for user " +
                   quoted(cr->username) + ": the phone's password (or auth user) is wrong");
      add_finding(r.findings, {finding_code::credential_mismatch,
                               "the digest response does not match the password given (" + o.secret_source + ")"});
    }
  }
  sip::name_addr from;
  if (failed && !sip::get::from(*last_authed.req->msg, from) && !from.uri_error) {
    const std::string& fu = from.addr.user;
    if (!fu.empty() && !cr->username.empty() && all_digits(cr->username) != all_digits(fu))
      add_finding(r.findings, {finding_code::auth_user_looks_like_extension,
                               "auth username " + quoted(cr->username) + ", From user " + quoted(fu)});
  }
}

// NAT seen by the registrar in one transaction (RFC 3261 §18.2.1 received, RFC 3581 rport,
// else the packet's own source address).
void nat_finding(const txn& t, const sip::via& qv, const sip::via* sv, attempt_result& r) {
  nat_facts nf;
  nf.via_host = std::string(qv.host);
  nf.via_port = qv.port;
  if (auto c = first_contact(*t.req->msg)) nf.contact_host = c->addr.host;
  if (sv) {
    if (auto rcv = sv->received()) nf.received = std::string(*rcv);
    nf.rport = sv->rport();
  }
  if (nf.received.empty() && !nf.rport && !t.req->src.empty()) {
    auto h = host_of(t.req->src);
    if (h != nf.via_host && classify_address(h) != address_scope::not_ip) nf.received = h, nf.rport = port_of(t.req->src);
  }
  if (auto f = check_nat(nf)) add_finding(r.findings, std::move(*f));
}

// What the request sent and its answer echoed (RFC 3261 §8.2.6.2), plus a 2xx that lacks
// the Contact just registered (§10.3 step 8).
void echoed_of(const txn& t, std::vector<echoed_header>& echoed, attempt_result& r) {
  const auto& q = *t.req->msg;
  const auto& s = *t.final->msg;
  sip::via qv, sv;
  const bool have_qv = !sip::get::top_via(q, qv), have_sv = !sip::get::top_via(s, sv);
  if (have_qv) nat_finding(t, qv, have_sv ? &sv : nullptr, r);
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
  if (!sip::get::from(q, qf) && !sip::get::from(s, sf))
    echoed.push_back({"From tag", std::string(qf.tag()), std::string(sf.tag())});
  if (t.req->cseq && t.final->cseq) echoed.push_back({"CSeq", std::to_string(t.req->cseq), std::to_string(t.final->cseq)});
  if (s.status >= 200 && s.status < 300) {
    auto ours = first_contact(q);
    std::vector<sip::name_addr> cs;
    bool star = false;
    if (ours && !sip::get::contacts(s, cs, star) && !cs.empty()) {
      const bool found = std::any_of(cs.begin(), cs.end(),
                                     [&](const sip::name_addr& c) { return contact_key(c) == contact_key(*ours); });
      if (!found) {
        std::string listed;
        for (const auto& c : cs) listed += (listed.empty() ? "" : ", ") + std::string(c.uri_text);
        echoed.push_back({"Contact", std::string(ours->uri_text), "not among the bindings of the 200: " + listed});
      }
    }
  }
}

// The Content-Length of a message against the bytes its datagram carried (an ALG that
// rewrites the body without fixing the length), or of a reply that is not SIP for that;
// nullopt when they agree, or when there is nothing to compare.
std::optional<std::string> length_mismatch(const kept_message& k) {
  std::uint32_t cl = 0;
  if (k.msg.kind() == reply_kind::sip) {
    if (k.body_on_wire >= 0 && !sip::get::content_length(*k.msg, cl) && static_cast<std::int64_t>(cl) != k.body_on_wire)
      return summary(k) + ": Content-Length " + std::to_string(cl) + " but the datagram carries " +
             std::to_string(k.body_on_wire) + " body bytes";
    return {};
  }
  if (k.msg.kind() != reply_kind::malformed || k.transport.view() != "udp") return {};
  const auto raw = k.msg.raw();
  const auto head_end = raw.find("\r\n\r\n");
  const auto v = sip::parse_decimal(scan_header(raw, "Content-Length", "l"), 1u << 30);
  if (head_end == std::string_view::npos || !v) return {};
  const std::size_t body = raw.size() - (head_end + 4);
  if (*v == body) return {};
  const auto eol = raw.find_first_of("\r\n");
  return std::string(raw.substr(0, std::min<std::size_t>(eol, 60))) + ": Content-Length " + std::to_string(*v) +
         " but the datagram carries " + std::to_string(body) + " body bytes";
}

// Rewriting in the path: headers echoed changed, a Contact missing, lengths that disagree.
// A removal registers nothing: no binding to miss, and no finding drawn from it.
void path_findings(const attempt& a, const std::vector<txn>& txns, attempt_result& r) {
  std::vector<echoed_header> echoed;
  std::set<const kept_message*> removals;
  for (const auto& t : txns) {
    if (t.removal()) {
      removals.insert(t.req);
      if (t.final) removals.insert(t.final);
      for (const auto* p : t.provisional) removals.insert(p);
      continue;
    }
    if (t.req && t.final) echoed_of(t, echoed, r);
  }
  std::string alg_extra;
  std::set<std::string> lengths;  // each mismatch once (a mangled reply sent again)
  for (const auto& k : a.messages) {
    if (removals.count(&k)) continue;
    if (auto m = length_mismatch(k); m && lengths.insert(*m).second) alg_extra += (alg_extra.empty() ? "" : "; ") + *m;
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
}

// A registration granted for less time than asked (RFC 3261 §10.3 step 7).
void reduced_finding(attempt_result& r) {
  if (r.primary.code != diagnosis_code::registered || !r.registration) return;
  const auto& reg = *r.registration;
  if (reg.requested_expires > 0 && reg.expires >= 0 && reg.expires < reg.requested_expires)
    add_finding(r.findings, {finding_code::expires_reduced, "asked for " + std::to_string(reg.requested_expires) +
                                                                " s, granted " + std::to_string(reg.expires) + " s"});
}

// 423 answered with Min-Expires, and stale nonces answered.
void expiry_and_stale_findings(const std::vector<txn>& txns, attempt_result& r) {
  const bool registered = r.primary.code == diagnosis_code::registered;
  for (std::size_t i = 0; i < txns.size(); ++i) {
    const auto& t = txns[i];
    if (!t.final) continue;
    const auto& s = *t.final->msg;
    std::uint32_t min = 0;
    if (s.status == 423 && registered && !sip::get::min_expires(s, min)) {
      for (std::size_t j = i + 1; j < txns.size(); ++j) {
        if (!txns[j].req) continue;
        auto e = requested_expires(*txns[j].req->msg);
        if (e >= min) {
          add_finding(r.findings, {finding_code::expires_raised,
                                   "the registrar answered 423 with Min-Expires " + std::to_string(min) +
                                       " and the phone retried with " + std::to_string(e) +
                                       " s: configure a registration interval of at least " + std::to_string(min) + " s"});
          break;
        }
      }
    }
    // RFC 7616 §3.3: stale=true to credentials (answering a challenge of this attempt, or
    // a nonce kept from an earlier registration, as a refresh does), and the next request
    // answers with the new nonce.
    const bool sent_credentials = t.req && (t.req->msg.has_authorization() || t.req->msg.has_proxy_authorization());
    if ((s.status != 401 && s.status != 407) || !sent_credentials || i + 1 >= txns.size() || !txns[i + 1].req) continue;
    const auto next = credentials(*txns[i + 1].req->msg);
    if (!next) continue;
    for (const auto& ch : challenges(s))
      if (ch.stale && ch.nonce == next->nonce)
        add_finding(r.findings,
                    {finding_code::stale_nonce, "a challenge with stale=true after credentials was answered with the new nonce"});
  }
}

}  // namespace

void add_findings(const attempt& a, const std::vector<txn>& txns, const diagnose_options& o, attempt_result& r) {
  reduced_finding(r);
  credential_findings(txns, r);
  const txn* last_authed = nullptr;
  for (const auto& t : txns)
    if (t.req)
      if (auto cr = credentials(*t.req->msg); cr && cr->is_digest()) last_authed = &t;
  if (last_authed) secret_findings(*last_authed, o, r);
  path_findings(a, txns, r);
  expiry_and_stale_findings(txns, r);
}

}  // namespace probe::analyze
