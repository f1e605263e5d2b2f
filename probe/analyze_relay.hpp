// probe/analyze_relay.hpp — a trace_sink that hands everything to another sink on a
// second thread, in order.
//
// Why: reading and parsing a capture and tracking its registration attempts cost about
// the same; with the tracker on its own thread the two halves of a big capture run side
// by side. The inner sink sees exactly the calls it would have seen directly, in the same
// order, from one thread (the relay's): messages are copied — bytes, header table,
// meta — into batches, and rebuilt as a message_view for the call. Bytes a reader keeps
// unchanged for long enough (share()) are not copied, only pointed to. Memory is bounded by
// the batches in flight (batch_bytes each, at most max_batches).
//
// The producer side (on_message, on_warning, finish) is used from one thread; finish()
// must be called before the inner sink is read. If the inner sink throws, the relay
// drops what follows and finish() rethrows it.
#pragma once

#include "probe/analyze_input.hpp"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace probe::analyze {

class relay_sink : public trace_sink {
 public:
  static constexpr std::size_t batch_bytes = 1 << 20;  // a batch is sent when it holds this much
  static constexpr std::size_t batch_events = 4096;    // … or this many messages and warnings
  static constexpr std::size_t max_batches = 4;        // filled and waiting, or being read

  explicit relay_sink(trace_sink& inner);
  ~relay_sink() override;
  relay_sink(const relay_sink&) = delete;
  relay_sink& operator=(const relay_sink&) = delete;

  void on_message(const sip::message_view& msg, const message_meta& meta) override;
  void on_warning(std::string where, std::string what) override;
  // Messages whose bytes (`raw`) lie inside `region` are passed on as they are, not
  // copied, and `owner` is kept until the messages given from now on have been delivered.
  // Every view of such a message must lie in its `raw`, as sip::parse makes them (only
  // `raw` is looked at), and the bytes in `region` that a message refers to must not
  // change until then. Replaces the previous region.
  void share(std::string_view region, std::shared_ptr<const void> owner);
  // Waits until the inner sink has seen everything; rethrows what it threw.
  void finish();

 private:
  // Everything a message call carries, its views pointing into the batch's bytes.
  // The views of a message_view but its header table (batch::headers[first_header,
  // +headers]): without a vector in it an event is trivially destructible, and clearing
  // a batch of thousands costs nothing.
  struct message_parts {
    std::string_view raw, method, request_uri, version, reason, body;
    int status = 0;
  };
  struct event {
    bool warning = false;  // else a message
    message_parts view;
    std::uint32_t first_header = 0, headers = 0;
    message_meta meta;
    std::uint32_t text = 0;  // a warning: index into batch::texts
  };
  // The bytes never move while the batch fills (a message that does not fit goes to the
  // next batch), so the views into them stay valid until the batch is cleared.
  struct batch {
    std::unique_ptr<char[]> bytes;
    std::size_t capacity = 0, used = 0;
    // headers[0, headers_used) are the batch's. The vector only grows, and is not
    // cleared: header_view is not trivial (string_view), so only copying over elements
    // that exist is a memmove, while inserting or resizing goes element by element.
    std::vector<sip::header_view> headers;
    std::size_t headers_used = 0;
    std::vector<event> events;
    std::vector<std::pair<std::string, std::string>> texts;
    std::vector<std::shared_ptr<const void>> owners;  // of shared regions its views point into
    std::string_view last_file, last_transport;  // copies of the last ones, in `bytes`

    std::string_view copy(std::string_view v) noexcept;  // needs room
    void clear() noexcept;
  };

  void send();  // hands current_ over, takes an empty batch
  void run();   // the relay thread
  void deliver(batch& b, sip::message_view& view);  // moves the warning texts out

  trace_sink& inner_;
  std::unique_ptr<batch> current_;
  std::string_view shared_;  // see share()
  std::shared_ptr<const void> shared_owner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<batch>> full_;  // in order
  std::vector<std::unique_ptr<batch>> spare_;
  std::size_t in_flight_ = 0;  // batches sent and not yet given back
  bool done_ = false;
  bool failed_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace probe::analyze
