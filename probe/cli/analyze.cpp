// `sipprobe analyze [FILE…|-]`: why a registration failed, from a trace alone.
#include "probe/analyze/run.hpp"
#include "probe/cli/app.hpp"
#include "probe/core/secret.hpp"
#include "probe/core/text_safety.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>

namespace probe::cli {
namespace {

struct analyze_cli {
  std::vector<std::string> files;
  std::string format = "auto";
  common_options common;
  std::uint64_t max_bytes = 0;
  secret_options secret;
  std::string call_id;
  std::string aor;
  std::size_t max_attempts = 100;
  double idle_seconds = 32;
};

// Ends the process with a one-line error when reading the inputs takes longer than
// --timeout: a FIFO without a writer blocks in open(2), /dev/zero or endless standard
// input never end, and neither can be interrupted from the reading side. Nothing has been
// printed on stdout by then; stopped before the report is written.
class watchdog {
 public:
  watchdog(double seconds) : thread_([this, seconds] { run(seconds); }) {}
  ~watchdog() { stop(); }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

  void stop() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(double seconds) {
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; })) return;
    char line[256];
    const int n = std::snprintf(line, sizeof line,
                                "sipprobe: the input did not end within --timeout %g s (a FIFO without a writer, or endless "
                                "input?); nothing was analysed\n",
                                seconds);
    if (n > 0) (void)!::write(STDERR_FILENO, line, static_cast<std::size_t>(std::min<int>(n, sizeof line - 1)));
    ::_exit(exit_usage);
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  std::thread thread_;
};

int run_analyze(const analyze_cli& o) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> files = o.files.empty() ? std::vector<std::string>{"-"} : o.files;
  const auto stdin_uses = std::count(files.begin(), files.end(), std::string("-"));
  if (stdin_uses > 1) throw usage_error("standard input (-) can be read only once");
  if (stdin_uses > 0 && o.secret.password_stdin)
    throw usage_error("--password-stdin cannot be used while the trace comes from standard input");
  const auto forced = analyze::format_from_string(o.format);
  if (!forced) throw usage_error("--format: unknown format " + o.format);

  // The password is optional here: it only lets the analysis check the digest response.
  auto secret = acquire_secret(o.secret, process_secret_env(), false);
  analyze::diagnose_options dopt;
  dopt.password = secret.password;
  dopt.ha1 = secret.ha1;
  dopt.secret_source = secret.source;
  if (dopt.has_secret()) protect_process_memory();

  analyze::run_options aopt;
  aopt.format = *forced;
  aopt.secret = dopt;
  aopt.call_id = o.call_id;
  aopt.aor = o.aor;
  aopt.max_attempts = o.max_attempts;
  aopt.idle_seconds = o.idle_seconds;
  aopt.max_bytes = o.max_bytes;
  analyze::trace_analyzer analyzer(aopt);
  watchdog limit(o.common.timeout_s);
  for (const auto& file : files) {
    if (auto read = analyzer.add(file); !read) throw usage_error(read.error());
  }
  analyzer.finish();
  limit.stop();
  auto result = analyzer.result();
  const auto& store = analyzer.store();

  std::string what;
  for (const auto& f : files) what += (what.empty() ? "" : ", ") + f;
  if (result.sip_messages == 0) {
    std::string why = "no SIP messages found in " + what;
    if (result.capture.packets) why += " (" + std::to_string(result.capture.packets) + " packets read)";
    if (!result.warnings.empty())
      why += "; first problem: " + result.warnings.front().first + ": " + result.warnings.front().second;
    throw usage_error(why);
  }
  if (store.total() == 0)
    throw usage_error("no REGISTER traffic in " + what + " (" + std::to_string(result.sip_messages) +
                      " SIP messages of other methods" +
                      (o.call_id.empty() && o.aor.empty() ? "" : ", or none matching --call-id/--aor") + ")");

  result.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (o.common.json) std::cout << json_text(analyze::to_json(result)) << "\n";
  else analyze::write_text(std::cout, result, resolve_color(o.common.color, ::isatty(STDOUT_FILENO) == 1));
  return exit_status_for(store.primary()->primary.code);
}

}  // namespace

void setup_analyze(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand(
      "analyze",
      "Explain a registration from a trace: pcap/pcapng, ngrep, Asterisk/FreeSWITCH logs, sngrep export or pasted messages");
  auto o = std::make_shared<analyze_cli>();
  cmd->add_option("files", o->files, "Trace files to read in order; - or none reads standard input");
  cmd->add_option("--format", o->format,
                  "Input format instead of detecting it (fslog and kamailio read as freeswitch, pcapng as pcap)")
      ->check(one_of({"auto", "text", "ngrep", "asterisk", "freeswitch", "fslog", "kamailio", "sngrep", "pcap", "pcapng"}))
      ->capture_default_str();
  // Reading a day's capture takes seconds: the bound is for inputs that never end.
  o->common.timeout_s = 600;
  add_common_options(*cmd, o->common);
  cmd->add_option("--max-bytes", o->max_bytes, "Read at most this many bytes of input (all files together); 0: no bound")
      ->check(whole_number_in(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  add_secret_options(*cmd, o->secret);
  cmd->add_option("--call-id", o->call_id, "Only the registration with this Call-ID");
  cmd->add_option("--aor", o->aor, "Only registrations whose To or From contains this text (e.g. 1001@example.com)");
  cmd->add_option("--max-attempts", o->max_attempts,
                  "Show at most this many attempts (plus as many failed ones); counts cover all")
      ->check(whole_number_in(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--idle", o->idle_seconds, "Close an attempt after this many seconds of trace time without its messages")
      ->check(number_in(1, 86400))
      ->capture_default_str();
  cmd->callback([&selected, o] { selected = [o] { return run_analyze(*o); }; });
}

}  // namespace probe::cli
