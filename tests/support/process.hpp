// tests/support/process.hpp — run a command for a test and capture what it printed.
// Header-only so every test executable can use it without another library.
//
// Transcript (opt-in): with SIPPROBE_TRANSCRIPT=<file> in the environment, every command
// that runs the binary under test (SIPPROBE_BINARY in its text) is appended to <file>
// with its exit status, stdout and stderr, after the name of the test case that ran it
// (tests/main.cpp). Two runs of the suite, one per build, then compare line by line once
// what varies between runs is normalised (scripts/compare-transcripts): the proof that a
// change kept every output. Without the variable nothing changes.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>

extern char** environ;

namespace test_support {

namespace transcript {

// The file named by SIPPROBE_TRANSCRIPT, or nullptr when no transcript is kept.
inline const char* path() {
  const char* p = std::getenv("SIPPROBE_TRANSCRIPT");
  return p != nullptr && *p != '\0' ? p : nullptr;
}

// Whether `command` is recorded: a transcript is kept and the command runs the binary.
inline bool records(const std::string& command) {
#ifdef SIPPROBE_BINARY
  return path() != nullptr && command.find(SIPPROBE_BINARY) != std::string::npos;
#else
  (void)command;
  return false;
#endif
}

// Appends `text` in one write, so entries of processes that share the file do not mix.
inline void append(const std::string& text) {
  const char* p = path();
  if (p == nullptr) return;
  const int fd = ::open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(std::string("SIPPROBE_TRANSCRIPT: cannot open ") + p);
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (done != text.size()) throw std::runtime_error(std::string("SIPPROBE_TRANSCRIPT: cannot write ") + p);
}

// A test case starts (or a subcase): the entries that follow are its.
inline void heading(const std::string& what, const std::string& name) { append("### " + what + ": " + name + "\n"); }

inline void entry(const std::string& command, int exit_code, const std::string& out, const std::string& err) {
  append("=== command\n" + command + "\n=== exit " + std::to_string(exit_code) + "\n=== stdout\n" + out + "\n=== stderr\n" + err +
         "\n=== end\n");
}

// A file for a command's stderr while it is recorded ("" when none could be made).
inline std::string stderr_file() {
  char name[] = "/tmp/sipprobe-transcript-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) return "";
  ::close(fd);
  return name;
}

// The file's bytes; the file is removed.
inline std::string take(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(file.c_str());
  return text;
}

}  // namespace transcript

struct run_result {
  int exit_code = -1;  // the command's exit status, or 128+signal
  std::string out;     // stdout (stderr too, when the command line redirects it)
};

// Quotes one argument for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

// Runs `command` through /bin/sh and captures its stdout. Recorded in the transcript
// (see above): what the command writes to stderr and does not redirect itself is kept
// for the transcript, then passed on to this process's stderr as before.
inline run_result run(const std::string& command) {
  run_result r;
  const std::string err_file = transcript::records(command) ? transcript::stderr_file() : "";
  const std::string shell_command = err_file.empty() ? command : "exec 2>" + shell_quote(err_file) + "; " + command;
  FILE* pipe = ::popen(shell_command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(pipe);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
  if (!err_file.empty()) {
    const std::string err = transcript::take(err_file);
    std::cerr << err;
    transcript::entry(command, r.exit_code, r.out, err);
  }
  return r;
}

// `command` run through /bin/sh in the background with the default signal dispositions
// (a shell's `command &` ignores SIGINT), so a test can signal it like a terminal would.
// The shell execs the command, so the signal reaches it: put variables in with `env`.
// The destructor kills and reaps it if the test did not wait for it. The transcript
// records its command line and exit status (its output goes where the command sends it).
class background {
 public:
  explicit background(const std::string& command) : command_(command) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults, none;
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) sigaddset(&defaults, sig);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::string c = "exec " + command;
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), c.data(), nullptr};
    const int rc = posix_spawn(&pid_, "/bin/sh", nullptr, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("posix_spawn failed for: " + command);
  }
  ~background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  background(const background&) = delete;
  background& operator=(const background&) = delete;

  void signal(int sig) const { ::kill(pid_, sig); }
  // The exit status, or 128+signal when a signal ended it.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (transcript::records(command_)) transcript::entry("(background) " + command_, code, "", "");
    return code;
  }

 private:
  std::string command_;
  pid_t pid_ = -1;
};

inline void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace test_support
