// tests/support/fixed_random.hpp — the random edge of sip::id_factory fixed for tests.
#pragma once

#include "sip/random.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace test_support {

// The same bytes on every run: SplitMix64 over a counter. Unlike a byte counter they do
// not come round again, so a batch of hundreds of registrations never draws one branch,
// tag or Call-ID twice (a shared link routes answers by branch).
inline sip::random_source fixed_random() {
  auto counter = std::make_shared<std::uint64_t>(0);
  return [counter](unsigned char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; i += 8) {
      std::uint64_t z = (*counter += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      for (std::size_t j = 0; j < 8 && i + j < size; ++j) data[i + j] = static_cast<unsigned char>(z >> (8 * j));
    }
    return true;
  };
}

}  // namespace test_support
