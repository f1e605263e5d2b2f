// probe/batch/scheduler.hpp — the `sipprobe batch` scheduler: many registrations on one
// io_context, at most `concurrency` in flight, at most `rate` started per second, results
// handed out one per input row in input order.
#pragma once

#include "probe/batch/csv.hpp"
#include "probe/batch/result.hpp"
#include "probe/core/report.hpp"
#include "probe/registration/run.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace probe::batch {

// One item of input: a validated row, a row error (already a result), or `later`: no
// input yet; input_ready() is called when there is.
struct input_item {
  std::optional<account_row> row;
  std::optional<row_result> error;
  bool later = false;
};

struct options {
  std::size_t concurrency = 50;
  double rate = 50;  // new registrations per second; 0: unlimited
  std::chrono::milliseconds timeout{10000};
  registration::register_settings settings;  // defaults; a row's expires overrides
  registration::route_options route;         // defaults; a row's registrar and transport override
};

// Drives the batch. Its rows share what RFC 3263/3261 let them share: one resolver and
// the RFC 3263 answer per registrar (kept `dns_cache_seconds`), one TLS context, and one
// link per endpoint — one UDP socket, or one TCP/TLS connection carrying every row's
// transactions, answers routed by Via branch (netcheck/link.hpp).
// Throws usage_error for a bad --dns-server, --ca-file or --bind (before any row).
//
// `next` yields the input items one by one (nullopt at the end); it is
// only called when the scheduler has room, so input is read no faster than it is used.
// `emit` receives every result exactly once, in input order. Everything is on `ctx.io`;
// the scheduler must outlive the io_context's run().
class scheduler {
 public:
  scheduler(registration::run_context ctx, options opts, std::function<std::optional<input_item>()> next,
            std::function<void(const row_result&)> emit);
  ~scheduler();

  // Starts pulling input; `done` runs once when the input is exhausted (or stop() was
  // called) and every started row has been emitted.
  void start(std::function<void()> done);

  // More input can be read (after `next` said `later`).
  void input_ready();

  // Stops starting new rows; rows in flight finish (their own timeouts bound them) and
  // are emitted. Rows not started yet produce no result.
  void stop();

  bool stopped() const noexcept { return stopping_; }
  std::size_t in_flight() const noexcept { return in_flight_; }
  // Sharing, for the summary and the tests.
  std::uint64_t dns_lookups() const noexcept { return dns_lookups_; }
  std::uint64_t connections() const noexcept { return links_ ? links_->connects() : 0; }

  static constexpr double dns_cache_seconds = 300;  // a batch is not a resolver cache

 private:
  struct job;
  struct dns_entry {
    std::shared_ptr<const netcheck::resolution> answer;
    std::chrono::steady_clock::time_point at{};
    std::vector<std::function<void()>> waiting;
  };

  void pump();
  void launch(std::size_t seq, account_row row);
  void locate(std::size_t seq, const std::shared_ptr<job>& j, const std::string& key);
  void run(std::size_t seq, const std::shared_ptr<job>& j, std::shared_ptr<const netcheck::resolution> located);
  void row_failed(std::size_t seq, const std::shared_ptr<job>& j, std::string why);
  void finish(std::size_t seq, row_result r);
  void flush();
  void maybe_done();

  registration::run_context ctx_;
  options opts_;
  registration::shared_resources shared_;
  std::unique_ptr<netcheck::resolver> resolver_;
  std::unique_ptr<netcheck::tls_context> tls_;
  std::unique_ptr<netcheck::link_pool> links_;
  std::map<std::string, dns_entry> dns_;
  std::uint64_t dns_lookups_ = 0;
  std::function<std::optional<input_item>()> next_;
  std::function<void(const row_result&)> emit_;
  std::function<void()> done_;
  boost::asio::steady_timer timer_;
  std::mt19937 jitter_rng_{std::random_device{}()};

  std::size_t next_seq_ = 0;  // sequence number of the next item read
  std::size_t emit_seq_ = 0;  // next sequence number to emit
  // Started, not yet emitted: slot seq % concurrency (pump() keeps fewer than
  // `concurrency` sequence numbers between emit_seq_ and next_seq_).
  std::vector<std::optional<row_result>> window_;
  std::optional<row_result>& slot(std::size_t seq) { return window_[seq % window_.size()]; }
  // launch(): the last row's RFC 3263 request and cache key, for the next row that asks
  // the same (rows of one domain or one --registrar): parsing the route per row is waste.
  struct request_memo {
    const registration::route_options* route = nullptr;
    std::string scheme, host;
    std::optional<std::string> transport_param;
    std::uint16_t port = 0;
    netcheck::locate_request request;
    std::string key;
  };
  std::optional<request_memo> memo_;
  std::size_t in_flight_ = 0;
  std::chrono::steady_clock::time_point next_start_{};
  bool input_done_ = false;
  bool stopping_ = false;
  bool waiting_ = false;  // the rate timer is armed
  bool finished_ = false;
};

}  // namespace probe::batch
