// probe/analyze/detail/attempt_memory.hpp — how the attempt model (probe/analyze/attempts.hpp) keeps
// its memory small and its lookups cheap. Internal to probe/analyze: the types here are
// the tracker's means, not part of what it promises, and may change with a benchmark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>

namespace probe::analyze::detail {

// A short text kept inline, without allocation (addresses, transports); longer is cut.
template <std::size_t N>
class inline_text {
 public:
  inline_text() = default;
  inline_text(std::string_view s) noexcept { assign(s); }  // NOLINT: implicit on purpose
  void assign(std::string_view s) noexcept {
    n_ = static_cast<std::uint8_t>(s.size() < N ? s.size() : N);
    if (n_ != 0) std::memcpy(d_, s.data(), n_);
  }
  std::string_view view() const noexcept { return {d_, n_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT
  std::string str() const { return std::string(view()); }
  bool empty() const noexcept { return n_ == 0; }

 private:
  char d_[N] = {};
  std::uint8_t n_ = 0;
  static_assert(N < 256);
};

// Room for the bytes of an attempt's messages: one block, allocated with the first
// message (five times its size, within limits), so that an attempt of a few messages
// costs one allocation for their bytes, not one each. Bytes handed out stay where they are
// until the block is destroyed; moving the block keeps them. A message that does not fit
// gets an allocation of its own (stored_message), so the block is bounded even when an
// attempt drops messages. A copy is an empty block: copied messages own their bytes.
class bytes_block {
 public:
  static constexpr std::size_t min_bytes = 1024, max_bytes = 16 * 1024;

  bytes_block() = default;
  bytes_block(const bytes_block&) noexcept {}
  bytes_block& operator=(const bytes_block&) noexcept { return *this; }
  bytes_block(bytes_block&&) noexcept = default;
  bytes_block& operator=(bytes_block&&) noexcept = default;
  ~bytes_block() = default;

  // n bytes of room, or nullptr when they do not fit.
  char* take(std::size_t n);

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t size_ = 0, used_ = 0;
};

// The hash of the tracker's maps: Call-IDs are looked up as views into the message, no
// string per message (is_transparent). Not noexcept on purpose: libstdc++ then keeps each
// node's hash instead of hashing the keys again while it walks a bucket.
struct text_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const;
};

// A pool whose frees can be switched off for the end: the maps then walk their nodes
// only to destroy what they hold (the challenges they share), and the pool hands its
// chunks back at once when it goes, instead of taking back tens of thousands of nodes
// one by one on a single thread at the end of a big analysis.
class drop_pool : public std::pmr::memory_resource {
 public:
  // Frees are ignored from now on: call only when the maps are about to be destroyed.
  void drop_frees() noexcept { dropping_ = true; }

 private:
  void* do_allocate(std::size_t n, std::size_t align) override { return pool_.allocate(n, align); }
  void do_deallocate(void* p, std::size_t n, std::size_t align) override {
    if (!dropping_) pool_.deallocate(p, n, align);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }

  std::pmr::unsynchronized_pool_resource pool_;
  bool dropping_ = false;
};

// A private base that puts the object deriving from it on a cache line of its own. The
// attempt tracker needs it: summarize() is called through its vtable on the parsing thread,
// while the tracker's thread writes the members of what comes before it in memory
// (trace_analyzer's attempt_store); sharing that line made the parsing thread wait.
struct alignas(64) own_cache_line {};

}  // namespace probe::analyze::detail
