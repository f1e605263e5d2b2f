// tests/support/counting_random.hpp — the random edge of sip::id_factory fixed for tests.
#pragma once

#include "sip/random.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace test_support {

// Bytes 0, 1, 2, … : every branch, tag, Call-ID and cnonce differs, and a run is the same
// every time.
inline sip::random_source counting_random() {
  auto next = std::make_shared<std::uint8_t>(0);
  return [next](unsigned char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) data[i] = (*next)++;
    return true;
  };
}

}  // namespace test_support
