// tests/netcheck/tls_pki.hpp — a throw-away PKI made at test time with the OpenSSL API:
// a test CA, leaf certificates with chosen SANs and dates, and a second (unknown) CA.
// Keys are P-256 (fast). Nothing is written to disk except the CA PEM the client must trust.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace test_pki {

struct key_deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct cert_deleter {
  void operator()(X509* c) const { X509_free(c); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_deleter>;
using cert_ptr = std::unique_ptr<X509, cert_deleter>;

struct identity {
  key_ptr key;
  cert_ptr cert;
};

inline key_ptr make_key() {
  key_ptr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!k) throw std::runtime_error("EVP_PKEY_Q_keygen failed");
  return k;
}

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error(std::string("bad extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Issues a certificate for `cn`, valid from now+from_days to now+to_days, signed by
// `issuer` (self-signed when issuer is nullptr). `san` in OpenSSL config syntax
// ("DNS:sip.test,IP:127.0.0.1"), empty for none.
inline identity issue(const std::string& cn, const identity* issuer, bool ca, const std::string& san, long from_days = -1,
                      long to_days = 30) {
  static long serial = 1000;
  identity id{make_key(), cert_ptr(X509_new())};
  X509* c = id.cert.get();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(c), from_days * 86400L);
  X509_gmtime_adj(X509_getm_notAfter(c), to_days * 86400L);
  X509_set_pubkey(c, id.key.get());
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sipprobe tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : c;
  EVP_PKEY* issuer_key = issuer ? issuer->key.get() : id.key.get();
  X509_set_issuer_name(c, X509_get_subject_name(issuer_cert));
  if (ca) {
    add_ext(c, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(c, issuer_cert, NID_basic_constraints, "CA:FALSE");
    add_ext(c, issuer_cert, NID_ext_key_usage, "serverAuth");
  }
  add_ext(c, issuer_cert, NID_subject_key_identifier, "hash");
  if (!san.empty()) add_ext(c, issuer_cert, NID_subject_alt_name, san.c_str());
  if (X509_sign(c, issuer_key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
  return id;
}

// A private temporary directory, removed with the object.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sipprobe-tls-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

inline void write_pem(const std::filesystem::path& file, X509* cert) {
  FILE* f = std::fopen(file.c_str(), "w");
  if (f == nullptr) throw std::runtime_error("cannot write " + file.string());
  PEM_write_X509(f, cert);
  std::fclose(f);
}

}  // namespace test_pki
