// sip/digest.cpp — error category, names, challenge and credentials parsing.
// Choosing lives in digest_choose.cpp; hashing, building, verifying in digest_compute.cpp.
#include "sip/digest.hpp"

#include <algorithm>
#include <array>

#include "sip/scan.hpp"

namespace sip {
namespace {

class digest_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sip.digest"; }

  std::string message(int ev) const override {
    switch (static_cast<digest_errc>(ev)) {
      case digest_errc::ok: return "success";
      case digest_errc::empty_value: return "no authentication scheme in the header value";
      case digest_errc::value_too_long: return "authentication header value too long";
      case digest_errc::too_many_challenges: return "too many challenges in one header";
      case digest_errc::too_many_params: return "too many auth-params";
      case digest_errc::bad_scheme: return "malformed authentication scheme";
      case digest_errc::bad_auth_param: return "malformed auth-param (expected name=value)";
      case digest_errc::bad_quoted_string: return "unterminated quoted string";
      case digest_errc::duplicate_param: return "auth-param given more than once";
      case digest_errc::missing_realm: return "Digest challenge or credentials without realm";
      case digest_errc::missing_nonce: return "Digest challenge or credentials without nonce";
      case digest_errc::bad_qop: return "malformed qop";
      case digest_errc::missing_username: return "Digest credentials without username";
      case digest_errc::missing_uri: return "Digest credentials without uri";
      case digest_errc::missing_response: return "Digest credentials without response";
      case digest_errc::missing_cnonce: return "Digest credentials with qop but without cnonce";
      case digest_errc::missing_nc: return "Digest credentials with qop but without nc";
      case digest_errc::bad_nc: return "nc is not 8 hexadecimal digits";
      case digest_errc::bad_username_star: return "malformed username* (RFC 8187 ext-value)";
      case digest_errc::multiple_credentials: return "more than one credentials in one header";
      case digest_errc::unsupported_scheme: return "authentication scheme is not Digest";
      case digest_errc::unsupported_algorithm: return "unsupported digest algorithm";
      case digest_errc::unsupported_qop: return "unsupported or not offered qop";
      case digest_errc::no_supported_challenge: return "no supported Digest challenge";
      case digest_errc::bad_input: return "control character in a value for an auth header";
      case digest_errc::bad_ha1: return "HA1 is not hex of the algorithm's digest size";
      case digest_errc::missing_username_for_userhash: return "userhash credentials need the clear username to verify";
      case digest_errc::hash_failure: return "digest computation failed";
    }
    return "unknown digest error";
  }
};

// RFC 7235 §2.1 token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_token68_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

// An unquoted auth-param value. RFC 7235 says token, but servers send base64 nonces
// unquoted ('/', '+', '='), so anything visible that cannot end the value is accepted.
bool is_bare_value_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && c != ',' && c != '"';
}

// Records where parsing failed and returns the error.
std::error_code fail(std::size_t& err, std::size_t at, digest_errc e) {
  err = at;
  return e;
}

struct raw_param {
  std::string_view name;
  std::string_view value;
  bool quoted = false;
  std::size_t offset = 0;
};

struct raw_element {
  std::string_view scheme;
  std::string_view token68;
  std::vector<raw_param> params;
  std::size_t offset = 0;
};

// A cursor over the header value; `pos` is the offset of `rest` in the value.
class scanner {
 public:
  explicit scanner(std::string_view v) : all_(v), rest_(v) {}

  std::size_t pos() const noexcept { return all_.size() - rest_.size(); }
  bool done() const noexcept { return rest_.empty(); }
  char peek() const noexcept { return rest_.empty() ? '\0' : rest_.front(); }
  std::string_view rest() const noexcept { return rest_; }
  void seek(std::string_view r) noexcept { rest_ = r; }

  // Returns true when at least one byte of LWS was skipped.
  bool lws() noexcept {
    auto before = rest_.size();
    rest_ = skip_lws(rest_);
    return rest_.size() != before;
  }
  void lws_and_commas() noexcept {
    for (;;) {
      lws();
      if (peek() != ',') return;
      rest_.remove_prefix(1);
    }
  }
  std::string_view token() noexcept {
    std::size_t n = 0;
    while (n < rest_.size() && is_token_char(rest_[n])) ++n;
    auto t = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return t;
  }
  // At end, or at a comma after optional LWS (the end of a list element).
  bool at_element_end() const noexcept {
    auto r = skip_lws(rest_);
    return r.empty() || r.front() == ',';
  }

 private:
  std::string_view all_;
  std::string_view rest_;
};

// Tries `token68` at the cursor; consumes it only if it ends the list element.
bool try_token68(scanner& s, std::string_view& out) {
  auto r = s.rest();
  std::size_t n = 0;
  while (n < r.size() && is_token68_char(r[n])) ++n;
  if (n == 0) return false;
  while (n < r.size() && r[n] == '=') ++n;
  scanner probe(r.substr(n));
  if (!probe.at_element_end()) return false;
  out = r.substr(0, n);
  s.seek(r.substr(n));
  return true;
}

// auth-param = token BWS "=" BWS ( token / quoted-string )
std::error_code read_param(scanner& s, raw_param& p, std::size_t& err) {
  p.offset = s.pos();
  p.name = s.token();
  if (p.name.empty()) return fail(err, s.pos(), digest_errc::bad_auth_param);
  s.lws();
  if (s.peek() != '=') return fail(err, s.pos(), digest_errc::bad_auth_param);
  s.seek(s.rest().substr(1));
  s.lws();
  if (s.peek() == '"') {
    std::string_view rest;
    if (read_quoted(s.rest(), p.value, rest)) return fail(err, s.pos(), digest_errc::bad_quoted_string);
    p.quoted = true;
    s.seek(rest);
  } else {
    auto r = s.rest();
    std::size_t n = 0;
    while (n < r.size() && is_bare_value_char(r[n])) ++n;
    if (n == 0 || r.front() == '=') return fail(err, s.pos(), digest_errc::bad_auth_param);
    p.value = r.substr(0, n);
    s.seek(r.substr(n));
  }
  if (!s.at_element_end()) {
    s.lws();
    err = s.pos();
    return digest_errc::bad_auth_param;
  }
  return {};
}

// True when the cursor is at `token BWS "="`: the next auth-param of the same challenge
// rather than the scheme of a new one (RFC 7235 §4.1 parsing note).
bool next_is_param(const scanner& s) {
  scanner probe(s.rest());
  if (probe.token().empty()) return false;
  probe.lws();
  return probe.peek() == '=';
}

// Splits a challenge / credentials list into elements of scheme + token68 / params.
std::error_code scan_elements(std::string_view v, std::vector<raw_element>& out, std::size_t& err) {
  if (v.size() > digest_limits::max_value) return fail(err, digest_limits::max_value, digest_errc::value_too_long);
  // Trailing LWS / line ending only: leading bytes stay so offsets match the input.
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
  scanner s(v);
  s.lws_and_commas();
  if (s.done()) return fail(err, s.pos(), digest_errc::empty_value);
  while (!s.done()) {
    if (out.size() == digest_limits::max_challenges) return fail(err, s.pos(), digest_errc::too_many_challenges);
    raw_element e;
    e.offset = s.pos();
    e.scheme = s.token();
    if (e.scheme.empty()) return fail(err, s.pos(), digest_errc::bad_scheme);
    bool had_space = s.lws();
    if (!s.done() && s.peek() != ',') {
      if (!had_space) return fail(err, s.pos(), digest_errc::bad_scheme);
      bool digest = iequals(e.scheme, "Digest");
      if (digest || !try_token68(s, e.token68)) {
        e.params.reserve(8);  // realm, nonce, qop, algorithm, opaque…: one allocation
        for (;;) {
          if (e.params.size() == digest_limits::max_params) return fail(err, s.pos(), digest_errc::too_many_params);
          raw_param p;
          if (auto ec = read_param(s, p, err)) return ec;
          e.params.push_back(p);
          s.lws_and_commas();
          if (s.done() || !next_is_param(s)) break;
        }
      }
    }
    out.push_back(std::move(e));
    s.lws_and_commas();
  }
  return {};
}

std::string param_value(const raw_param& p) { return p.quoted ? unescape_quoted(p.value) : std::string(p.value); }

bool is_true(std::string_view v) noexcept { return iequals(v, "true"); }

// RFC 7235 §2.1: each parameter name MUST only occur once per challenge.
std::error_code check_duplicates(const raw_element& e, std::size_t& err) {
  for (std::size_t i = 0; i < e.params.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (iequals(e.params[i].name, e.params[j].name)) return fail(err, e.params[i].offset, digest_errc::duplicate_param);
  return {};
}

// Splits `s` at any of `seps`, dropping empty pieces.
std::vector<std::string> split_list(std::string_view s, std::string_view seps) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || seps.find(s[i]) != std::string_view::npos) {
      if (i > start) out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

digest_qop parse_qop_value(std::string_view v) noexcept {
  if (iequals(v, "auth")) return digest_qop::auth;
  if (iequals(v, "auth-int")) return digest_qop::auth_int;
  return digest_qop::unknown;
}

std::error_code to_challenge(const raw_element& e, digest_challenge& c, std::size_t& err) {
  c.scheme = std::string(e.scheme);
  c.token68 = std::string(e.token68);
  if (auto ec = check_duplicates(e, err)) return ec;
  bool digest = c.is_digest();
  bool has_realm = false, has_nonce = false;
  for (const auto& p : e.params) {
    auto v = param_value(p);
    auto is = [&](std::string_view n) { return digest && iequals(p.name, n); };
    if (is("realm")) {
      c.realm = std::move(v);
      has_realm = true;
    } else if (is("nonce")) {
      c.nonce = std::move(v);
      has_nonce = true;
    } else if (is("domain")) c.domain = split_list(v, " \t");
    else if (is("opaque")) c.opaque = std::move(v);
    else if (is("stale")) c.stale = is_true(v);
    else if (is("userhash")) c.userhash = is_true(v);
    else if (is("charset")) c.charset = std::move(v);
    else if (is("algorithm")) {
      c.algorithm = parse_digest_algorithm(v);
      c.algorithm_text = std::move(v);
    } else if (is("qop")) {
      c.qop = split_list(v, ", \t");
      if (c.qop.empty()) return fail(err, p.offset, digest_errc::bad_qop);
    } else if (!digest && iequals(p.name, "realm")) {
      c.realm = v;  // Basic realm="…" is worth reporting too
      c.other.push_back({std::string(p.name), std::move(v), p.quoted});
    } else {
      c.other.push_back({std::string(p.name), std::move(v), p.quoted});
    }
  }
  if (digest && !has_realm) return fail(err, e.offset, digest_errc::missing_realm);
  if (digest && !has_nonce) return fail(err, e.offset, digest_errc::missing_nonce);
  return {};
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" /
// "|" / "~"
bool is_attr_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 8187 ext-value = charset "'" [ language ] "'" value-chars; UTF-8 and ISO-8859-1.
bool decode_ext_value(std::string_view v, std::string& out) {
  auto q1 = v.find('\'');
  if (q1 == std::string_view::npos) return false;
  auto q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return false;
  auto charset = v.substr(0, q1);
  bool latin1 = iequals(charset, "ISO-8859-1");
  if (!latin1 && !iequals(charset, "UTF-8")) return false;
  out.clear();
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    unsigned char b = static_cast<unsigned char>(v[i]);
    if (v[i] == '%') {
      if (i + 2 >= v.size()) return false;
      int hi = hex_value(v[i + 1]), lo = hex_value(v[i + 2]);
      if (hi < 0 || lo < 0) return false;
      b = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
    } else if (!is_attr_char(v[i])) {
      return false;
    }
    if (latin1 && b >= 0x80) {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
  return true;
}

std::error_code to_credentials(const raw_element& e, digest_credentials& c, std::size_t& err) {
  c = digest_credentials{};
  c.scheme = std::string(e.scheme);
  c.token68 = std::string(e.token68);
  if (auto ec = check_duplicates(e, err)) return ec;
  if (!c.is_digest()) {
    for (const auto& p : e.params) c.other.push_back({std::string(p.name), param_value(p), p.quoted});
    return {};
  }
  bool has[6] = {};  // username, realm, nonce, uri, response, nc
  for (const auto& p : e.params) {
    auto v = param_value(p);
    auto is = [&](std::string_view n) { return iequals(p.name, n); };
    if (is("username")) {
      if (has[0]) return fail(err, p.offset, digest_errc::bad_username_star);
      c.username = std::move(v);
      has[0] = true;
    } else if (is("username*")) {
      if (has[0] || !decode_ext_value(v, c.username)) return fail(err, p.offset, digest_errc::bad_username_star);
      c.username_star = true;
      has[0] = true;
    } else if (is("realm")) {
      c.realm = std::move(v);
      has[1] = true;
    } else if (is("nonce")) {
      c.nonce = std::move(v);
      has[2] = true;
    } else if (is("uri")) {
      c.uri = std::move(v);
      has[3] = true;
    } else if (is("response")) {
      c.response = std::move(v);
      has[4] = true;
    } else if (is("cnonce")) c.cnonce = std::move(v);
    else if (is("opaque")) c.opaque = std::move(v);
    else if (is("userhash")) c.userhash = is_true(v);
    else if (is("algorithm")) {
      c.algorithm = parse_digest_algorithm(v);
      c.algorithm_text = std::move(v);
    } else if (is("qop")) {
      if (v.empty() || v.find_first_of(", \t") != std::string::npos) return fail(err, p.offset, digest_errc::bad_qop);
      c.qop = parse_qop_value(v);
      c.qop_text = std::move(v);
    } else if (is("nc")) {
      // RFC 7616 §3.4: nc-value = 8LHEX
      if (v.size() != 8) return fail(err, p.offset, digest_errc::bad_nc);
      std::uint32_t n = 0;
      for (char ch : v) {
        int d = hex_value(ch);
        if (d < 0) return fail(err, p.offset, digest_errc::bad_nc);
        n = n * 16 + static_cast<std::uint32_t>(d);
      }
      c.nc = n;
      has[5] = true;
    } else {
      c.other.push_back({std::string(p.name), std::move(v), p.quoted});
    }
  }
  err = e.offset;
  if (!has[0]) return digest_errc::missing_username;
  if (!has[1]) return digest_errc::missing_realm;
  if (!has[2]) return digest_errc::missing_nonce;
  if (!has[3]) return digest_errc::missing_uri;
  if (!has[4]) return digest_errc::missing_response;
  if (!c.qop_text.empty()) {
    if (c.cnonce.empty()) return digest_errc::missing_cnonce;
    if (!has[5]) return digest_errc::missing_nc;
  }
  return {};
}

}  // namespace

const std::error_category& digest_category() noexcept {
  static const digest_category_impl instance;
  return instance;
}

std::string_view to_string(digest_algorithm a) noexcept {
  switch (a) {
    case digest_algorithm::md5: return "MD5";
    case digest_algorithm::md5_sess: return "MD5-sess";
    case digest_algorithm::sha256: return "SHA-256";
    case digest_algorithm::sha256_sess: return "SHA-256-sess";
    case digest_algorithm::sha512_256: return "SHA-512-256";
    case digest_algorithm::sha512_256_sess: return "SHA-512-256-sess";
    case digest_algorithm::unknown: break;
  }
  return "unknown";
}

std::string_view to_string(digest_qop q) noexcept {
  switch (q) {
    case digest_qop::auth: return "auth";
    case digest_qop::auth_int: return "auth-int";
    case digest_qop::none:
    case digest_qop::unknown: break;
  }
  return "";
}

digest_algorithm parse_digest_algorithm(std::string_view s) noexcept {
  if (s.empty()) return digest_algorithm::md5;
  static constexpr std::array all = {digest_algorithm::md5,        digest_algorithm::md5_sess,
                                     digest_algorithm::sha256,     digest_algorithm::sha256_sess,
                                     digest_algorithm::sha512_256, digest_algorithm::sha512_256_sess};
  for (auto a : all)
    if (iequals(s, to_string(a))) return a;
  return digest_algorithm::unknown;
}

bool is_sess(digest_algorithm a) noexcept {
  return a == digest_algorithm::md5_sess || a == digest_algorithm::sha256_sess || a == digest_algorithm::sha512_256_sess;
}

bool digest_challenge::is_digest() const noexcept { return iequals(scheme, "Digest"); }

bool digest_challenge::offers(digest_qop q) const noexcept {
  auto name = to_string(q);
  if (name.empty()) return false;
  return std::any_of(qop.begin(), qop.end(), [&](const std::string& o) { return iequals(o, name); });
}

bool digest_credentials::is_digest() const noexcept { return iequals(scheme, "Digest"); }

std::error_code parse_challenges(std::string_view value, std::vector<digest_challenge>& out, std::size_t* error_offset) {
  std::vector<raw_element> elements;
  std::size_t err = 0;
  auto ec = scan_elements(value, elements, err);
  std::vector<digest_challenge> parsed(elements.size());
  for (std::size_t i = 0; !ec && i < elements.size(); ++i) ec = to_challenge(elements[i], parsed[i], err);
  if (ec) {
    if (error_offset) *error_offset = err;
    return ec;
  }
  out.insert(out.end(), std::make_move_iterator(parsed.begin()), std::make_move_iterator(parsed.end()));
  return {};
}

std::error_code parse_credentials(std::string_view value, digest_credentials& out, std::size_t* error_offset) {
  std::vector<raw_element> elements;
  std::size_t err = 0;
  auto ec = scan_elements(value, elements, err);
  if (!ec && elements.size() > 1) {
    err = elements[1].offset;
    ec = digest_errc::multiple_credentials;
  }
  if (!ec) ec = to_credentials(elements.front(), out, err);
  if (ec && error_offset) *error_offset = err;
  return ec;
}

}  // namespace sip
