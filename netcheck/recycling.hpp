// netcheck/recycling.hpp — an allocator that keeps freed blocks for the next object of the
// same type, for std::allocate_shared.
//
// A batch makes and drops thousands of the same per-registration objects (the run, the
// registration, its transactions, its flow), a thousand of them alive at once. They are
// over 1 KiB, which glibc's malloc serves without its per-thread cache: a search of its
// bins and, now and then, a consolidation of everything freed. A free list per type hands
// the same blocks back. Per thread, unsynchronised (one io_context thread makes them all),
// at most `max_kept` blocks kept per type; the rest go back to the heap.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace netcheck {

template <class T>
class recycling_allocator {
 public:
  using value_type = T;
  static constexpr std::size_t max_kept = 4096;

  recycling_allocator() noexcept = default;
  template <class U>
  recycling_allocator(const recycling_allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    auto& kept = free_list();
    if (n == 1 && !kept.empty()) {
      void* p = kept.back();
      kept.pop_back();
      return static_cast<T*>(p);
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }

  void deallocate(T* p, std::size_t n) noexcept {
    auto& kept = free_list();
    if (n == 1 && kept.size() < kept.capacity()) {
      kept.push_back(p);  // no allocation: the capacity is reserved up front
      return;
    }
    ::operator delete(p);
  }

  template <class U>
  bool operator==(const recycling_allocator<U>&) const noexcept {
    return true;
  }

 private:
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "over-aligned types need aligned new");

  struct cache {
    std::vector<void*> blocks;
    cache() {
      try {
        blocks.reserve(max_kept);
      } catch (const std::bad_alloc&) {  // then nothing is kept: every block goes back
      }
    }
    ~cache() {
      for (void* p : blocks) ::operator delete(p);
    }
  };
  static std::vector<void*>& free_list() {
    thread_local cache c;
    return c.blocks;
  }
};

}  // namespace netcheck
