// netcheck/key_table.hpp — 64-bit keys to pointers, for routing answers (link.cpp).
//
// Open addressing with linear probing and backward-shift deletion, at most half full: a
// batch adds and removes two keys per registration, and a node-based map allocated for
// each and missed the cache on every lookup. The keys are hashes already (any value; 0 is
// stored as 1, so 0 and 1 are one key).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace netcheck::detail {

template <class T>
class key_table {
 public:
  T* find(std::uint64_t k) const noexcept {
    if (slots_.empty()) return nullptr;
    k = fix(k);
    for (std::size_t i = k & mask();; i = (i + 1) & mask()) {
      if (slots_[i].key == k) return slots_[i].value;
      if (slots_[i].key == 0) return nullptr;
    }
  }
  // Maps `k` to `f`; true when `k` was not in the table.
  bool set(std::uint64_t k, T* f) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    k = fix(k);
    std::size_t i = k & mask();
    for (; slots_[i].key != 0; i = (i + 1) & mask()) {
      if (slots_[i].key == k) {
        slots_[i].value = f;
        return false;
      }
    }
    slots_[i] = {k, f};
    ++size_;
    return true;
  }
  // Removes `k` when it maps to `f`.
  void erase(std::uint64_t k, const T* f) noexcept {
    if (slots_.empty()) return;
    k = fix(k);
    std::size_t i = k & mask();
    for (; slots_[i].key != k; i = (i + 1) & mask())
      if (slots_[i].key == 0) return;
    if (slots_[i].value != f) return;
    // Later keys of the same run move back into the hole unless their home slot lies
    // cyclically in (hole, their slot].
    for (std::size_t j = (i + 1) & mask(); slots_[j].key != 0; j = (j + 1) & mask()) {
      const std::size_t home = slots_[j].key & mask();
      if (j > i ? (home <= i || home > j) : (home <= i && home > j)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
    --size_;
  }
  std::size_t size() const noexcept { return size_; }

 private:
  struct slot {
    std::uint64_t key = 0;  // 0: empty
    T* value = nullptr;
  };
  static std::uint64_t fix(std::uint64_t k) noexcept { return k == 0 ? 1 : k; }
  std::size_t mask() const noexcept { return slots_.size() - 1; }
  void grow() {
    std::vector<slot> old = std::exchange(slots_, std::vector<slot>(std::max<std::size_t>(64, 2 * slots_.size())));
    size_ = 0;
    for (const auto& e : old)
      if (e.key != 0) set(e.key, e.value);
  }
  std::vector<slot> slots_;  // a power of two long, at most half full
  std::size_t size_ = 0;
};

}  // namespace netcheck::detail
