// probe/registration/interrupt.hpp — ending a run early on a signal without leaving anything behind.
//
// A registration in flight may create a binding even after we stop listening (a slow
// registrar answers 200 late). So a first signal does not kill the run: it starts no new
// REGISTER, waits for the one in flight (bounded by --timeout) and removes what it
// registered, as every run does; a run stopped before its verdict ends as `interrupted`.
// A second signal quits at once, and the report says what may remain.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <functional>
#include <string>

namespace probe::registration {

// The stop request a run polls at each step, and the hook it sets to act at once.
// Everything runs on the run's io_context.
class run_interrupt {
 public:
  // A signal named `what` ("SIGINT") arrived; calls on_request.
  void request(std::string what);
  bool requested() const noexcept { return count_ > 0; }
  bool abandoned() const noexcept { return count_ > 1; }  // a second request: quit now
  const std::string& what() const noexcept { return what_; }

  // Set by the run (async_register_run): stop what can stop now (DNS, connect), or, once
  // abandoned, the request in flight.
  std::function<void()> on_request;

 private:
  int count_ = 0;
  std::string what_;
};

// Watches the signals that end a run — SIGINT (Ctrl-C), SIGTERM (a supervisor), SIGHUP
// (the terminal went away), SIGPIPE (the reader of our output went away; caught, a write
// then fails with EPIPE instead of killing the process mid-registration) — and calls
// `on_signal(name)` for each until cancel(). The handlers stay installed until destruction.
class signal_watch {
 public:
  signal_watch(boost::asio::io_context& io, std::function<void(const std::string& name)> on_signal);
  void cancel();

 private:
  void arm();
  boost::asio::signal_set set_;
  std::function<void(const std::string&)> on_signal_;
  bool cancelled_ = false;
};

// "SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE", or "signal N".
std::string signal_name(int sig);

// What register and diagnose do on a signal: say on stderr what happens now (the first
// time: the request in flight is finished, at most `timeout_s`; the second: quit), then
// interrupt.request(name).
void announce_interrupt(run_interrupt& interrupt, const std::string& name, double timeout_s);

}  // namespace probe::registration
