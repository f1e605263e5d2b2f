// sip/random.hpp — the random parts of a SIP request: Via branch, From tag, Call-ID, cnonce.
//
// Randomness is an edge that is passed in: production code uses openssl_random()
// (RAND_bytes), tests pass a deterministic source so built messages can be compared.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

namespace sip {

// Fills [data, data+size) with random bytes; returns false when the generator failed.
using random_source = std::function<bool(unsigned char* data, std::size_t size)>;

// Asks OpenSSL to run RAND_bytes as Hash_DRBG over SHA-256 instead of its default
// CTR_DRBG over AES-256: the same strength, cheaper to start. Has an effect only before
// OpenSSL's DRBG exists; a [random] section of openssl.cnf still wins if OpenSSL reads the
// file after this call, so call it before any other OpenSSL use of a run that will draw
// identifiers (probe::locate::make_tls does; --version and analyze do not pay for it).
// Idempotent, thread-safe.
void prefer_hash_drbg();

// RAND_bytes from OpenSSL's default CSPRNG (calls prefer_hash_drbg first).
random_source openssl_random();

// Makes the identifiers of one client. Each call draws fresh bytes; on a generator failure
// the result is empty and `error()` says why (callers must not send a request then).
class id_factory {
 public:
  explicit id_factory(random_source source) : source_(std::move(source)) {}

  // RFC 3261 §8.1.1.7: branch starts with the magic cookie "z9hG4bK".
  std::string branch() { return with_prefix("z9hG4bK", 12); }
  // RFC 3261 §19.3: tags need at least 32 bits of randomness; we use 64.
  std::string tag() { return hex(8); }
  // RFC 3261 §8.1.1.4: globally unique; 128 random bits need no host part.
  std::string call_id() { return hex(16); }
  // RFC 7616 §3.4: the client nonce.
  std::string cnonce() { return hex(12); }
  // RFC 5627 §4.1 / RFC 4122 §4.4: a +sip.instance, "urn:uuid:" and a random (version 4) UUID.
  std::string instance();

  std::error_code error() const noexcept { return error_; }

 private:
  std::string hex(std::size_t bytes);
  std::string with_prefix(std::string_view prefix, std::size_t bytes);

  random_source source_;
  std::error_code error_;
};

}  // namespace sip
