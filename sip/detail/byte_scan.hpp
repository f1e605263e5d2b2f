// sip/detail/byte_scan.hpp — the byte scan every parser of sip/ stands on: where the next
// control byte is (a line end, a TAB, a byte a header may not hold), and where a given byte
// is among the first few.
//
// The one place in sip/ that uses vector instructions (SSE2, which every x86-64 has), as
// Beast's http/detail/basic_parser.hpp keeps its find_fast(): the parsers call the functions
// below and never touch intrinsics. Without SSE2 a 64-bit word at a time (little-endian),
// else a byte at a time; every path gives the same answer. Inline: the message parser calls
// them once per header line, and a call per line costs more than the scan of most lines.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sip::detail {

// The bytes the masks below look at, at once.
inline constexpr std::size_t scan_block = 16;

// A control byte: below 0x20 (unsigned), or DEL.
constexpr bool is_control(char c) noexcept { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }

// Bit i is set when p[i], i < scan_block, is a control byte. Reads scan_block bytes at p.
[[gnu::always_inline]] inline unsigned control_mask(const char* p) noexcept {
#if defined(__SSE2__)
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);  // x <= 0x1F, unsigned
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F)))));
#else
  unsigned m = 0;
  for (std::size_t i = 0; i < scan_block; ++i) m |= static_cast<unsigned>(is_control(p[i])) << i;
  return m;
#endif
}

// Bit i is set when p[i], i < scan_block, is `c`. Reads scan_block bytes at p.
[[gnu::always_inline]] inline unsigned byte_mask(const char* p, char c) noexcept {
#if defined(__SSE2__)
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c))));
#else
  unsigned m = 0;
  for (std::size_t i = 0; i < scan_block; ++i) m |= static_cast<unsigned>(p[i] == c) << i;
  return m;
#endif
}

// The index of the lowest set bit of a mask that is not 0.
[[gnu::always_inline]] inline std::size_t first_set(unsigned mask) noexcept {
  return static_cast<std::size_t>(std::countr_zero(mask));
}

// Index of the first control byte in p[from, stop), or `stop`.
[[gnu::always_inline]] inline std::size_t find_control(const char* p, std::size_t i, std::size_t stop) noexcept {
#if defined(__SSE2__)
  for (; i + scan_block <= stop; i += scan_block)
    if (const unsigned hits = control_mask(p + i); hits != 0) return i + first_set(hits);
#endif
  if constexpr (std::endian::native == std::endian::little) {
    // SWAR on 64-bit words: in `hits` the lowest flagged byte is exact, as a borrow only
    // moves upwards from a byte that is itself flagged.
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; i + 8 <= stop; i += 8) {
      std::uint64_t x;
      std::memcpy(&x, p + i, 8);
      const std::uint64_t ctl = (x - ones * 0x20) & ~x & highs;
      const std::uint64_t y = x ^ (ones * 0x7F);
      const std::uint64_t del = (y - ones) & ~y & highs;
      if (const std::uint64_t hits = ctl | del; hits != 0) return i + static_cast<std::size_t>(std::countr_zero(hits)) / 8;
    }
  }
  while (i < stop && !is_control(p[i])) ++i;
  return i;
}

// find_control(p, from, stop) that also notes, in `seen`, the offset from `from` of the
// first `c` before that control byte when it is among the first scan_block bytes (a header
// name is short: its colon is usually there), else `not_seen`. The block is only read when
// it lies inside [from, stop).
inline constexpr std::size_t not_seen = static_cast<std::size_t>(-1);
[[gnu::always_inline]] inline std::size_t find_control_noting(const char* p, std::size_t from, std::size_t stop, char c,
                                                              std::size_t& seen) noexcept {
  seen = not_seen;
  if (from + scan_block > stop) return find_control(p, from, stop);
  const unsigned controls = control_mask(p + from);
  unsigned found = byte_mask(p + from, c);
  if (controls != 0) found &= (controls & (0u - controls)) - 1;  // only those before the control byte
  if (found != 0) seen = first_set(found);
  if (controls != 0) return from + first_set(controls);
  return find_control(p, from + scan_block, stop);
}

// Index of the first `c` in p[from, stop), or `stop`.
inline std::size_t find_byte(const char* p, std::size_t i, std::size_t stop, char c) noexcept {
  for (; i + scan_block <= stop; i += scan_block)
    if (const unsigned hits = byte_mask(p + i, c); hits != 0) return i + first_set(hits);
  while (i < stop && p[i] != c) ++i;
  return i;
}

}  // namespace sip::detail
