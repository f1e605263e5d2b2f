// The bounds of a client transaction's record (probe/transaction.hpp).
#include <ostream>
#include <doctest/doctest.h>

#include "probe/transaction.hpp"

#include <vector>

TEST_CASE("transaction: provisional responses are kept up to the limit, then the first and the last") {
  std::vector<int> kept;
  int count = 0;
  // At the limit exactly: every one is kept, in order.
  for (std::size_t i = 0; i < probe::max_provisional_kept; ++i) probe::keep_provisional(kept, count, 180 + static_cast<int>(i));
  CHECK(count == static_cast<int>(probe::max_provisional_kept));
  REQUIRE(kept.size() == probe::max_provisional_kept);
  CHECK(kept.front() == 180);
  CHECK(kept.back() == 180 + static_cast<int>(probe::max_provisional_kept) - 1);
  // One more: the first and this one.
  probe::keep_provisional(kept, count, 199);
  CHECK(count == static_cast<int>(probe::max_provisional_kept) + 1);
  CHECK(kept == std::vector<int>{180, 199});
  // A flood: still two, the latest last.
  for (int i = 0; i < 10000; ++i) probe::keep_provisional(kept, count, 100);
  probe::keep_provisional(kept, count, 183);
  CHECK(count == static_cast<int>(probe::max_provisional_kept) + 10002);
  CHECK(kept == std::vector<int>{180, 183});
}
