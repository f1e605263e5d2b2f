#include "sip/random.hpp"

#include "sip/error.hpp"

#include <openssl/rand.h>

#include <array>
#include <climits>

namespace sip {

random_source openssl_random() {
  return [](unsigned char* data, std::size_t size) {
    return size <= static_cast<std::size_t>(INT_MAX) &&
           RAND_bytes(data, static_cast<int>(size)) == 1;
  };
}

std::string id_factory::hex(std::size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::array<unsigned char, 32> buf{};
  if (bytes > buf.size() || !source_ || !source_(buf.data(), bytes)) {
    error_ = errc::random_failure;
    return {};
  }
  std::string out;
  out.reserve(bytes * 2);
  for (std::size_t i = 0; i < bytes; ++i) {
    out.push_back(digits[buf[i] >> 4]);
    out.push_back(digits[buf[i] & 0x0f]);
  }
  return out;
}

std::string id_factory::with_prefix(const char* prefix, std::size_t bytes) {
  std::string h = hex(bytes);
  return h.empty() ? h : prefix + h;
}

}  // namespace sip
