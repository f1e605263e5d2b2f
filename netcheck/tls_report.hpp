// netcheck/tls_report.hpp — the TLS client context and what a handshake tells about the peer.
//
// Verification is *recorded*, not enforced by OpenSSL: the verify callback notes every error
// and returns true, so the handshake completes and the certificate can be reported; the
// verdict is decided afterwards from the recorded errors (62 host name mismatch, 64 IP
// mismatch, 19/20/21 untrusted, 18 self-signed, 10 expired, 9 not yet valid …). Asio's
// host_name_verification is not used: it hides the reason.
//
// Names are checked with X509_VERIFY_PARAM_set1_host, IP literals with
// X509_VERIFY_PARAM_set1_ip_asc; SNI is sent for names only (RFC 6066 §3 forbids literals).
#pragma once

#include "netcheck/common.hpp"

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// OpenSSL types, so this header does not pull in <openssl/ssl.h>.
struct ssl_st;
struct x509_st;
struct x509_store_st;

namespace netcheck {

// ---- the client context ------------------------------------------------------------------

struct tls_options {
  std::string ca_file;    // PEM bundle of trusted CAs; empty: the system default store
  bool insecure = false;  // complete the connection even when verification fails (still reported)
};

// A TLS client context that costs nothing until a TLS connection needs it: loading the
// system's CA store takes tens of milliseconds, and most runs never make a TLS connection.
// The OpenSSL context is made, and the trusted CAs loaded, by the first ssl() call — once
// for every flow that shares this object. Flows read `options().insecure`. Must outlive,
// and stay where it is for, every flow that uses it.
class tls_context {
 public:
  explicit tls_context(tls_options options);
  ~tls_context();
  tls_context(tls_context&&) noexcept;
  tls_context& operator=(tls_context&&) noexcept;

  const tls_options& options() const noexcept { return options_; }

  // Reads and decodes options().ca_file now (nothing to do without one) and keeps its
  // certificates for ssl(), so the file is read once and a bad one is known before any
  // connection. Returns why the file cannot serve, as ca_file_problem() words it; "" when
  // it can.
  std::string read_ca_file();

  // The OpenSSL context, made on the first call: TLS 1.2 minimum, trust from the CA file
  // (read_ca_file()'s certificates, or the file read now) or else the system default store
  // (SSL_CTX_set_default_verify_paths). Throws std::system_error (errc::bad_ca_file, the
  // message says why) when the CAs cannot be loaded; the next call tries again.
  boost::asio::ssl::context& ssl();

  // Whether ssl() has made the context.
  bool loaded() const noexcept { return ssl_ != nullptr; }

 private:
  struct store_free {
    void operator()(x509_store_st* s) const noexcept;
  };
  tls_options options_;
  std::unique_ptr<x509_store_st, store_free> ca_store_;  // read_ca_file()'s, until ssl() takes it
  std::unique_ptr<boost::asio::ssl::context> ssl_;
};

// Why `path` cannot serve as a PEM bundle of trusted CAs, as one line without OpenSSL's
// codes: "does not exist", "is a directory, not a file", "cannot be read: …", "is empty",
// "is not a PEM file …", "holds no certificate (its PEM blocks: …)", "a certificate in it
// does not decode (…)"; "" when OpenSSL loads it.
std::string ca_file_problem(const std::string& path);

// A context made and loaded now (ssl() already called): throws as ssl() does.
tls_context make_tls_context(const tls_options& options);

// ---- the report ----------------------------------------------------------------------------

// Our own short classification of the verification outcome.
enum class tls_verdict {
  ok,             // chain trusted, dates valid, name matched (or no name was given)
  expired,        // X509_V_ERR_CERT_HAS_EXPIRED (10) somewhere in the chain
  not_yet_valid,  // X509_V_ERR_CERT_NOT_YET_VALID (9)
  untrusted,      // 2, 19, 20, 21, 27 …: the chain does not lead to a trusted CA
  self_signed,    // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT (18): the leaf signs itself
  name_mismatch,  // 62 (host name) or 64 (IP address) mismatch
  other,          // any other verification error, or no certificate at all
};
std::string_view to_string(tls_verdict v) noexcept;  // "ok", "expired", …

// Maps one X509_V_ERR_* code (0 = X509_V_OK → ok).
tls_verdict classify_verify_error(long code) noexcept;

struct tls_verify_error {
  int depth = 0;  // 0 = the server's own certificate
  long code = 0;  // X509_V_ERR_*
};

// Picks the error that explains the outcome best: a chain that is not trusted matters more
// than its dates, and dates more than the name (an untrusted certificate with the right name
// is still untrusted). Returns 0 (X509_V_OK) for an empty list.
long primary_verify_error(const std::vector<tls_verify_error>& errors) noexcept;

struct tls_report {
  // The connection, after a completed handshake ("" otherwise).
  std::string protocol;      // "TLSv1.3"
  std::string cipher;        // "TLS_AES_256_GCM_SHA384"
  std::string sni;           // server name sent ("" for IP literals and empty hosts)
  std::string checked_name;  // name or IP verified against the certificate ("" = not checked)

  // The server certificate (leaf); has_certificate false when none was received.
  bool has_certificate = false;
  std::string subject;               // RFC 2253 one-line form: "CN=sip.test,O=Example"
  std::string subject_cn;            // "sip.test"
  std::vector<std::string> san_dns;  // DNS names of subjectAltName
  std::vector<std::string> san_ip;   // IP addresses of subjectAltName ("127.0.0.1", "::1")
  std::string issuer;                // RFC 2253 one-line form
  std::string issuer_cn;
  std::string not_before;  // ISO 8601 UTC: "2025-01-31T12:00:00Z"
  std::string not_after;
  std::optional<long> days_left;  // whole days from now to not_after; negative when expired
  std::size_t chain_length = 0;   // certificates the server sent

  // Verification.
  long verify_code = 0;       // primary_verify_error(verify_errors); 0 = X509_V_OK
  std::string verify_reason;  // X509_verify_cert_error_string(verify_code): "certificate has expired"
  tls_verdict verdict = tls_verdict::other;
  std::vector<tls_verify_error> verify_errors;  // everything the callback recorded
  bool name_checked = false;                    // a name or IP was given and checked
  bool name_matched = false;                    // …and it matched (no 62/64 recorded)
  bool verification_skipped = false;            // insecure mode: the verdict was not enforced

  // Handshake failure ("" when the handshake completed).
  std::string handshake_error;  // "peer did not speak TLS (wrong version number)", OpenSSL's text
  std::string alert;            // last TLS alert received from the peer ("" if none)

  bool handshake_ok() const noexcept { return handshake_error.empty() && !protocol.empty(); }
  bool verified() const noexcept { return handshake_ok() && verdict == tls_verdict::ok; }
  // The `tls_certificate_expiring` finding: the certificate expires within `days` days.
  bool expires_within(long days) const noexcept { return days_left && *days_left < days; }
};

// Fills the certificate part of `report` from a certificate (no-op for nullptr).
// `now` is passed in so tests can fix it.
void describe_certificate(tls_report& report, x509_st* cert, std::chrono::system_clock::time_point now);

// Fills protocol, cipher, certificate, chain length and the verdict from an SSL object after
// the handshake (or after a failed one, for whatever is known). `errors` are those the
// recording callback collected. Does not touch handshake_error / alert / sni / checked_name.
void describe_session(tls_report& report, ssl_st* ssl, std::vector<tls_verify_error> errors,
                      std::chrono::system_clock::time_point now);

// "YYYY-MM-DDTHH:MM:SSZ" (UTC).
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// Human text for a handshake that failed with `ssl_error` (an OpenSSL packed error code as
// asio reports it in its ssl category) — "peer did not speak TLS (…)" for the reasons that
// mean the bytes received were not TLS records.
std::string describe_handshake_error(unsigned long ssl_error);

// is_ip_literal(host): netcheck/common.hpp

}  // namespace netcheck
