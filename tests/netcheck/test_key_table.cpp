// The link's answer routing table: every mix of set / find / erase agrees with a node map.
#include <ostream>
#include <doctest/doctest.h>

#include "netcheck/key_table.hpp"

#include <array>
#include <random>
#include <unordered_map>
#include <vector>

namespace {

using netcheck::detail::key_table;

// Keys that share their low bits land on one home slot and wrap around the table's end:
// the backward shift after an erase must keep every one of them findable.
std::uint64_t clustered_key(std::mt19937_64& rng) {
  const std::uint64_t home = rng() % 4 == 0 ? 63 : rng() % 8;  // 63: the last slot of 64
  return ((rng() % 40 + 1) << 20) | home;
}

void check_same(const key_table<int>& t, const std::unordered_map<std::uint64_t, int*>& ref,
                const std::vector<std::uint64_t>& keys) {
  CHECK(t.size() == ref.size());
  for (auto k : keys) {
    auto it = ref.find(k);
    CHECK(t.find(k) == (it == ref.end() ? nullptr : it->second));
  }
}

}  // namespace

TEST_CASE("key_table: random set, erase and find agree with unordered_map") {
  std::array<int, 8> owners{};
  for (int clustered = 0; clustered < 2; ++clustered) {
    std::mt19937_64 rng(20261201 + clustered);
    key_table<int> t;
    std::unordered_map<std::uint64_t, int*> ref;
    std::vector<std::uint64_t> keys;
    for (int step = 0; step < 20000; ++step) {
      const auto op = rng() % 10;
      if (op < 5 || keys.empty()) {
        const std::uint64_t k = clustered ? clustered_key(rng) : rng();
        int* owner = &owners[rng() % owners.size()];
        CHECK(t.set(k, owner) == (ref.find(k) == ref.end()));
        ref[k] = owner;
        keys.push_back(k);
      } else {
        const auto k = keys[rng() % keys.size()];
        int* who = &owners[rng() % owners.size()];
        t.erase(k, who);  // removes only when `who` is the owner
        if (auto it = ref.find(k); it != ref.end() && it->second == who) ref.erase(it);
      }
      if (step % 500 == 0) check_same(t, ref, keys);
    }
    check_same(t, ref, keys);
    // Empty it again: every key goes, and a missing key is not found.
    for (auto k : keys)
      if (auto it = ref.find(k); it != ref.end()) {
        t.erase(k, it->second);
        ref.erase(it);
      }
    CHECK(t.size() == 0);
    for (auto k : keys) CHECK(t.find(k) == nullptr);
  }
}

TEST_CASE("key_table: key 0 is a key like any other, stored as 1") {
  key_table<int> t;
  int a = 0, b = 0;
  CHECK(t.find(0) == nullptr);
  CHECK(t.set(0, &a));
  CHECK(t.find(0) == &a);
  CHECK(t.find(1) == &a);  // documented: 0 and 1 are one key
  CHECK_FALSE(t.set(1, &b));
  t.erase(0, &a);  // not the owner any more
  CHECK(t.find(0) == &b);
  t.erase(0, &b);
  CHECK(t.find(0) == nullptr);
  CHECK(t.size() == 0);
}
