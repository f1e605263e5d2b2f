// probe/registration/nat_lifetime_search.cpp — see the header for the contract.
#include "probe/registration/nat_lifetime_search.hpp"

#include <algorithm>

namespace probe::registration {

using std::chrono::seconds;

namespace {
// The first idle period: shorter than any NAT timeout seen in the field (30 s is the
// shortest common one, Linux conntrack's unreplied UDP timeout), so the first answer is
// almost always "alive" and cheap.
constexpr seconds first_idle{10};
}  // namespace

seconds recommended_keepalive(seconds alive_after) noexcept {
  return std::max(keepalive_floor, seconds{alive_after.count() * 4 / 5});
}

nat_lifetime_search::nat_lifetime_search(seconds max_idle, seconds resolution) noexcept
    : max_idle_(std::max(max_idle, seconds{1})), resolution_(std::max(resolution, seconds{1})) {}

std::optional<seconds> nat_lifetime_search::next() const noexcept {
  if (!dead_after_) {
    if (alive_after_ >= max_idle_) return std::nullopt;  // outlived the longest we try
    const seconds grown = alive_after_.count() == 0 ? first_idle : alive_after_ * 2;
    return std::min(grown, max_idle_);
  }
  if (*dead_after_ - alive_after_ <= resolution_) return std::nullopt;
  return alive_after_ + (*dead_after_ - alive_after_) / 2;
}

void nat_lifetime_search::record(seconds idle, bool alive) noexcept {
  // Answers are monotonic in the idle period for one NAT; a contradicting one (jitter in
  // the NAT's garbage collection) narrows nothing and is ignored rather than inverting
  // the bracket.
  if (alive) {
    if (idle > alive_after_ && (!dead_after_ || idle < *dead_after_)) alive_after_ = idle;
  } else if (idle > alive_after_ && (!dead_after_ || idle < *dead_after_)) {
    dead_after_ = idle;
  }
}

nat_lifetime_finding nat_lifetime_search::finding() const noexcept {
  return {alive_after_, dead_after_, recommended_keepalive(alive_after_)};
}

}  // namespace probe::registration
