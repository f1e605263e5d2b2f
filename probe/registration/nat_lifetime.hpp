// probe/registration/nat_lifetime.hpp — register --nat-lifetime: how long does the NAT in
// front of us keep an idle UDP binding open for the registrar's requests?
//
// Each probe is a binding of our own: a new UDP socket (so a new NAT mapping) registers
// the account, stays silent for its idle period after the 200 OK, then an OPTIONS goes
// through the registrar from yet another socket; the binding is alive if the OPTIONS
// arrives on it. A request that arrives refreshes the mapping, so one socket answers for
// one idle period only.
//
// With a registrar that gives GRUUs (RFC 5627: +sip.instance and Supported: gruu in the
// REGISTER, pub-gruu in the 200 OK), the OPTIONS goes to one binding's GRUU and reaches it
// alone, so every idle period is probed at once on its own socket: bindings idle for 15,
// 30, 45, … s are asked in turn, and the first that is gone ends the search after about
// the lifetime itself plus the step. Without GRUUs an OPTIONS to the AOR forks to every
// binding and refreshes them all, so the probes run one after another
// (nat_lifetime_search.hpp: grow, then bisect), which takes longer.
// Every binding made is removed at the end, also when interrupted.
#pragma once

#include "netcheck/transport.hpp"
#include "probe/core/report.hpp"
#include "probe/registration/exchange.hpp"
#include "probe/registration/interrupt.hpp"
#include "sip/random.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace probe::registration {

inline constexpr std::chrono::seconds nat_lifetime_step{15};  // the bracket width asked for
inline constexpr std::chrono::seconds min_max_idle{15};
inline constexpr std::chrono::seconds max_max_idle{900};  // 60 bindings at most

// The idle periods probed at once when the registrar gives GRUUs: step, 2·step, … and
// max_idle itself.
std::vector<std::chrono::seconds> nat_lifetime_grid(std::chrono::seconds max_idle, std::chrono::seconds step = nat_lifetime_step);

struct nat_lifetime_request {
  boost::asio::io_context* io = nullptr;
  netcheck::endpoint_spec target;  // the registrar target the registration used (UDP)
  netcheck::flow_options options;  // local_port 0: every probe has a socket of its own
  const account* acct = nullptr;
  register_settings settings;  // timers, User-Agent, headers, trace of the run
  std::chrono::seconds max_idle{300};
  std::chrono::milliseconds register_timeout{10000};  // each probe binding's registration
  std::chrono::milliseconds probe_timeout{5000};      // an OPTIONS that has not arrived by then never will
  sip::id_factory* ids = nullptr;
  const run_interrupt* interrupt = nullptr;
  std::function<void(const std::string&)> progress;  // one line per event (a terminal's stderr), may be empty
};

class nat_lifetime_op;

// A running measurement: cancel() stops waiting (what was learned stays, every binding is
// removed); `done` still runs, once.
class nat_lifetime_handle {
 public:
  nat_lifetime_handle() = default;
  explicit nat_lifetime_handle(std::weak_ptr<nat_lifetime_op> op) : op_(std::move(op)) {}
  void cancel();

 private:
  std::weak_ptr<nat_lifetime_op> op_;
};

// Starts the measurement; everything in `req` must stay valid until `done` ran.
nat_lifetime_handle async_nat_lifetime(const nat_lifetime_request& req, std::function<void(nat_lifetime_record)> done);

}  // namespace probe::registration
