// probe/registration/nat_lifetime_search.hpp — which idle period to try next when measuring
// how long a NAT keeps an idle UDP mapping (register --nat-lifetime). Pure: it is fed the
// answers of "did a request to the AOR still reach the registered flow after t s of
// silence?" and chooses the next t. Grows 10, 20, 40, … (capped at --max-idle) while the
// binding survives; after the first loss it bisects the bracket [alive_after, dead_after]
// until it is at most `resolution` wide. Each probe of one flow costs its whole idle period
// (a request that reaches the flow refreshes the mapping, one that does not reaches
// nothing), so the total wall time is the sum of the idle periods tried.
#pragma once

#include <chrono>
#include <optional>

namespace probe::registration {

struct nat_lifetime_finding {
  std::chrono::seconds alive_after{0};             // longest idle the binding survived (0: none)
  std::optional<std::chrono::seconds> dead_after;  // shortest idle it did not; none: outlived max_idle
  std::chrono::seconds recommended_keepalive{0};   // see recommended_keepalive()
};

// 80 % of the longest idle the binding survived (RFC 5626 §4.4.1 sends keep-alives at 80–100 %
// of the interval, so a jittered one still lands inside it), never below the floor: keep-alives
// more often than every 10 s cost the phone battery and the registrar load without a NAT
// known to need them.
std::chrono::seconds recommended_keepalive(std::chrono::seconds alive_after) noexcept;
inline constexpr std::chrono::seconds keepalive_floor{10};

class nat_lifetime_search {
 public:
  // max_idle: the longest idle period tried (≥ 1 s). resolution: the bracket width to stop at.
  explicit nat_lifetime_search(std::chrono::seconds max_idle,
                               std::chrono::seconds resolution = std::chrono::seconds{15}) noexcept;

  // The next idle period to try, or none when the search is over.
  std::optional<std::chrono::seconds> next() const noexcept;
  // The answer for an idle period (normally the one next() returned).
  void record(std::chrono::seconds idle, bool alive) noexcept;
  // What is known so far (also when interrupted before the end).
  nat_lifetime_finding finding() const noexcept;
  bool learned_anything() const noexcept { return alive_after_.count() > 0 || dead_after_.has_value(); }

 private:
  std::chrono::seconds max_idle_;
  std::chrono::seconds resolution_;
  std::chrono::seconds alive_after_{0};
  std::optional<std::chrono::seconds> dead_after_;
};

}  // namespace probe::registration
