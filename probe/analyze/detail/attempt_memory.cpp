// The attempt tracker's memory internals (attempt_memory.hpp).
#include "probe/analyze/detail/attempt_memory.hpp"

#include <algorithm>
#include <cstring>

namespace probe::analyze::detail {

char* bytes_block::take(std::size_t n) {
  if (!bytes_) {
    size_ = std::clamp(5 * n, min_bytes, max_bytes);
    bytes_ = std::make_unique_for_overwrite<char[]>(size_);
  }
  if (n > size_ - used_) return nullptr;
  char* at = bytes_.get() + used_;
  used_ += n;
  return at;
}

// A Call-ID is a few dozen bytes, hashed at least once per message: taken 8 bytes at a
// time, each word mixed in by a multiply, then MurmurHash3's finaliser — less work than
// std::hash does on it. Not seeded, like std::hash.
std::size_t text_hash::operator()(std::string_view s) const {
  constexpr std::uint64_t k = 0x9e3779b97f4a7c15ull;
  std::uint64_t h = s.size() * k;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * k;
    h ^= h >> 32;
  }
  if (i < s.size()) {
    // The last 8 bytes, overlapping the words before (a short text: byte by byte).
    std::uint64_t w = 0;
    if (s.size() >= 8) std::memcpy(&w, s.data() + s.size() - 8, 8);
    else
      for (unsigned shift = 0; i < s.size(); ++i, shift += 8) w |= std::uint64_t{static_cast<unsigned char>(s[i])} << shift;
    h = (h ^ w) * k;
    h ^= h >> 32;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

}  // namespace probe::analyze::detail
