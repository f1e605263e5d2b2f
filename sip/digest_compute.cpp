// sip/digest_compute.cpp — Digest hashing (RFC 7616 §3.4.1–3.4.4, RFC 2069 form for no
// qop), building the Authorization value, and verifying captured credentials.
#include "sip/digest.hpp"

#include "sip/scan.hpp"

// MD5's own one-shot function, deprecated in OpenSSL 3 in favour of EVP but kept: for the
// few bytes of a digest exchange, EVP's provider dispatch costs more than the hash.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>

#include <array>
#include <cstring>

namespace sip {
namespace {

// Fetched once: EVP_md5() and friends make OpenSSL 3 look the algorithm up in its
// providers (under a lock) on every EVP_Digest call; a fetched EVP_MD skips that. Never
// freed: it lives as long as the process.
const EVP_MD* fetched(const char* name) noexcept { return EVP_MD_fetch(nullptr, name, nullptr); }

const EVP_MD* md_for(digest_algorithm a) noexcept {
  switch (a) {
    case digest_algorithm::md5:
    case digest_algorithm::md5_sess: {
      static const EVP_MD* md = fetched("MD5");
      return md;
    }
    case digest_algorithm::sha256:
    case digest_algorithm::sha256_sess: {
      static const EVP_MD* md = fetched("SHA2-256");
      return md;
    }
    case digest_algorithm::sha512_256:
    case digest_algorithm::sha512_256_sess: {
      static const EVP_MD* md = fetched("SHA2-512/256");
      return md;
    }
    case digest_algorithm::unknown: break;
  }
  return nullptr;
}

// Hex length of the algorithm's digest (RFC 7616 §3.2: 32 for MD5, 64 for the SHA-2s).
std::size_t hex_size(digest_algorithm a) noexcept {
  const EVP_MD* md = md_for(a);
  return md ? 2 * static_cast<std::size_t>(EVP_MD_get_size(md)) : 0;
}

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A value that may go into a header: no CTL except HTAB (RFC 3261 §25.1 forbids CR and
// LF in quoted-string; the rest would only confuse the peer).
bool header_safe(std::string_view s) noexcept {
  for (std::size_t i = find_control(s.data(), 0, s.size()); i < s.size(); i = find_control(s.data(), i + 1, s.size()))
    if (s[i] != '\t') return false;
  return true;
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

void append_quoted(std::string& out, std::string_view name, std::string_view value) {
  out += ", ";
  out += name;
  out += "=\"";
  // A run at a time between the bytes that need a backslash.
  for (std::size_t i = 0; i < value.size();) {
    std::size_t stop = i;
    while (stop < value.size() && value[stop] != '"' && value[stop] != '\\') ++stop;
    out.append(value, i, stop - i);
    if (stop == value.size()) break;
    out.push_back('\\');
    out.push_back(value[stop]);
    i = stop + 1;
  }
  out.push_back('"');
}

// One digest context per thread, reset for each hash: EVP_Digest() allocates and frees a
// context every call, and a registration hashes three to five times.
EVP_MD_CTX* reused_context() noexcept {
  struct holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local holder h;
  return h.ctx;
}

// A hash in lower-case hex, on the stack: the HA1 and HA2 of an exchange need no heap
// (and HA1, as good as the password for this realm, is wiped when it goes).
struct hex_hash {
  std::array<char, 2 * EVP_MAX_MD_SIZE> text;
  std::size_t size = 0;
  std::string_view view() const noexcept { return {text.data(), size}; }
  void assign(std::string_view v) noexcept {  // v.size() <= text.size()
    size = std::min(v.size(), text.size());
    std::memcpy(text.data(), v.data(), size);
  }
  ~hex_hash() { OPENSSL_cleanse(text.data(), size); }
};

// H(p1 ":" p2 ":" …) in lower-case hex. Short inputs are joined on the stack (and wiped),
// longer ones hashed where they lie, so no joined copy holding the password reaches the
// heap. `out` may be one of the parts: it is written only after the hash is final.
std::error_code hash_parts(digest_algorithm a, std::initializer_list<std::string_view> parts, hex_hash& out) {
  const EVP_MD* md = md_for(a);
  if (!md) return digest_errc::unsupported_algorithm;
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Short inputs (all of a registration's) are joined on the stack and hashed in one
  // call; the copy is wiped afterwards.
  std::size_t total = parts.size() > 0 ? parts.size() - 1 : 0;
  for (auto p : parts) total += p.size();
  std::array<char, 512> joined;
  if (total <= joined.size()) {
    std::size_t n = 0;
    bool first = true;
    for (auto p : parts) {
      if (!first) joined[n++] = ':';
      first = false;
      if (!p.empty()) std::memcpy(joined.data() + n, p.data(), p.size());
      n += p.size();
    }
    bool ok = true;
    if (a == digest_algorithm::md5 || a == digest_algorithm::md5_sess) {
      MD5(reinterpret_cast<const unsigned char*>(joined.data()), n, buf);
      len = MD5_DIGEST_LENGTH;
    } else {
      EVP_MD_CTX* ctx = reused_context();
      ok = ctx && EVP_DigestInit_ex2(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, joined.data(), n) == 1 &&
           EVP_DigestFinal_ex(ctx, buf, &len) == 1;
    }
    OPENSSL_cleanse(joined.data(), n);
    if (!ok) return digest_errc::hash_failure;
  } else {
    EVP_MD_CTX* ctx = reused_context();
    if (!ctx || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) return digest_errc::hash_failure;
    bool first = true;
    for (auto p : parts) {
      if ((!first && EVP_DigestUpdate(ctx, ":", 1) != 1) || EVP_DigestUpdate(ctx, p.data(), p.size()) != 1)
        return digest_errc::hash_failure;
      first = false;
    }
    if (EVP_DigestFinal_ex(ctx, buf, &len) != 1) return digest_errc::hash_failure;
  }
  static constexpr char digits[] = "0123456789abcdef";
  out.size = 2 * len;
  for (unsigned int i = 0; i < len; ++i) {
    out.text[2 * i] = digits[buf[i] >> 4];
    out.text[2 * i + 1] = digits[buf[i] & 0x0f];
  }
  return {};
}

std::error_code hash_parts(digest_algorithm a, std::initializer_list<std::string_view> parts, std::string& out) {
  hex_hash h;
  auto ec = hash_parts(a, parts, h);
  if (!ec) out.assign(h.view());
  return ec;
}

std::error_code ha1_hex(digest_algorithm a, std::string_view realm, std::string_view nonce, const digest_inputs& in,
                        hex_hash& out) {
  if (!md_for(a)) return digest_errc::unsupported_algorithm;
  if (!in.ha1.empty()) {
    // Provisioning systems store H(username:realm:password) only; accept either case.
    if (in.ha1.size() != hex_size(a)) return digest_errc::bad_ha1;
    for (char c : in.ha1)
      if (!is_hex(c)) return digest_errc::bad_ha1;
    out.assign(in.ha1);
    for (std::size_t i = 0; i < out.size; ++i)
      if (char& c = out.text[i]; c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  } else if (auto ec = hash_parts(a, {in.username, realm, in.password}, out)) {
    return ec;
  }
  // RFC 7616 §3.4.2: the -sess forms hash the HA1 again with nonce and cnonce, once per
  // session; a stored HA1 is re-hashed the same way.
  if (is_sess(a)) return hash_parts(a, {out.view(), nonce, in.cnonce}, out);
  return {};
}

std::string show(std::string_view v) { return "\"" + std::string(v) + "\""; }

}  // namespace

std::error_code digest_hash_hex(digest_algorithm a, std::string_view data, std::string& out) {
  return hash_parts(a, {data}, out);
}

std::string format_nc(std::uint32_t nc) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, nc >>= 4) s[static_cast<std::size_t>(i)] = digits[nc & 0x0f];
  return s;
}

std::error_code compute_userhash(digest_algorithm a, std::string_view username, std::string_view realm, std::string& out) {
  return hash_parts(a, {username, realm}, out);
}

std::error_code compute_ha1(digest_algorithm a, std::string_view realm, std::string_view nonce, const digest_inputs& in,
                            std::string& out) {
  hex_hash h;
  auto ec = ha1_hex(a, realm, nonce, in, h);
  if (!ec) out.assign(h.view());
  return ec;
}

std::error_code compute_response(digest_algorithm a, digest_qop qop, std::string_view realm, std::string_view nonce,
                                 const digest_inputs& in, std::string& out) {
  if (qop == digest_qop::unknown) return digest_errc::unsupported_qop;
  hex_hash ha1, ha2, body_hash;
  if (auto ec = ha1_hex(a, realm, nonce, in, ha1)) return ec;
  // RFC 7616 §3.4.3: A2 = Method ":" request-uri [ ":" H(entity-body) ] for auth-int.
  if (qop == digest_qop::auth_int) {
    if (auto ec = hash_parts(a, {in.body}, body_hash)) return ec;
    if (auto ec = hash_parts(a, {in.method, in.uri, body_hash.view()}, ha2)) return ec;
  } else if (auto ec = hash_parts(a, {in.method, in.uri}, ha2)) {
    return ec;
  }
  // RFC 7616 §3.4.1 with qop; RFC 2069 (RFC 2617 §3.2.2.1 compatibility) without.
  if (qop == digest_qop::none) return hash_parts(a, {ha1.view(), nonce, ha2.view()}, out);
  return hash_parts(a, {ha1.view(), nonce, format_nc(in.nc), in.cnonce, to_string(qop), ha2.view()}, out);
}

std::error_code build_authorization(const digest_challenge& ch, digest_qop qop, const digest_inputs& in, std::string& out) {
  if (!ch.is_digest()) return digest_errc::unsupported_scheme;
  if (!md_for(ch.algorithm)) return digest_errc::unsupported_algorithm;
  if (qop == digest_qop::unknown) return digest_errc::unsupported_qop;
  if (ch.qop.empty() ? qop != digest_qop::none : !ch.offers(qop)) return digest_errc::unsupported_qop;
  bool uses_cnonce = qop != digest_qop::none || is_sess(ch.algorithm);
  if (!header_safe(in.username) || !header_safe(in.uri) || in.uri.empty() || !header_safe(in.cnonce) ||
      (uses_cnonce && in.cnonce.empty()) || !is_token(in.method) || !header_safe(ch.realm) || !header_safe(ch.nonce) ||
      !header_safe(ch.opaque.value_or("")))
    return digest_errc::bad_input;

  std::string response, username(in.username);
  if (auto ec = compute_response(ch.algorithm, qop, ch.realm, ch.nonce, in, response)) return ec;
  // RFC 7616 §3.4.4: with userhash the username field carries H(username ":" realm).
  if (ch.userhash)
    if (auto ec = compute_userhash(ch.algorithm, in.username, ch.realm, username)) return ec;

  std::string params;
  params.reserve(192 + username.size() + ch.realm.size() + ch.nonce.size() + in.uri.size() + in.cnonce.size() +
                 ch.opaque.value_or("").size());
  append_quoted(params, "username", username);
  append_quoted(params, "realm", ch.realm);
  append_quoted(params, "nonce", ch.nonce);
  append_quoted(params, "uri", in.uri);
  append_quoted(params, "response", response);
  params += ", algorithm=";
  params += to_string(ch.algorithm);
  if (uses_cnonce) append_quoted(params, "cnonce", in.cnonce);
  if (ch.opaque) append_quoted(params, "opaque", *ch.opaque);
  if (qop != digest_qop::none) {
    params += ", qop=";
    params += to_string(qop);
    params += ", nc=";
    params += format_nc(in.nc);
  }
  if (ch.userhash) params += ", userhash=true";
  // "Digest " and the parameters without their leading ", ", in place.
  params.replace(0, 2, ch.scheme + ' ');
  // Escaping can double a hostile realm or nonce: a value our own parser (and likely the
  // server's) would refuse is not sent.
  if (params.size() > digest_limits::max_value) return digest_errc::value_too_long;
  out = std::move(params);
  return {};
}

digest_verify_result verify_credentials(const digest_challenge& ch, const digest_credentials& cr, const digest_inputs& expect) {
  digest_verify_result r;
  auto flag = [&](digest_mismatch m, std::string detail) {
    r.mismatches |= static_cast<std::uint32_t>(m);
    r.details.push_back(std::move(detail));
  };
  if (!cr.is_digest()) {
    flag(digest_mismatch::scheme, "scheme: credentials use " + cr.scheme + ", challenge is " + ch.scheme);
    r.error = digest_errc::unsupported_scheme;
    return r;
  }
  if (cr.realm != ch.realm)
    flag(digest_mismatch::realm, "realm: credentials " + show(cr.realm) + ", challenge " + show(ch.realm));
  if (cr.nonce != ch.nonce)
    flag(digest_mismatch::nonce, "nonce: credentials " + show(cr.nonce) + ", challenge " + show(ch.nonce));
  if (!expect.uri.empty() && cr.uri != expect.uri)
    flag(digest_mismatch::uri, "uri: credentials " + show(cr.uri) + ", Request-URI " + show(expect.uri));
  bool same_alg = cr.algorithm == ch.algorithm &&
                  (cr.algorithm != digest_algorithm::unknown || iequals(cr.algorithm_text, ch.algorithm_text));
  if (!same_alg) {
    auto name = [](digest_algorithm a, const std::string& text) {
      return a == digest_algorithm::unknown ? text : std::string(to_string(a));
    };
    flag(digest_mismatch::algorithm, "algorithm: credentials " + name(cr.algorithm, cr.algorithm_text) + ", challenge " +
                                         name(ch.algorithm, ch.algorithm_text));
  }
  std::string offered;
  for (const auto& q : ch.qop) offered += (offered.empty() ? "" : ",") + q;
  if (ch.qop.empty() && cr.qop != digest_qop::none)
    flag(digest_mismatch::qop, "qop: credentials use qop=" + cr.qop_text + ", challenge offered none");
  else if (!ch.qop.empty() && cr.qop == digest_qop::none)
    flag(digest_mismatch::qop, "qop: missing in credentials, challenge offered " + offered);
  else if (!ch.qop.empty() && !ch.offers(cr.qop))
    flag(digest_mismatch::qop, "qop: credentials use qop=" + cr.qop_text + ", challenge offered " + offered);
  if (ch.opaque && cr.opaque != ch.opaque)
    flag(digest_mismatch::opaque,
         "opaque: credentials " + (cr.opaque ? show(*cr.opaque) : "absent") + ", challenge " + show(*ch.opaque));
  if (ch.userhash && !cr.userhash)
    flag(digest_mismatch::userhash, "userhash: challenge asked for it, credentials send a clear username");
  if (!expect.username.empty()) {
    std::string want(expect.username);
    if (cr.userhash && compute_userhash(cr.algorithm, expect.username, cr.realm, want)) want.clear();
    bool same = cr.userhash ? iequals(cr.username, want) : cr.username == want;
    if (!same)
      flag(digest_mismatch::username,
           "username: credentials " + show(cr.username) + ", expected " + show(want) + (cr.userhash ? " (userhash)" : ""));
  }

  // Recompute from what the sender hashed, so a wrong secret is told apart from a field
  // copied wrongly from the challenge.
  digest_inputs in = expect;
  in.username = cr.username;
  if (cr.userhash) {
    in.username = expect.username;
    if (expect.username.empty() && expect.ha1.empty()) r.error = digest_errc::missing_username_for_userhash;
  }
  in.uri = cr.uri;
  in.cnonce = cr.cnonce;
  in.nc = cr.nc;
  if (!r.error) r.error = compute_response(cr.algorithm, cr.qop, cr.realm, cr.nonce, in, r.expected_response);
  if (r.error) {
    r.expected_response.clear();
    r.details.push_back("response: cannot be checked (" + r.error.message() + ")");
    return r;
  }
  r.response_ok = iequals(cr.response, r.expected_response);
  if (!r.response_ok)
    r.details.push_back("response: credentials " + show(cr.response) + ", expected " + show(r.expected_response) +
                        " (wrong password / HA1, method or body)");
  return r;
}

}  // namespace sip
