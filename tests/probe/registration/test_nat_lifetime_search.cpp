// The NAT binding lifetime search (probe/registration/nat_lifetime_search.hpp) against
// simulated NATs: a mapping idle for t s survives iff t < lifetime.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/registration/nat_lifetime.hpp"
#include "probe/registration/nat_lifetime_search.hpp"

#include <chrono>
#include <optional>
#include <vector>

using probe::registration::nat_lifetime_search;
using std::chrono::seconds;

namespace {

struct simulated {
  probe::registration::nat_lifetime_finding finding;
  seconds total{0};  // wall time: the sum of the idle periods tried
  int probes = 0;
};

simulated simulate(seconds lifetime, seconds max_idle) {
  nat_lifetime_search search(max_idle);
  simulated out;
  while (auto idle = search.next()) {
    REQUIRE(out.probes < 50);  // the search ends
    REQUIRE(*idle >= seconds{1});
    REQUIRE(*idle <= max_idle);
    out.total += *idle;
    ++out.probes;
    search.record(*idle, *idle < lifetime);
  }
  out.finding = search.finding();
  return out;
}

}  // namespace

TEST_CASE("nat lifetime search brackets simulated lifetimes within 15 s") {
  // One flow can be probed once per silence (a request that reaches it refreshes the
  // mapping), so any such search pays an "alive" idle near L and a "dead" one ≥ L: at
  // least 2L − 15 s. Doubling then bisecting stays under 6L + 60 s; the table records it.
  struct row {
    int lifetime;
    int max_total;
  };
  for (const row r : std::vector<row>{{20, 30}, {30, 100}, {45, 260}, {65, 280}, {120, 640}, {290, 1678}}) {
    CAPTURE(r.lifetime);
    const seconds l{r.lifetime};
    const auto s = simulate(l, seconds{300});
    REQUIRE(s.finding.dead_after.has_value());
    CHECK(s.finding.alive_after < l);
    CHECK(*s.finding.dead_after >= l);
    CHECK(*s.finding.dead_after - s.finding.alive_after <= seconds{15});
    CHECK(s.total <= seconds{r.max_total});
    CHECK(s.total < 6 * l + seconds{60});
    CHECK(s.finding.recommended_keepalive <= s.finding.alive_after);
  }
}

TEST_CASE("nat lifetime search: a binding that outlives --max-idle") {
  const auto s = simulate(seconds{400}, seconds{300});
  CHECK(s.finding.alive_after == seconds{300});
  CHECK_FALSE(s.finding.dead_after.has_value());
  CHECK(s.total == seconds{10 + 20 + 40 + 80 + 160 + 300});
  CHECK(s.finding.recommended_keepalive == seconds{240});
}

TEST_CASE("nat lifetime search: --max-idle 60 and the lab's 20 s conntrack timeout") {
  const auto s = simulate(seconds{20}, seconds{60});
  CHECK(s.finding.alive_after == seconds{10});
  CHECK(s.finding.dead_after == seconds{20});
  CHECK(s.total == seconds{30});
  CHECK(s.probes == 2);
}

TEST_CASE("nat lifetime search: dead at the first idle period") {
  const auto s = simulate(seconds{5}, seconds{300});
  CHECK(s.finding.alive_after == seconds{0});
  CHECK(s.finding.dead_after == seconds{10});
  CHECK(s.finding.recommended_keepalive == probe::registration::keepalive_floor);
}

TEST_CASE("nat lifetime search: a tiny --max-idle is tried as is, and nothing learned is reported as such") {
  nat_lifetime_search search(seconds{4});
  CHECK_FALSE(search.learned_anything());
  REQUIRE(search.next() == seconds{4});
  search.record(seconds{4}, true);
  CHECK(search.learned_anything());
  CHECK_FALSE(search.next().has_value());
}

TEST_CASE("nat lifetime search ignores an answer that contradicts the bracket") {
  nat_lifetime_search search(seconds{300});
  search.record(seconds{40}, true);
  search.record(seconds{80}, false);
  search.record(seconds{90}, true);   // beyond a known loss: jitter, not news
  search.record(seconds{20}, false);  // below a known survival
  CHECK(search.finding().alive_after == seconds{40});
  CHECK(search.finding().dead_after == seconds{80});
  CHECK(search.next() == seconds{60});
}

TEST_CASE("recommended keep-alive: 80 % of the survived idle, never below the floor") {
  using probe::registration::recommended_keepalive;
  CHECK(recommended_keepalive(seconds{100}) == seconds{80});
  CHECK(recommended_keepalive(seconds{10}) == seconds{10});
  CHECK(recommended_keepalive(seconds{0}) == seconds{10});
}

TEST_CASE("nat lifetime grid: every step up to --max-idle, which is always tried") {
  using probe::registration::nat_lifetime_grid;
  using V = std::vector<seconds>;
  CHECK(nat_lifetime_grid(seconds{60}) == V{seconds{15}, seconds{30}, seconds{45}, seconds{60}});
  CHECK(nat_lifetime_grid(seconds{50}) == V{seconds{15}, seconds{30}, seconds{45}, seconds{50}});
  CHECK(nat_lifetime_grid(seconds{15}) == V{seconds{15}});
  CHECK(nat_lifetime_grid(seconds{300}).size() == 20);
  // The largest --max-idle makes 60 bindings, no more.
  CHECK(nat_lifetime_grid(probe::registration::max_max_idle).size() == 60);
  // Each step is at most the bracket width asked for (±15 s).
  auto g = nat_lifetime_grid(seconds{100});
  for (std::size_t i = 1; i < g.size(); ++i) CHECK(g[i] - g[i - 1] <= probe::registration::nat_lifetime_step);
}
