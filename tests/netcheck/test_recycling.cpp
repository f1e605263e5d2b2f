// The recycling allocator: freed blocks come back for the next object of the same type.
#include <ostream>
#include <doctest/doctest.h>

#include "netcheck/recycling.hpp"

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

struct counted {
  static inline int alive = 0;
  std::string payload;
  char bulk[1200] = {};  // a block above glibc's per-thread cache, as the real users are
  explicit counted(std::string p) : payload(std::move(p)) { ++alive; }
  ~counted() { --alive; }
};

}  // namespace

TEST_CASE("recycling allocator: a freed block is handed out again, objects live and die normally") {
  netcheck::recycling_allocator<counted> alloc;
  const void* first = nullptr;
  {
    auto a = std::allocate_shared<counted>(alloc, "one");
    CHECK(a->payload == "one");
    CHECK(counted::alive == 1);
    first = a.get();
  }
  CHECK(counted::alive == 0);
  auto b = std::allocate_shared<counted>(alloc, "two");
  CHECK(b.get() == first);  // the same block again
  CHECK(b->payload == "two");
  CHECK(b->bulk[0] == 0);  // constructed afresh
}

TEST_CASE("recycling allocator: many at once, then again, without losing or sharing a block") {
  netcheck::recycling_allocator<counted> alloc;
  std::vector<std::shared_ptr<counted>> live;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 500; ++i) live.push_back(std::allocate_shared<counted>(alloc, std::to_string(i)));
    std::set<const counted*> distinct;
    for (const auto& p : live) distinct.insert(p.get());
    CHECK(distinct.size() == live.size());
    for (int i = 0; i < 500; ++i) CHECK(live[static_cast<std::size_t>(i)]->payload == std::to_string(i));
    live.clear();
    CHECK(counted::alive == 0);
  }
}

TEST_CASE("recycling allocator: more than one object per call goes to the heap and back") {
  netcheck::recycling_allocator<int> alloc;
  int* p = alloc.allocate(8);
  for (int i = 0; i < 8; ++i) p[i] = i;
  CHECK(p[7] == 7);
  alloc.deallocate(p, 8);
  std::vector<int, netcheck::recycling_allocator<int>> v(100, 3);
  CHECK(v.back() == 3);
}
