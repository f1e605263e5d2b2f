// `sipprobe batch`: validate many accounts from a CSV file by registering each for real.
#include "probe/batch/csv.hpp"
#include "probe/batch/input.hpp"
#include "probe/batch/scheduler.hpp"
#include "probe/cli/app.hpp"
#include "probe/cli/register_options.hpp"
#include "probe/core/secret.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/registration/interrupt.hpp"

#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

namespace probe::cli {
namespace {

struct batch_cli {
  std::string accounts;
  std::size_t concurrency = 50;
  double rate = 50;
  std::string output = "jsonl";
  std::string out;
  bool summary = false;
  double timeout_s = 10.0;
  std::string transport;
  batch::options opts;
};

// Lines in a regular file (by pread, so the reader's offset stays), for the progress
// line's total and ETA; nullopt for a pipe or a terminal. Approximate: a quoted field may
// hold a line break. Read in blocks, never held whole.
std::optional<std::size_t> count_lines(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::array<char, 64 * 1024> buf{};
  std::size_t lines = 0;
  off_t at = 0;
  char last = '\n';
  for (;;) {
    const auto n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    for (const char* p = buf.data();
         (p = static_cast<const char*>(
              std::memchr(p, '\n', static_cast<std::size_t>(n) - static_cast<std::size_t>(p - buf.data())))) != nullptr;
         ++p)
      ++lines;
    last = buf[static_cast<std::size_t>(n) - 1];
    at += n;
  }
  return last == '\n' ? lines : lines + 1;
}

// The accounts file as the scheduler reads it: the descriptor (the file, or standard
// input for "-"), the reader thread's feed, the header's columns, and each record made an
// item — a row to register, or the row error that is its result (duplicates included).
class accounts_input {
 public:
  // Opens `path` and reads the header row (before the loop runs: nothing waits yet).
  // Throws usage_error when the file cannot be read or its header is not usable.
  accounts_input(boost::asio::io_context& io, const std::string& path, std::size_t capacity)
      : path_(path), fd_{open_accounts(path)}, feed_(io, fd_.fd, capacity, [this] {
          if (scheduler_ != nullptr) scheduler_->input_ready();
        }) {
    batch::csv_record rec;
    if (!feed_.take_blocking(rec)) {
      if (auto why = feed_.error()) throw usage_error("cannot read " + path_ + ": " + why.message());
      throw usage_error("accounts file " + path_ + " is empty: it needs a header row (aor,password,…)");
    }
    if (rec.error) throw usage_error("accounts file: header row: " + *rec.error);
    cols_ = batch::parse_header(rec.fields);
  }
  accounts_input(const accounts_input&) = delete;
  accounts_input& operator=(const accounts_input&) = delete;

  // The scheduler that input_ready() wakes when a record arrives after next() said later.
  void feed(batch::scheduler& s) noexcept { scheduler_ = &s; }

  // The next item for the scheduler (batch::scheduler's `next`): a row, a row error,
  // `later`, or nullopt at the end.
  std::optional<batch::input_item> next() {
    batch::csv_record r;
    switch (feed_.take(r)) {
      case batch::record_feed::status::end: return std::nullopt;
      case batch::record_feed::status::later: return batch::input_item{{}, {}, true};
      case batch::record_feed::status::record: break;
    }
    ++read_;
    auto v = batch::validate_row(cols_, r, getenv_);
    if (v)
      if (auto fresh = dups_.check(*v); !fresh)
        v = unexpected(batch::row_error{fresh.error(), std::move(v->label), std::move(v->aor)});
    batch::input_item item;
    if (v) item.row = *std::move(v);
    else item.error = batch::row_error_result(r.number, v.error().label, v.error().aor, v.error().reason);
    return item;
  }

  // Reads no further (after an interrupt, or at the end).
  void stop() noexcept { feed_.stop(); }
  // Says on stderr why reading ended early, if it did.
  void report_error() const {
    if (auto why = feed_.error())
      std::cerr << "sipprobe: reading " << printable(path_) << " failed after " << read_ << " rows: " << why.message() << "\n";
  }

  std::size_t rows_read() const noexcept { return read_; }
  int fd() const noexcept { return fd_.fd; }

 private:
  static int open_accounts(const std::string& path) {
    if (path == "-") return STDIN_FILENO;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw usage_error("cannot read " + path + ": " + std::strerror(errno));
    return fd;
  }

  // Closes the file (not standard input) once the feed's reader thread has ended: the
  // feed is declared after it, so it is destroyed first.
  struct descriptor {
    int fd;
    ~descriptor() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  };

  std::string path_;
  descriptor fd_;
  batch::scheduler* scheduler_ = nullptr;
  batch::columns cols_;
  batch::duplicate_guard dups_;
  std::function<const char*(const char*)> getenv_ = [](const char* name) -> const char* { return std::getenv(name); };
  std::size_t read_ = 0;
  batch::record_feed feed_;
};

// Where the result lines go — standard output or --out FILE, as JSON lines or CSV — and
// what they add up to (the summary and the exit status). A result reaches the output
// within 100 ms of its row's end, without a write per row.
class result_output {
 public:
  // Opens --out (throws usage_error when it cannot be written) and writes the CSV header.
  result_output(boost::asio::io_context& io, const batch_cli& o) : flusher_(io), csv_(o.output == "csv"), name_(o.out) {
    if (!o.out.empty() && o.out != "-") {
      file_.open(o.out, std::ios::binary | std::ios::trunc);
      if (!file_) throw usage_error("cannot write " + o.out + ": " + std::strerror(errno));
      out_ = &file_;
    }
    if (csv_) *out_ << "row,label,aor,code,verdict,detail,evidence,elapsed_ms\n";
  }

  void write(const batch::row_result& r) {
    *out_ << (csv_ ? batch::csv_line(r) : batch::jsonl_line(r));
    if (!flush_armed_) {
      flush_armed_ = true;
      flusher_.expires_after(std::chrono::milliseconds(100));
      flusher_.async_wait([this](const boost::system::error_code&) {
        flush_armed_ = false;
        out_->flush();
      });
    }
    ++emitted;
    ++by_code[r.code];
    // A success is whatever the row asked for: registered, or credentials_valid with
    // --query, or unregistered with expires 0 (catalog: verdict_for).
    if (r.verdict == "row_error") ++row_errors;
    else if (r.verdict == "failed") ++failed;
    else ++ok;
  }

  void stop_flushing() { flusher_.cancel(); }

  // Flushes what is left. Standard output is checked for every subcommand at exit
  // (app.cpp); a --out file here: false (said on stderr) when it could not be written.
  bool close() {
    errno = 0;
    out_->flush();
    if (out_ == &file_ && !file_) {
      std::cerr << "sipprobe: cannot write " << printable(name_) << (errno != 0 ? std::string(": ") + std::strerror(errno) : "")
                << "\n";
      return false;
    }
    return true;
  }

  // The stream the summary goes to: where the results do not.
  std::ostream& side() const noexcept { return out_ == &std::cout ? std::cerr : std::cout; }

  std::size_t emitted = 0, ok = 0, failed = 0, row_errors = 0;
  std::map<std::string, std::size_t> by_code;

 private:
  boost::asio::steady_timer flusher_;
  bool flush_armed_ = false;
  bool csv_;
  std::string name_;
  std::ofstream file_;
  std::ostream* out_ = &std::cout;
};

// "batch: 120/~1000 (12%), ETA 1:13, 9.8/s, ok 118, failed 2, row_error 0" on stderr, four
// times a second, for a person watching: only when stderr is a terminal, never in a pipe
// or a log.
class progress_line {
 public:
  using clock = std::chrono::steady_clock;

  progress_line(boost::asio::io_context& io, const result_output& results, const accounts_input& input,
                const batch::scheduler& sched, clock::time_point started)
      : tick_(io),
        results_(results),
        input_(input),
        sched_(sched),
        started_(started),
        shown_(::isatty(STDERR_FILENO) == 1),
        total_(shown_ ? count_lines(input.fd()) : std::nullopt) {}

  void start() {
    if (shown_) show();
  }
  void stop() { tick_.cancel(); }
  // Takes the line off the terminal before anything else is written there.
  void clear() const {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  void show() {
    const double seconds = std::chrono::duration<double>(clock::now() - started_).count();
    const std::size_t emitted = results_.emitted;
    const double rate = seconds > 0 ? static_cast<double>(emitted) / seconds : 0.0;
    char done[96];
    if (total_ && *total_ > 1) {  // data rows + the header
      const std::size_t rows = *total_ - 1;
      const std::size_t left = rows > emitted ? rows - emitted : 0;
      const long eta = rate > 0 ? static_cast<long>(static_cast<double>(left) / rate + 0.5) : -1;
      if (eta >= 0)
        std::snprintf(done, sizeof done, "%zu/~%zu (%.0f%%), ETA %ld:%02ld", emitted, rows,
                      100.0 * static_cast<double>(emitted) / static_cast<double>(rows), eta / 60, eta % 60);
      else std::snprintf(done, sizeof done, "%zu/~%zu", emitted, rows);
    } else {
      std::snprintf(done, sizeof done, "%zu done of %zu read", emitted, input_.rows_read());
    }
    std::fprintf(stderr, "\r\033[Kbatch: %s, %.1f/s, ok %zu, failed %zu, row_error %zu%s", done, rate, results_.ok,
                 results_.failed, results_.row_errors, sched_.stopped() ? " (stopping)" : "");
    tick_.expires_after(std::chrono::milliseconds(250));
    tick_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) show();
    });
  }

  boost::asio::steady_timer tick_;
  const result_output& results_;
  const accounts_input& input_;
  const batch::scheduler& sched_;
  clock::time_point started_;
  bool shown_;
  std::optional<std::size_t> total_;
};

// --summary: rows per diagnosis code, the total with the run's time and rate, and what
// the rows shared.
void write_summary(std::ostream& side, const result_output& results, double seconds, bool interrupted,
                   const batch::scheduler& sched) {
  side << "code                       rows\n";
  for (const auto& [code, n] : results.by_code) {
    char line[80];
    std::snprintf(line, sizeof line, "%-24s %6zu\n", code.c_str(), n);
    side << line;
  }
  char line[160];
  std::snprintf(line, sizeof line, "%-24s %6zu  (%.1f s, %.1f rows/s%s)\n", "total", results.emitted, seconds,
                seconds > 0 ? static_cast<double>(results.emitted) / seconds : 0.0,
                interrupted ? ", interrupted: rows not started have no result" : "");
  side << line;
  std::snprintf(line, sizeof line, "shared: %llu RFC 3263 lookups, %llu connections/sockets\n",
                static_cast<unsigned long long>(sched.dns_lookups()), static_cast<unsigned long long>(sched.connections()));
  side << line;
  side.flush();
}

batch::options scheduler_options(batch_cli& o) {
  if (!o.transport.empty()) o.opts.route.transport = netcheck::transport_from_string(o.transport);
  o.opts.concurrency = o.concurrency;
  o.opts.rate = o.rate;
  o.opts.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  o.opts.settings.ladder = false;  // one line per account: the ladder's notes go nowhere
  return o.opts;
}

int run_batch(batch_cli& o) {
  auto opts = scheduler_options(o);
  // One thread runs the loop (the reader thread only posts to it): with the hint, Asio
  // does not signal other runners after each handler.
  boost::asio::io_context io(1);
  accounts_input input(io, o.accounts, std::max<std::size_t>(o.concurrency, 64));
  result_output results(io, o);
  protect_process_memory();

  sip::id_factory ids(sip::openssl_random());
  std::random_device rd;
  std::mt19937 rng(rd());
  batch::scheduler sched(
      {io, ids, rng}, std::move(opts), [&input] { return input.next(); },
      [&results](const batch::row_result& r) { results.write(r); });
  input.feed(sched);
  // SIGINT, SIGTERM, SIGHUP (the terminal closed) and SIGPIPE (`| head -1`): start no new
  // row; the rows in flight finish, remove their bindings and get their result lines.
  bool interrupted = false;
  registration::signal_watch signals(io, [&](const std::string&) {
    interrupted = true;
    sched.stop();
  });
  const auto started = std::chrono::steady_clock::now();
  progress_line progress(io, results, input, sched, started);
  progress.start();
  sched.start([&] {
    signals.cancel();
    progress.stop();
    results.stop_flushing();
    input.stop();  // after an interrupt: read no further
  });
  io.run();
  progress.clear();
  if (!results.close()) return exit_internal;
  input.report_error();

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (o.summary) write_summary(results.side(), results, seconds, interrupted, sched);
  if (interrupted)
    std::cerr << "sipprobe: batch interrupted after " << results.emitted << " rows; rows not started have no result\n";
  return interrupted || results.failed > 0 || results.row_errors > 0 ? exit_failed : exit_ok;
}

}  // namespace

void setup_batch(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand("batch", "Register many accounts from a CSV file and report one result per row");
  auto o = std::make_shared<batch_cli>();
  cmd->add_option("accounts", o->accounts, "CSV file with a header row (aor,password|password_env|ha1,…), or - for stdin")
      ->required();
  cmd->add_option("--concurrency", o->concurrency, "Registrations in flight at once")
      ->check(whole_number_in(1, 10000))
      ->capture_default_str();
  cmd->add_option("--rate", o->rate, "New registrations per second (0: unlimited)")
      ->check(number_in(0, 100000))
      ->capture_default_str();
  cmd->add_option("--output", o->output, "Result format: jsonl or csv")->check(one_of({"jsonl", "csv"}))->capture_default_str();
  cmd->add_option("--out", o->out, "Write the results to FILE (default: stdout)");
  cmd->add_flag("--summary", o->summary, "Print a count per diagnosis code at the end (on stderr when results go to stdout)");
  cmd->add_option("--timeout", o->timeout_s, "Time limit per registration in seconds")
      ->check(number_in(0.1, 3600))
      ->capture_default_str();
  add_route_options(*cmd, o->opts.route, o->transport);
  cmd->add_option("--expires", o->opts.settings.expires, "Default registration interval to ask for, in seconds")
      ->check(whole_number_in(0, 4294967295u))
      ->capture_default_str();
  cmd->add_flag("--query", o->opts.settings.query,
                "Authenticated REGISTER without Contact: check credentials, change no binding");
  cmd->add_option("--user-agent", o->opts.settings.user_agent, "User-Agent header (default: sipprobe/<version>)")
      ->check(sip_text());
  cmd->callback([&selected, o] { selected = [o] { return run_batch(*o); }; });
}

}  // namespace probe::cli
