// tests/support/lab.hpp — a lab peer (tests/lab/<name>/start|stop) as an RAII object.
//
//   test_support::lab_service kam("kamailio", {{"MIN_EXPIRES", "300"}});
//   auto port = kam.get("SIP_PORT");
//
// The constructor runs `start RUNDIR` in a fresh temporary directory and reads the
// RUNDIR/ports.env it writes; it throws with the script's own message when the peer cannot
// start (a missing package says which), so a test FAILS with the reason instead of
// skipping. The destructor stops the peer by its PID file, also when the test failed.
#pragma once

#include "support/process.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace test_support {

inline std::string make_temp_dir(const std::string& tag) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("sipprobe-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

class lab_service {
 public:
  lab_service(std::string name, const std::map<std::string, std::string>& env = {})
      : name_(std::move(name)), dir_(make_temp_dir(name_)) {
    std::string cmd;
    for (const auto& [k, v] : env) cmd += k + "=" + shell_quote(v) + " ";
    cmd += shell_quote(script("start")) + " " + shell_quote(dir_) + " 2>&1";
    auto r = run(cmd);
    if (r.exit_code != 0) {
      stop();
      throw std::runtime_error(name_ + " did not start: " + r.out);
    }
    std::ifstream in(dir_ + "/ports.env");
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) values_[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  ~lab_service() { stop(); }
  lab_service(const lab_service&) = delete;
  lab_service& operator=(const lab_service&) = delete;

  // A value of ports.env; throws when the start script did not write it.
  const std::string& get(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw std::runtime_error(name_ + ": ports.env has no " + key);
    return it->second;
  }
  const std::string& dir() const noexcept { return dir_; }
  std::string script(const std::string& which) const { return std::string(SIPPROBE_LAB_DIR) + "/" + name_ + "/" + which; }

 private:
  void stop() noexcept {
    if (stopped_) return;
    stopped_ = true;
    try {
      run(shell_quote(script("stop")) + " " + shell_quote(dir_) + " >/dev/null 2>&1");
      if (std::getenv("SIPPROBE_KEEP_LAB") == nullptr) std::filesystem::remove_all(dir_);
    } catch (...) {
    }
  }

  std::string name_;
  std::string dir_;
  std::map<std::string, std::string> values_;
  bool stopped_ = false;
};

}  // namespace test_support
