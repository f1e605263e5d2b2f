#include "sip/random.hpp"

#include "sip/error.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <cstring>
#include <memory>

namespace sip {

// Why: the first RAND_bytes of a process builds its DRBG, and CTR_DRBG (NIST SP 800-90A
// §10.2, OpenSSL's default) needs OpenSSL's table of every cipher the default provider has
// (~3 M instructions, a fifth of a one-shot register, docs/benchmarks.md); Hash_DRBG
// (§10.1.1) needs the digest table, which the Digest response (RFC 3261 §22.4) builds
// anyway. Both are approved, of 256-bit security strength, and seeded alike. A failed call
// (the DRBG exists) leaves an error on OpenSSL's queue; it is taken off so that no later
// report shows it.
void prefer_hash_drbg() {
  static const bool once = [] {
    ERR_set_mark();
    RAND_set_DRBG_type(nullptr, "HASH-DRBG", nullptr, nullptr, "SHA256");
    ERR_pop_to_mark();
    return true;
  }();
  (void)once;
}

random_source openssl_random() {
  prefer_hash_drbg();
  // RAND_bytes costs a lock and a DRBG call however few bytes it makes; a batch draws
  // five identifiers per registration. Drawing 1 KiB at a time and handing the bytes out
  // once each keeps them RAND_bytes output, at a fraction of the calls.
  struct pool {
    std::array<unsigned char, 1024> bytes{};
    std::size_t used = 1024;
  };
  return [p = std::make_shared<pool>()](unsigned char* data, std::size_t size) {
    if (size > p->bytes.size() / 4) {
      return size <= static_cast<std::size_t>(INT_MAX) && RAND_bytes(data, static_cast<int>(size)) == 1;
    }
    if (p->bytes.size() - p->used < size) {
      if (RAND_bytes(p->bytes.data(), static_cast<int>(p->bytes.size())) != 1) return false;
      p->used = 0;
    }
    std::memcpy(data, p->bytes.data() + p->used, size);
    OPENSSL_cleanse(p->bytes.data() + p->used, size);  // handed out once, then gone
    p->used += size;
    return true;
  };
}

std::string id_factory::hex(std::size_t bytes) { return with_prefix("", bytes); }

std::string id_factory::instance() {
  auto h = hex(16);
  if (h.empty()) return {};
  h[12] = '4';                                                           // version 4: random
  h[16] = "89ab"[std::string_view("0123456789abcdef").find(h[16]) & 3];  // variant 10xx
  return "urn:uuid:" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string id_factory::with_prefix(std::string_view prefix, std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::array<unsigned char, 32> buf{};
  if (bytes > buf.size() || !source_ || !source_(buf.data(), bytes)) {
    error_ = errc::random_failure;
    return {};
  }
  // One string, written in place: a registration draws five of these.
  std::string out(prefix.size() + 2 * bytes, '\0');
  prefix.copy(out.data(), prefix.size());
  char* p = out.data() + prefix.size();
  for (std::size_t i = 0; i < bytes; ++i) {
    *p++ = digits[buf[i] >> 4];
    *p++ = digits[buf[i] & 0x0f];
  }
  return out;
}

}  // namespace sip
