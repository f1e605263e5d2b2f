#include "probe/registration/decide.hpp"

#include "sip/scan.hpp"

#include <algorithm>

namespace probe::registration {
namespace {

std::string status_line(const sip::message_view& m) { return std::to_string(m.status) + " " + std::string(m.reason); }

decision finished(diagnosis_code code, std::string evidence) {
  decision d;
  d.code = code;
  d.evidence.push_back(std::move(evidence));
  return d;
}

// Handles a 401/407: answer it, retry on stale, or conclude.
decision on_challenge(const exchange_state& st, const sip::message_view& m, bool proxy) {
  const bool answered = proxy ? st.sent_proxy_authorization : st.sent_authorization;
  const char* header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  std::vector<std::string_view> values;
  if (proxy) sip::get::proxy_authenticate(m, values);
  else sip::get::www_authenticate(m, values);

  std::vector<sip::digest_challenge> challenges;
  std::vector<std::string> unparsable;
  for (auto v : values) {
    if (auto ec = sip::parse_challenges(v, challenges))
      unparsable.push_back(std::string(header) + " not understood (" + ec.message() + "): " + std::string(v));
  }
  if (challenges.empty()) {
    auto d = finished(diagnosis_code::malformed_response, status_line(m) + " without a usable " + header + " header");
    d.evidence.insert(d.evidence.end(), unparsable.begin(), unparsable.end());
    return d;
  }
  auto choice = sip::choose_challenge(challenges);
  if (!choice.index) {
    auto d = finished(diagnosis_code::auth_unsupported, status_line(m) + ": " + choice.reason);
    return d;
  }
  auto& ch = challenges[*choice.index];

  decision d;
  d.proxy = proxy;
  d.qop = choice.qop;
  d.choice_reason = std::move(choice.reason);
  if (!answered) {
    d.step = next_step::answer_challenge;
    d.challenge = std::move(ch);
    return d;
  }
  // RFC 7616 §3.3: stale=true means the nonce expired but the credentials were right.
  if (ch.stale && !st.stale_retried) {
    d.step = next_step::retry_stale;
    d.challenge = std::move(ch);
    return d;
  }
  auto code = proxy ? diagnosis_code::proxy_auth_failed : diagnosis_code::auth_failed;
  const bool stale = ch.stale;
  d = finished(code, status_line(m) + " again after " + (proxy ? "Proxy-Authorization" : "Authorization") +
                         " was sent (realm \"" + ch.realm + "\")");
  if (stale) d.evidence.push_back("the server kept answering stale=true after a fresh nonce was used");
  return d;
}

}  // namespace

decision decide(const exchange_state& st, const sip::message_view& m) {
  const bool removal = !st.query && st.expires == 0;
  if (m.status >= 200 && m.status < 300) {
    // RFC 3261 §10.2.2, §10.2.3: what a 2xx accepted depends on what was asked.
    response_outcome o;
    o.status = m.status;
    o.removal = removal;
    o.query = st.query;
    return finished(classify_response(o), status_line(m));
  }
  if (m.status == 401) return on_challenge(st, m, false);
  if (m.status == 407) return on_challenge(st, m, true);
  if (m.status == 423) {
    std::uint32_t min = 0;
    if (sip::get::min_expires(m, min))
      return finished(diagnosis_code::interval_too_brief, "423 without a usable Min-Expires header");
    // RFC 3261 §10.3 step 7 holds a non-zero expiry to Min-Expires; retrying a removal with
    // it would register the binding that was to be removed.
    if (removal)
      return finished(diagnosis_code::interval_too_brief,
                      "423 with Min-Expires " + std::to_string(min) + " to a removal (Expires 0): not retried");
    if (st.expires_retried)
      return finished(diagnosis_code::interval_too_brief, "423 again with Min-Expires " + std::to_string(min) +
                                                              " after asking for " + std::to_string(st.expires) + " s");
    // A first 423 whose minimum is not above what was asked: retrying cannot help.
    if (min <= st.expires)
      return finished(diagnosis_code::interval_too_brief, "423 with Min-Expires " + std::to_string(min) + " although " +
                                                              std::to_string(st.expires) + " s was asked for");
    decision d;
    d.step = next_step::retry_expires;
    d.new_expires = min;
    d.evidence.push_back("423 Interval Too Brief, Min-Expires: " + std::to_string(min));
    return d;
  }
  response_outcome o;
  o.status = m.status;
  o.sent_authorization = st.sent_authorization;
  o.sent_proxy_authorization = st.sent_proxy_authorization;
  decision d = finished(classify_response(o), status_line(m));
  if (m.status == 503) {
    sip::retry_after ra;
    if (!sip::get::retry_after(m, ra)) d.evidence.push_back("Retry-After: " + std::to_string(ra.seconds) + " s");
  }
  if (m.status >= 300 && m.status < 400) {
    std::vector<sip::name_addr> contacts;
    bool star = false;
    if (!sip::get::contacts(m, contacts, star))
      for (const auto& c : contacts) d.evidence.push_back("redirected to " + std::string(c.uri_text));
  }
  return d;
}

bool same_contact(const std::string& a, const std::string& b) {
  sip::uri x, y;
  if (sip::parse_uri(a, x) || sip::parse_uri(b, y)) return false;
  auto port = [](const sip::uri& u) -> std::uint16_t {
    if (u.port != 0) return u.port;
    return u.scheme == "sips" ? 5061 : 5060;
  };
  return x.scheme == y.scheme && x.user == y.user && sip::iequals(x.host, y.host) && port(x) == port(y);
}

binding_summary read_bindings(const sip::message_view& ok, const std::string& our_contact) {
  binding_summary s;
  std::vector<sip::name_addr> contacts;
  bool star = false;
  if (sip::get::contacts(ok, contacts, star)) return s;
  std::int64_t header_expires = -1;
  std::uint32_t e = 0;
  if (!sip::get::expires(ok, e)) header_expires = e;
  for (const auto& c : contacts) {
    listed_binding b;
    b.contact = std::string(c.uri_text);
    auto ce = c.expires();
    b.expires = ce ? static_cast<std::int64_t>(*ce) : header_expires;
    b.ours = !our_contact.empty() && same_contact(b.contact, our_contact);
    for (const auto& p : c.params)
      if (sip::iequals(p.name, "pub-gruu") && p.has_value)
        b.gruu = p.quoted ? sip::unescape_quoted(p.value) : std::string(p.value);
    if (b.ours && !s.ours_listed) {
      s.ours_listed = true;
      s.granted = b.expires;
      s.our_gruu = b.gruu;
    }
    s.bindings.push_back(std::move(b));
  }
  return s;
}

}  // namespace probe::registration
