// tests/support/capture.hpp — tcpdump on `lo` around a lab run, so a test can analyse a
// real capture of what just happened.
//
//   test_support::capture cap(dir, port);  // armed when the constructor returns
//   … run sipprobe against the lab …
//   auto file = cap.stop();                 // complete and flushed
// Include after <doctest/doctest.h>: a missing tcpdump fails the test with the reason.
#pragma once

#include "support/process.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

namespace test_support {

// tcpdump writing FILE for the lab's port (and ICMP errors quoting a datagram to it: the
// destination port sits at offset 30 of an ICMP error about IPv4/UDP); stop() sends SIGINT and waits, so the capture
// is flushed and complete when it returns. Without --immediate-mode, TPACKET_V3 holds
// packets in a ring block until it fills or times out, and SIGINT loses them.
class capture {
 public:
  capture(const std::string& dir, const std::string& port)
      : capture(dir + "/capture.pcap", dir + "/tcpdump.log", "", "lo",
                "udp port " + port + " or tcp port " + port + " or (icmp and icmp[30:2] = " + port + ")") {}
  // tcpdump on interface `iface` with `filter`, run through `prefix` (e.g. "ip netns exec
  // NS": a capture inside a network namespace), writing `file`.
  capture(std::string file, std::string log, const std::string& prefix, const std::string& iface, const std::string& filter)
      : file_(std::move(file)), log_(std::move(log)) {
    auto r = run("command -v tcpdump >/dev/null || { echo missing; exit 1; }; " + prefix + (prefix.empty() ? "" : " ") +
                 "tcpdump -i " + iface + " --immediate-mode -U -n -w " + shell_quote(file_) + " " + shell_quote(filter) + " >" +
                 shell_quote(log_) + " 2>&1 & echo $!");
    REQUIRE_MESSAGE(r.exit_code == 0, "tcpdump is not installed (scripts/setup installs it): " << r.out);
    pid_ = std::stoi(r.out);
    // tcpdump says "listening on IFACE" once the capture is armed.
    for (int i = 0; i < 100; ++i) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find("listening on") != std::string::npos) return;
      REQUIRE_MESSAGE(::kill(pid_, 0) == 0, "tcpdump exited: " << ss.str());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("tcpdump did not start capturing within 5 s");
  }
  ~capture() { stop(); }
  capture(const capture&) = delete;
  capture& operator=(const capture&) = delete;

  const std::string& stop() {
    if (pid_ > 0) {
      // --immediate-mode hands each packet over at once; a moment more lets the last
      // ones (the binding removal) through before SIGINT makes tcpdump flush and exit.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      ::kill(pid_, SIGINT);
      for (int i = 0; i < 100 && running(pid_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      // The shell that started it is gone; tcpdump is re-parented, so poll rather than wait.
      pid_ = -1;
    }
    return file_;
  }

 private:
  // Alive and not a zombie: PID 1 here reaps slowly, and an exited tcpdump waiting to be
  // reaped has flushed its file already.
  static bool running(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_text, name, state;
    stat >> pid_text >> name >> state;
    return state != "Z" && state != "X";
  }

  std::string file_, log_;
  pid_t pid_ = -1;
};

}  // namespace test_support
