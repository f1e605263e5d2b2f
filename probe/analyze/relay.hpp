// probe/analyze/relay.hpp — a trace_sink that summarizes each message where it is parsed and
// hands the summary to a summary_sink on a second thread, in order.
//
// Why: reading and parsing a capture and tracking its registration attempts cost about
// the same; with the tracker on its own thread the two halves of a big capture run side
// by side. The inner sink sees exactly the calls it would have seen directly
// (summary_sink::on_message: summarize() then on_summary()), in the same order: summarize() on the
// caller's thread, on_summary() and on_warning() on the relay's. Only the summary and the
// meta cross to the other thread — 128 bytes per message and the bytes the views point
// to: each cache line written on one core and read on the other costs the writer a
// transfer when it writes there again, and handing over the header table (and a
// message_view rebuilt from it) cost the parsing thread dearly (docs/benchmarks.md). Bytes a reader
// keeps unchanged for long enough (share()) are not copied, only pointed to. Memory is
// bounded by the batches in flight (batch_bytes each, at most max_batches).
//
// The producer side (on_message, on_warning, finish) is used from one thread; finish()
// must be called before the inner sink is read. If the inner sink throws, the relay
// drops what follows and finish() rethrows it.
#pragma once

#include "probe/analyze/input.hpp"

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

  explicit relay_sink(summary_sink& inner);
  ~relay_sink() override;
  relay_sink(const relay_sink&) = delete;
  relay_sink& operator=(const relay_sink&) = delete;

  void on_message(const sip::message_view& msg, const message_meta& meta) override;
  void on_warning(std::string where, std::string what) override;
  // The inner sink's summarize_reply() here, its on_summary() on the relay's thread, as for a
  // message.
  void on_reply(reply_kind kind, std::string_view bytes, std::string_view call_id, const message_meta& meta) override;
  // Messages whose bytes (`raw`) lie inside `region` are passed on as they are, not
  // copied, and `owner` is kept until the messages given from now on have been delivered.
  // The bytes in `region` that a message refers to must not change until then. Replaces
  // the previous region.
  void share(std::string_view region, std::shared_ptr<const void> owner);
  // Waits until the inner sink has seen everything; rethrows what it threw.
  void finish();

 private:
  // One call: a summary and its meta, views as pointer and size (into the batch's bytes or
  // a shared region), or a warning (its texts in batch::texts). Two cache lines.
  struct event {
    const char* raw = nullptr;
    const char* call_id = nullptr;
    const char* branch = nullptr;
    std::uint32_t raw_size = 0, call_id_size = 0, branch_size = 0, cseq = 0;
    std::int32_t status = 0;
    std::uint8_t facts = 0;
    std::uint8_t flags = 0;  // the bits below
    std::uint32_t text = 0;  // a warning: index into batch::texts
    double time = -1;
    std::uint64_t where = 0;
    std::int64_t body_on_wire = -1;
    const char* src = nullptr;
    const char* dst = nullptr;
    const char* transport = nullptr;
    const char* file = nullptr;
    std::uint32_t src_size = 0, dst_size = 0, transport_size = 0, file_size = 0;
  };
  static_assert(sizeof(event) == 128);
  static constexpr std::uint8_t is_warning = 1, is_relevant = 2, absolute_time = 4, is_packet = 8, malformed_reply = 16,
                                unreachable_reply = 32;
  // The bytes never move while the batch fills (a message that does not fit goes to the
  // next batch), so the views into them stay valid until the batch is cleared.
  struct batch {
    std::unique_ptr<char[]> bytes;
    std::size_t capacity = 0, used = 0;
    std::vector<event> events;
    std::vector<std::pair<std::string, std::string>> texts;
    std::vector<std::shared_ptr<const void>> owners;  // of shared regions its views point into
    std::string_view last_file, last_transport;       // copies of the last ones, in `bytes`

    std::string_view copy(std::string_view v) noexcept;  // needs room
    void clear() noexcept;
  };

  static std::unique_ptr<batch> new_batch();
  void relay(const message_summary& d, const message_meta& meta);  // the event of a summary
  void send();                                                     // hands current_ over, takes an empty batch
  void run();                                                      // the relay thread
  void deliver(batch& b);                                          // moves the warning texts out

  summary_sink& inner_;
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
