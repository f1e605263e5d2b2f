// probe/batch/input.hpp — reading the accounts file of `sipprobe batch` without ever
// blocking the event loop.
//
// A slow producer on a pipe (`make-accounts | sipprobe batch -`) must not stall the
// registrations in flight: their retransmission timers run on the io_context. A reader
// thread parses records (csv_reader) from the descriptor into a bounded queue; the loop
// takes them when it has room and, when it found the queue empty, is woken by a post as
// soon as a record (or the end) arrives. The thread waits on the descriptor and on a stop
// pipe together, so stop() never waits for input that does not come. This thread shares
// nothing with the loop but the queue: all network work stays on the one loop thread.
#pragma once

#include "probe/batch/csv.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

namespace probe::batch {

class record_feed {
 public:
  enum class status { record, later, end };

  // Reads from `fd` (not closed here). `on_ready` runs on `io` after take() said `later`
  // and a record or the end has arrived. At most `capacity` records wait in the queue.
  record_feed(boost::asio::io_context& io, int fd, std::size_t capacity, std::function<void()> on_ready);
  ~record_feed();
  record_feed(const record_feed&) = delete;
  record_feed& operator=(const record_feed&) = delete;

  // The loop thread: the next record, `later` (on_ready will run), or the end.
  status take(csv_record& r);
  // Waits for the next record (the header, before the loop runs); false at the end.
  bool take_blocking(csv_record& r);
  // Stops reading; the thread ends without waiting for more input. Idempotent.
  void stop() noexcept;
  // Why reading ended early: the system's error (EISDIR, EIO…); none at a normal end.
  std::error_code error() const;

 private:
  void read_loop();
  std::size_t low_water() const noexcept { return capacity_ / 2; }

  boost::asio::io_context& io_;
  int fd_;
  std::size_t capacity_;
  std::function<void()> on_ready_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  int stop_pipe_[2] = {-1, -1};

  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<csv_record> queue_;
  bool end_ = false;
  bool stopping_ = false;
  bool waiting_ = false;         // the loop was told `later`
  bool reader_waiting_ = false;  // the reader waits for room (the queue was full)
  std::error_code error_;
  std::thread thread_;
};

}  // namespace probe::batch
