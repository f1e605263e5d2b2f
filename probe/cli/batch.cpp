// `sipprobe batch`: validate many accounts from a CSV file by registering each for real.
#include "probe/batch/csv.hpp"
#include "probe/batch/input.hpp"
#include "probe/batch/scheduler.hpp"
#include "probe/cli/app.hpp"
#include "probe/core/secret.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/locate/request.hpp"
#include "probe/registration/interrupt.hpp"

#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
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
  batch::batch_options opts;
};

void write_result(std::ostream& out, const batch::batch_result& r, bool csv) {
  out << (csv ? batch::batch_result_csv(r) : batch::batch_result_jsonl(r));
}

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
    for (const char* p = buf.data(); (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(n) - static_cast<std::size_t>(p - buf.data())))) != nullptr; ++p)
      ++lines;
    last = buf[static_cast<std::size_t>(n) - 1];
    at += n;
  }
  return last == '\n' ? lines : lines + 1;
}

int run_batch(batch_cli& o) {
  if (!o.transport.empty()) o.opts.route.transport = netcheck::transport_from_string(o.transport);
  o.opts.concurrency = o.concurrency;
  o.opts.rate = o.rate;
  o.opts.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  o.opts.settings.ladder = false;  // one line per account: the ladder's notes go nowhere

  int fd = STDIN_FILENO;
  if (o.accounts != "-") {
    fd = ::open(o.accounts.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw usage_error("cannot read " + o.accounts + ": " + std::strerror(errno));
  }
  struct fd_closer {
    int fd;
    ~fd_closer() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } closer{fd};

  // One thread runs the loop (the reader thread only posts to it): with the hint, Asio
  // does not signal other runners after each handler.
  boost::asio::io_context io(1);
  // The scheduler exists only after the header is read; until then nothing waits.
  batch::batch_scheduler* sched_ptr = nullptr;
  batch::record_feed feed(io, fd, std::max<std::size_t>(o.concurrency, 64), [&sched_ptr] {
    if (sched_ptr) sched_ptr->input_ready();
  });
  batch::csv_record rec;
  if (!feed.take_blocking(rec)) {
    if (auto why = feed.error()) throw usage_error("cannot read " + o.accounts + ": " + why.message());
    throw usage_error("accounts file " + o.accounts + " is empty: it needs a header row (aor,password,…)");
  }
  if (rec.error) throw usage_error("accounts file: header row: " + *rec.error);
  const batch::batch_columns cols = batch::parse_batch_header(rec.fields);

  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (!o.out.empty() && o.out != "-") {
    out_file.open(o.out, std::ios::binary | std::ios::trunc);
    if (!out_file) throw usage_error("cannot write " + o.out + ": " + std::strerror(errno));
    out = &out_file;
  }
  std::ostream& side = out == &std::cout ? std::cerr : std::cout;  // summary goes where results do not
  const bool csv = o.output == "csv";
  if (csv) *out << "row,label,aor,code,verdict,detail,evidence,elapsed_ms\n";
  protect_process_memory();

  sip::id_factory ids(sip::openssl_random());
  std::random_device rd;
  std::mt19937 rng(rd());
  batch::duplicate_guard dups;
  const auto getenv = [](const char* name) -> const char* { return std::getenv(name); };

  std::size_t read = 0, emitted = 0, ok = 0, failed = 0, row_errors = 0;
  std::map<std::string, std::size_t> by_code;
  auto next = [&]() -> std::optional<batch::batch_item> {
    batch::csv_record r;
    switch (feed.take(r)) {
      case batch::record_feed::status::end: return std::nullopt;
      case batch::record_feed::status::later: return batch::batch_item{{}, {}, true};
      case batch::record_feed::status::record: break;
    }
    ++read;
    auto v = batch::validate_batch_row(cols, r, getenv);
    if (v)
      if (auto fresh = dups.check(*v); !fresh) v = unexpected(batch::row_error{fresh.error(), std::move(v->label), std::move(v->aor)});
    batch::batch_item item;
    if (v) item.row = *std::move(v);
    else item.error = batch::row_error_result(r.number, v.error().label, v.error().aor, v.error().reason);
    return item;
  };
  // Results reach the output within 100 ms, without a write per row.
  boost::asio::steady_timer flusher(io);
  bool flush_armed = false;
  auto emit = [&](const batch::batch_result& r) {
    write_result(*out, r, csv);
    if (!flush_armed) {
      flush_armed = true;
      flusher.expires_after(std::chrono::milliseconds(100));
      flusher.async_wait([&](const boost::system::error_code&) {
        flush_armed = false;
        out->flush();
      });
    }
    ++emitted;
    ++by_code[r.code];
    // A success is whatever the row asked for: registered, or credentials_valid with
    // --query, or unregistered with expires 0 (catalog: verdict_for).
    if (r.verdict == "row_error") ++row_errors;
    else if (r.verdict == "failed") ++failed;
    else ++ok;
  };

  batch::batch_scheduler sched({io, ids, rng}, o.opts, next, emit);
  sched_ptr = &sched;
  // SIGINT, SIGTERM, SIGHUP (the terminal closed) and SIGPIPE (`| head -1`): start no new
  // row; the rows in flight finish, remove their bindings and get their result lines.
  bool interrupted = false;
  registration::signal_watch signals(io, [&](const std::string&) {
    interrupted = true;
    sched.stop();
  });

  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  // Progress only for a person watching: never in a pipe or a log.
  const bool progress = ::isatty(STDERR_FILENO) == 1;
  boost::asio::steady_timer tick(io);
  const auto total = progress ? count_lines(fd) : std::nullopt;  // data rows + the header
  std::function<void()> show;
  show = [&] {
    const double rate = seconds() > 0 ? static_cast<double>(emitted) / seconds() : 0.0;
    char done[96];
    if (total && *total > 1) {
      const std::size_t rows = *total - 1;
      const std::size_t left = rows > emitted ? rows - emitted : 0;
      const long eta = rate > 0 ? static_cast<long>(static_cast<double>(left) / rate + 0.5) : -1;
      if (eta >= 0)
        std::snprintf(done, sizeof done, "%zu/~%zu (%.0f%%), ETA %ld:%02ld", emitted, rows,
                      100.0 * static_cast<double>(emitted) / static_cast<double>(rows), eta / 60, eta % 60);
      else
        std::snprintf(done, sizeof done, "%zu/~%zu", emitted, rows);
    } else {
      std::snprintf(done, sizeof done, "%zu done of %zu read", emitted, read);
    }
    std::fprintf(stderr, "\r\033[Kbatch: %s, %.1f/s, ok %zu, failed %zu, row_error %zu%s", done, rate, ok,
                 failed, row_errors, sched.stopped() ? " (stopping)" : "");
    tick.expires_after(std::chrono::milliseconds(250));
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) show();
    });
  };
  if (progress) show();

  sched.start([&] {
    signals.cancel();
    tick.cancel();
    flusher.cancel();
    feed.stop();  // after an interrupt: read no further
  });
  io.run();
  if (progress) std::fprintf(stderr, "\r\033[K");
  errno = 0;
  out->flush();
  // Standard output is checked for every subcommand at exit (app.cpp); the --out file here.
  if (out == &out_file && !out_file) {
    std::cerr << "sipprobe: cannot write " << printable(o.out) << (errno != 0 ? std::string(": ") + std::strerror(errno) : "")
              << "\n";
    return exit_internal;
  }
  if (auto why = feed.error())
    std::cerr << "sipprobe: reading " << printable(o.accounts) << " failed after " << read << " rows: " << why.message() << "\n";

  if (o.summary) {
    side << "code                       rows\n";
    for (const auto& [code, n] : by_code) {
      char line[80];
      std::snprintf(line, sizeof line, "%-24s %6zu\n", code.c_str(), n);
      side << line;
    }
    char line[160];
    std::snprintf(line, sizeof line, "%-24s %6zu  (%.1f s, %.1f rows/s%s)\n", "total", emitted, seconds(),
                  seconds() > 0 ? static_cast<double>(emitted) / seconds() : 0.0,
                  interrupted ? ", interrupted: rows not started have no result" : "");
    side << line;
    std::snprintf(line, sizeof line, "shared: %llu RFC 3263 lookups, %llu connections/sockets\n",
                  static_cast<unsigned long long>(sched.dns_lookups()),
                  static_cast<unsigned long long>(sched.connections()));
    side << line;
    side.flush();
  }
  if (interrupted) std::cerr << "sipprobe: batch interrupted after " << emitted << " rows; rows not started have no result\n";
  return interrupted || failed > 0 || row_errors > 0 ? exit_failed : exit_ok;
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
  cmd->add_option("--output", o->output, "Result format: jsonl or csv")
      ->check(one_of({"jsonl", "csv"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Write the results to FILE (default: stdout)");
  cmd->add_flag("--summary", o->summary, "Print a count per diagnosis code at the end (on stderr when results go to stdout)");
  cmd->add_option("--timeout", o->timeout_s, "Time limit per registration in seconds")
      ->check(number_in(0.1, 3600))
      ->capture_default_str();
  cmd->add_option("--registrar", o->opts.route.registrar, "Default HOST[:PORT] for rows without a registrar column value")
      ->check(target_text());
  cmd->add_option("--outbound-proxy", o->opts.route.outbound_proxy, "Send through this proxy URI")->check(target_text());
  cmd->add_option("--transport", o->transport, "Default transport: udp, tcp or tls")
      ->check(one_of({"udp", "tcp", "tls"}));
  cmd->add_option("--dns-server", o->opts.route.dns_servers, "Use this resolver, IP[:PORT] (repeatable)");
  cmd->add_option("--ca-file", o->opts.route.ca_file, "Trust the CAs in this PEM file for TLS");
  cmd->add_flag("--insecure", o->opts.route.insecure, "Go on when the TLS certificate does not verify");
  cmd->add_option("--bind", o->opts.route.bind, "Local ADDR to send from");
  cmd->add_option("--expires", o->opts.settings.expires, "Default registration interval to ask for, in seconds")
      ->check(whole_number_in(0, 4294967295u))
      ->capture_default_str();
  cmd->add_flag("--query", o->opts.settings.query,
                "Authenticated REGISTER without Contact: check credentials, change no binding");
  cmd->add_option("--user-agent", o->opts.settings.user_agent, "User-Agent header (default: sipprobe/<version>)")
      ->check(sip_text());
  cmd->callback([&selected, o] {
    selected = [o] { return run_batch(*o); };
  });
}

}  // namespace probe::cli
