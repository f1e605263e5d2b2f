#include "netcheck/tls_report.hpp"

#include "netcheck/error.hpp"

#include <boost/asio/ip/address.hpp>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ctime>
#include <memory>
#include <system_error>

namespace netcheck {
namespace {

std::string openssl_error_text(unsigned long e) {
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  return buf.data();
}

// RFC 2253 one-line form of a distinguished name.
std::string name_text(const X509_NAME* name) {
  if (name == nullptr) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio) return {};
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string common_name(const X509_NAME* name) {
  if (name == nullptr) return {};
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) return {};
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::optional<std::chrono::system_clock::time_point> asn1_time_point(const ASN1_TIME* t) {
  if (t == nullptr) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

void read_sans(tls_report& r, X509* cert) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const ASN1_STRING* s = gn->d.dNSName;
      r.san_dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                             static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      const unsigned char* p = ASN1_STRING_get0_data(s);
      int len = ASN1_STRING_length(s);
      if (len == 4) {
        boost::asio::ip::address_v4::bytes_type b{};
        std::memcpy(b.data(), p, 4);
        r.san_ip.push_back(boost::asio::ip::address_v4(b).to_string());
      } else if (len == 16) {
        boost::asio::ip::address_v6::bytes_type b{};
        std::memcpy(b.data(), p, 16);
        r.san_ip.push_back(boost::asio::ip::address_v6(b).to_string());
      }
    }
  }
  GENERAL_NAMES_free(names);
}

// Verification errors in the order that explains a failure best (see primary_verify_error).
int verdict_rank(tls_verdict v) noexcept {
  switch (v) {
    case tls_verdict::untrusted: return 0;
    case tls_verdict::self_signed: return 1;
    case tls_verdict::expired: return 2;
    case tls_verdict::not_yet_valid: return 3;
    case tls_verdict::name_mismatch: return 4;
    case tls_verdict::other: return 5;
    case tls_verdict::ok: return 6;
  }
  return 6;
}

}  // namespace

namespace {

constexpr std::size_t max_ca_file = 16 * 1024 * 1024;  // the system bundle is ~200 KiB

// The labels of the PEM blocks in `text` ("CERTIFICATE", "PRIVATE KEY"), at most eight.
std::vector<std::string> pem_labels(const std::string& text) {
  std::vector<std::string> labels;
  const std::string begin = "-----BEGIN ";
  for (auto at = text.find(begin); at != std::string::npos && labels.size() < 8; at = text.find(begin, at + 1)) {
    const auto start = at + begin.size();
    const auto end = text.find("-----", start);
    if (end == std::string::npos || end - start > 64) continue;
    labels.push_back(text.substr(start, end - start));
  }
  return labels;
}

// What reading the file itself says: "" when it holds at least one certificate block,
// whose text is then in `text`.
std::string ca_file_content_problem(const std::string& path, std::string& text) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return errno == ENOENT ? "does not exist" : std::string("cannot be read: ") + std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory, not a file";
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot be read: ") + std::strerror(errno);
  text.clear();
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_ca_file) return "is larger than 16 MiB: not a CA bundle";
  }
  if (in.bad()) return std::string("cannot be read: ") + std::strerror(errno);
  if (text.empty()) return "is empty";
  const auto labels = pem_labels(text);
  if (labels.empty())
    return "is not a PEM file (no -----BEGIN line; a DER certificate converts with: openssl x509 -inform der -in FILE)";
  for (const auto& l : labels)
    if (l == "CERTIFICATE" || l == "TRUSTED CERTIFICATE" || l == "X509 CERTIFICATE") return "";
  std::string list;
  for (const auto& l : labels) list += (list.empty() ? "" : ", ") + l;
  return "holds no certificate (its PEM blocks: " + list + ")";
}

using store_ptr = std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)>;

// OpenSSL's reason for the first error queued since ERR_clear_error(), or `otherwise`.
std::string first_error_reason(const char* otherwise) {
  const unsigned long e = ERR_peek_error();  // the first: what went wrong, not where
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : otherwise;
}

// The certificates (and CRLs) of the PEM text, as X509_STORE_load_file reads a file
// (X509_load_cert_crl_file), but from the text already read: the file is read once.
// nullptr with `why` when they do not decode.
store_ptr decode_ca_text(const std::string& text, std::string& why) {
  ERR_clear_error();
  store_ptr store(X509_STORE_new(), &X509_STORE_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
  STACK_OF(X509_INFO)* infos = store && bio ? PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (infos == nullptr) {
    why = first_error_reason("not valid PEM");
    return store_ptr(nullptr, &X509_STORE_free);
  }
  int count = 0;
  bool added = true;
  for (int i = 0; added && i < sk_X509_INFO_num(infos); ++i) {
    const X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 != nullptr) {
      added = X509_STORE_add_cert(store.get(), info->x509) == 1;
      ++count;
    }
    if (added && info->crl != nullptr) {
      added = X509_STORE_add_crl(store.get(), info->crl) == 1;
      ++count;
    }
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  if (!added || count == 0) {
    why = first_error_reason("no certificate or crl found");
    return store_ptr(nullptr, &X509_STORE_free);
  }
  return store;
}

// The trusted CAs of `path`, or nullptr with `why` (ca_file_problem's words).
store_ptr read_ca_store(const std::string& path, std::string& why) {
  std::string text;
  why = ca_file_content_problem(path, text);
  if (!why.empty()) return store_ptr(nullptr, &X509_STORE_free);
  // The blocks are there: does OpenSSL decode them?
  std::string reason;
  auto store = decode_ca_text(text, reason);
  if (!store) why = "a certificate in it does not decode (" + reason + ")";
  return store;
}

}  // namespace

std::string ca_file_problem(const std::string& path) {
  std::string why;
  read_ca_store(path, why);
  return why;
}

void tls_context::store_free::operator()(x509_store_st* s) const noexcept { X509_STORE_free(s); }

tls_context::tls_context(tls_options options) : options_(std::move(options)) {}
tls_context::~tls_context() = default;
tls_context::tls_context(tls_context&&) noexcept = default;
tls_context& tls_context::operator=(tls_context&&) noexcept = default;

std::string tls_context::read_ca_file() {
  if (options_.ca_file.empty() || ca_store_) return "";
  std::string why;
  ca_store_.reset(read_ca_store(options_.ca_file, why).release());
  return why;
}

boost::asio::ssl::context& tls_context::ssl() {
  if (ssl_) return *ssl_;
  if (!options_.ca_file.empty()) {
    if (auto why = read_ca_file(); !why.empty())
      throw std::system_error(make_error_code(errc::bad_ca_file), "CA file '" + options_.ca_file + "' " + why);
  }
  auto made = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  SSL_CTX* native = made->native_handle();
  // RFC 8996 deprecates TLS 1.0/1.1; RFC 5630 asks SIPS for TLS anyway.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (ca_store_) {
    SSL_CTX_set_cert_store(native, ca_store_.release());  // the context owns it from here
  } else {
    ERR_clear_error();
    if (SSL_CTX_set_default_verify_paths(native) != 1) {
      const unsigned long e = ERR_get_error();
      ERR_clear_error();
      const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
      throw std::system_error(make_error_code(errc::bad_ca_file),
                              std::string("system trust store") + (reason != nullptr ? std::string(": ") + reason : ""));
    }
  }
  ssl_ = std::move(made);
  return *ssl_;
}

tls_context make_tls_context(const tls_options& options) {
  tls_context ctx(options);
  ctx.ssl();
  return ctx;
}

std::string_view to_string(tls_verdict v) noexcept {
  switch (v) {
    case tls_verdict::ok: return "ok";
    case tls_verdict::expired: return "expired";
    case tls_verdict::not_yet_valid: return "not_yet_valid";
    case tls_verdict::untrusted: return "untrusted";
    case tls_verdict::self_signed: return "self_signed";
    case tls_verdict::name_mismatch: return "name_mismatch";
    case tls_verdict::other: return "other";
  }
  return "other";
}

tls_verdict classify_verify_error(long code) noexcept {
  switch (code) {
    case X509_V_OK: return tls_verdict::ok;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_HAS_EXPIRED: return tls_verdict::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CRL_NOT_YET_VALID: return tls_verdict::not_yet_valid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: return tls_verdict::self_signed;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_INVALID_CA: return tls_verdict::untrusted;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH: return tls_verdict::name_mismatch;
    default: return tls_verdict::other;
  }
}

long primary_verify_error(const std::vector<tls_verify_error>& errors) noexcept {
  long best = X509_V_OK;
  int best_rank = verdict_rank(tls_verdict::ok);
  for (const auto& e : errors) {
    int rank = verdict_rank(classify_verify_error(e.code));
    if (rank < best_rank) {  // strict: the first recorded of equal rank wins
      best = e.code;
      best_rank = rank;
    }
  }
  return best;
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

void describe_certificate(tls_report& r, x509_st* cert, std::chrono::system_clock::time_point now) {
  if (cert == nullptr) return;
  r.has_certificate = true;
  r.subject = name_text(X509_get_subject_name(cert));
  r.subject_cn = common_name(X509_get_subject_name(cert));
  r.issuer = name_text(X509_get_issuer_name(cert));
  r.issuer_cn = common_name(X509_get_issuer_name(cert));
  r.san_dns.clear();
  r.san_ip.clear();
  read_sans(r, cert);
  if (auto nb = asn1_time_point(X509_get0_notBefore(cert))) r.not_before = iso8601_utc(*nb);
  if (auto na = asn1_time_point(X509_get0_notAfter(cert))) {
    r.not_after = iso8601_utc(*na);
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(*na - now).count();
    // Floor division: a certificate that expired an hour ago has -1 days left, not 0.
    long days = static_cast<long>(secs / 86400);
    if (secs % 86400 != 0 && secs < 0) --days;
    r.days_left = days;
  }
}

void describe_session(tls_report& r, ssl_st* ssl, std::vector<tls_verify_error> errors,
                      std::chrono::system_clock::time_point now) {
  if (ssl == nullptr) return;
  if (SSL_is_init_finished(ssl)) {
    r.protocol = SSL_get_version(ssl);
    if (const char* c = SSL_get_cipher_name(ssl)) r.cipher = c;
  }
  X509* cert = SSL_get0_peer_certificate(ssl);
  describe_certificate(r, cert, now);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    r.chain_length = static_cast<std::size_t>(sk_X509_num(chain));
  }
  // The callback saw everything; SSL_get_verify_result (the last error) is a fallback for
  // a verification that ran without it.
  long last = SSL_get_verify_result(ssl);
  if (errors.empty() && last != X509_V_OK && cert != nullptr) errors.push_back({0, last});
  r.verify_errors = std::move(errors);
  if (cert == nullptr) {
    r.verify_code = X509_V_OK;
    r.verify_reason = "no server certificate received";
    r.verdict = tls_verdict::other;
  } else {
    r.verify_code = primary_verify_error(r.verify_errors);
    r.verify_reason = X509_verify_cert_error_string(r.verify_code);
    r.verdict = classify_verify_error(r.verify_code);
  }
  r.name_checked = !r.checked_name.empty() && cert != nullptr;
  r.name_matched = r.name_checked;
  for (const auto& e : r.verify_errors) {
    if (e.code == X509_V_ERR_HOSTNAME_MISMATCH || e.code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      r.name_matched = false;
    }
  }
}

std::string describe_handshake_error(unsigned long e) {
  if (e == 0) return "TLS handshake failed";
  std::string text = openssl_error_text(e);
  if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
    switch (ERR_GET_REASON(e)) {
      // The bytes received do not parse as TLS records: a plain TCP (SIP, HTTP…) listener.
      case SSL_R_WRONG_VERSION_NUMBER:
      case SSL_R_PACKET_LENGTH_TOO_LONG:
      case SSL_R_UNKNOWN_PROTOCOL:
      case SSL_R_HTTP_REQUEST:
      case SSL_R_HTTPS_PROXY_REQUEST:
      case SSL_R_RECORD_LENGTH_MISMATCH:
      case SSL_R_WRONG_SSL_VERSION: return "peer did not speak TLS (" + text + ")";
      case SSL_R_UNEXPECTED_EOF_WHILE_READING: return "peer closed the connection during the TLS handshake (" + text + ")";
      case SSL_R_UNSUPPORTED_PROTOCOL:
      case SSL_R_NO_PROTOCOLS_AVAILABLE:
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION: return "no TLS protocol version in common (" + text + ")";
      case SSL_R_NO_SHARED_CIPHER:
      case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE: return "no cipher or parameters in common (" + text + ")";
      default: break;
    }
  }
  return "TLS handshake failed (" + text + ")";
}

}  // namespace netcheck
