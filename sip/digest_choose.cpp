// sip/digest_choose.cpp — choosing the challenge to answer (RFC 8760 §2.3, RFC 7616 §3.7).
#include "sip/digest.hpp"

#include <algorithm>
#include <utility>

namespace sip {
namespace {

// Strength rank of RFC 8760 §2.2; 0 for unsupported.
int algorithm_rank(digest_algorithm a) noexcept {
  switch (a) {
    case digest_algorithm::sha512_256:
    case digest_algorithm::sha512_256_sess: return 3;
    case digest_algorithm::sha256:
    case digest_algorithm::sha256_sess: return 2;
    case digest_algorithm::md5:
    case digest_algorithm::md5_sess: return 1;
    case digest_algorithm::unknown: break;
  }
  return 0;
}

std::string describe(const digest_challenge& c) {
  if (!c.is_digest()) return c.scheme;
  std::string d = c.scheme + " ";
  if (c.algorithm == digest_algorithm::unknown) d += "algorithm=" + c.algorithm_text + " (unsupported)";
  else d += to_string(c.algorithm);
  if (!c.qop.empty()) {
    d += " qop=";
    for (std::size_t i = 0; i < c.qop.size(); ++i) d += (i ? "," : "") + c.qop[i];
  }
  return d;
}

}  // namespace

digest_choice choose_challenge(std::span<const digest_challenge> challenges, bool body_known) {
  digest_choice r;
  // qop preference: auth protects the request line only, auth-int the body too; with
  // the body unknown auth-int cannot be computed reliably, so auth comes first.
  auto qop_rank = [&](digest_qop q) {
    if (q == digest_qop::none) return 1;
    return (q == digest_qop::auth) != body_known ? 3 : 2;
  };
  auto best_qop = [&](const digest_challenge& c) {
    if (c.qop.empty()) return digest_qop::none;
    digest_qop first = body_known ? digest_qop::auth_int : digest_qop::auth;
    digest_qop second = body_known ? digest_qop::auth : digest_qop::auth_int;
    if (c.offers(first)) return first;
    if (c.offers(second)) return second;
    return digest_qop::unknown;
  };
  std::vector<std::size_t> usable;
  std::vector<std::string> ignored;
  for (std::size_t i = 0; i < challenges.size(); ++i) {
    const auto& c = challenges[i];
    r.offered.push_back(describe(c));
    if (c.is_digest() && algorithm_rank(c.algorithm) > 0 && best_qop(c) != digest_qop::unknown) {
      usable.push_back(i);
    } else {
      ignored.push_back(r.offered.back() + (c.is_digest() && best_qop(c) == digest_qop::unknown ? " (no supported qop)" : ""));
    }
  }
  if (usable.empty()) {
    r.reason = "no supported challenge; offered: ";
    if (challenges.empty()) r.reason = "no challenge offered";
    for (std::size_t i = 0; i < ignored.size(); ++i) r.reason += (i ? ", " : "") + ignored[i];
    return r;
  }
  auto key = [&](std::size_t i) { return std::pair{algorithm_rank(challenges[i].algorithm), qop_rank(best_qop(challenges[i]))}; };
  std::size_t best = usable.front();
  for (auto i : usable)
    if (key(i) > key(best)) best = i;  // strict: ties keep header order
  const auto& b = challenges[best];
  r.index = best;
  r.qop = best_qop(b);
  std::string alg(to_string(b.algorithm));
  auto qop_name = [](digest_qop q) { return q == digest_qop::none ? std::string("none") : std::string(to_string(q)); };
  std::string weaker, weaker_qop;
  auto add = [](std::string& list, const std::string& item) {
    std::string_view rest = list;
    while (!rest.empty()) {
      auto comma = rest.find(", ");
      if (rest.substr(0, comma) == item) return;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    list += (list.empty() ? "" : ", ") + item;
  };
  for (auto i : usable) {
    if (algorithm_rank(challenges[i].algorithm) < algorithm_rank(b.algorithm))
      add(weaker, std::string(to_string(challenges[i].algorithm)));
    else if (key(i) < key(best)) add(weaker_qop, "qop=" + qop_name(best_qop(challenges[i])));
  }
  if (!weaker.empty()) {
    r.reason = alg + " preferred over " + weaker + " (RFC 8760)";
  } else if (!weaker_qop.empty()) {
    r.reason = alg + " with qop=" + qop_name(r.qop) + " preferred over " + weaker_qop + " (RFC 7616 §3.7)";
  } else if (usable.size() > 1) {
    r.reason = alg + " (first of equally strong challenges, RFC 7616 §3.7)";
  } else {
    r.reason = alg + " (only supported challenge)";
  }
  if (b.qop.size() > 1) r.reason += "; qop=" + std::string(to_string(r.qop)) + (body_known ? " (body known)" : " (body unknown)");
  if (!ignored.empty()) {
    r.reason += "; ignored: ";
    for (std::size_t i = 0; i < ignored.size(); ++i) r.reason += (i ? ", " : "") + ignored[i];
  }
  return r;
}

}  // namespace sip
