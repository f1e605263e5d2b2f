#include "probe/registration/interrupt.hpp"

#include <csignal>
#include <cstdio>
#include <utility>

namespace probe::registration {

void run_interrupt::request(std::string what) {
  if (count_++ == 0) what_ = std::move(what);
  if (on_request) on_request();
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGPIPE: return "SIGPIPE";
    default: return "signal " + std::to_string(sig);
  }
}

void announce_interrupt(run_interrupt& interrupt, const std::string& name, double timeout_s) {
  // A write to a closed stderr fails quietly; the run goes on either way.
  if (!interrupt.requested()) {
    std::fprintf(stderr,
                 "sipprobe: %s: finishing the request in flight so that nothing stays registered "
                 "(at most %g s; %s again to quit now)\n",
                 name.c_str(), timeout_s, name == "SIGINT" ? "Ctrl-C" : name.c_str());
  } else if (!interrupt.abandoned()) {
    std::fprintf(stderr, "sipprobe: %s again: quitting without waiting\n", name.c_str());
  }
  interrupt.request(name);
}

signal_watch::signal_watch(boost::asio::io_context& io, std::function<void(const std::string&)> on_signal)
    : set_(io, SIGINT, SIGTERM, SIGHUP), on_signal_(std::move(on_signal)) {
  set_.add(SIGPIPE);
  arm();
}

void signal_watch::cancel() {
  cancelled_ = true;
  set_.cancel();
}

void signal_watch::arm() {
  set_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec || cancelled_) return;
    on_signal_(signal_name(sig));
    if (!cancelled_) arm();
  });
}

}  // namespace probe::registration
