#include "sip/random.hpp"

#include "sip/error.hpp"

#include <openssl/crypto.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

namespace sip {
namespace {

// [data, data+size) from the kernel's CSPRNG, which also seeds OpenSSL's RAND_bytes. The
// first RAND_bytes call of a process sets up OpenSSL's DRBG (its providers and an
// AES-256-CTR cipher), which cost a one-shot `register` more instructions than all of its
// SIP work (docs/benchmarks.md, start-up). Blocks only until the kernel's pool is first
// initialised at boot, as OpenSSL would. Interrupted calls are resumed.
bool fill(unsigned char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::getrandom(data, size, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

random_source system_random() {
  // getrandom(2) costs a system call however few bytes it makes; a batch draws five
  // identifiers per registration. Drawing 1 KiB at a time and handing the bytes out once
  // each keeps them getrandom output, at a fraction of the calls.
  struct pool {
    std::array<unsigned char, 1024> bytes{};
    std::size_t used = 1024;
  };
  return [p = std::make_shared<pool>()](unsigned char* data, std::size_t size) {
    if (size > p->bytes.size() / 4) return fill(data, size);
    if (p->bytes.size() - p->used < size) {
      if (!fill(p->bytes.data(), p->bytes.size())) return false;
      p->used = 0;
    }
    std::memcpy(data, p->bytes.data() + p->used, size);
    OPENSSL_cleanse(p->bytes.data() + p->used, size);  // handed out once, then gone
    p->used += size;
    return true;
  };
}

std::string id_factory::hex(std::size_t bytes) { return with_prefix("", bytes); }

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
