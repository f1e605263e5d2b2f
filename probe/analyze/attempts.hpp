// probe/analyze/attempts.hpp — grouping the REGISTER traffic of a trace into attempts.
//
// An attempt is one registration as a phone makes it: REGISTER, usually a challenge,
// REGISTER with credentials, a final answer — all with one Call-ID (RFC 3261 §10.2: the
// Call-ID and From tag stay the same, CSeq goes up). Messages without a Call-ID (hand-
// trimmed pastes) form attempts by order.
//
// Memory is bounded by what is open, not by the trace:
//  - An attempt closes on a final response that ends it (2xx, or 3xx–6xx other than a
//    challenge 401/407 or a 423, which the phone is expected to answer with another
//    REGISTER), or when nothing happened for `idle_seconds` of trace time (RFC 3261
//    Timer F: 64*T1 = 32 s, the time a UDP client keeps retransmitting), or at the end
//    of the input (finish()). A closed attempt is handed to the close callback and
//    forgotten.
//  - Continuity wins over the idle timer: an attempt whose last message is a challenge to
//    a request without credentials stays open up to `challenge_wait_seconds` for the
//    phone's answer. Its next message joins it when it continues it — a REGISTER with the
//    next CSeq and credentials for the challenged nonce (RFC 3261 §22.2) — and otherwise
//    closes it first.
//  - A response without CSeq cannot be told to be REGISTER's: it joins an open attempt
//    of its Call-ID, never starts one.
//  - Replies that are not SIP (reply_kind: junk, ICMP port unreachable) join the open
//    attempt of the Call-ID the reader or a scan of their bytes names; else they are
//    dropped.
//  - An attempt keeps at most `max_messages` messages: the first `keep_first` and the
//    latest; retransmissions are counted on the original, not stored.
//  - At most `max_open` attempts are open; beyond that the least recently active closes.
//  - Per Call-ID, the last challenge is carried over to the next attempt (a phone answers
//    it in its next registration), for at most `max_carried` Call-IDs.
// Other SIP traffic (INVITE, OPTIONS, …) is counted and ignored.
#pragma once

#include "probe/analyze/detail/attempt_memory.hpp"
#include "probe/analyze/input.hpp"

#include "sip/message.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace probe::analyze {

// The bytes of a kept message and the few facts read from every one of them (by the
// tracker and classify()). The whole message_view is parsed again from the bytes on
// first use (operator*, operator->): diagnose() reads it, classify() only for the last
// answer of a failed attempt. Most attempts of a big trace are counted and dropped
// without that, and copying every message's header table was most of the tracker's time.
// So the bytes must be a message sip::parse accepted in lenient mode — what the readers
// hand to trace_sink — and parsing them again gives the same message.
class stored_message {
 public:
  stored_message() = default;
  // The bytes are copied into `room` (m.raw.size() bytes that outlive this object and its
  // moves: an attempt's bytes_block), or into an allocation of its own when it is null.
  // A copy always has bytes of its own.
  explicit stored_message(const sip::message_view& m, char* room = nullptr);
  // The same from the bytes and status of a message, with facts_of() of each of its
  // headers or'ed together by the caller (the tracker walks the header table once for all
  // it reads, and only where the message is parsed).
  stored_message(std::string_view raw, int status, char* room, std::uint8_t facts, reply_kind kind = reply_kind::sip);
  // What is kept of one header (see the accessors below).
  static std::uint8_t facts_of(const sip::header_view& h) noexcept;
  stored_message(const stored_message& o);
  stored_message& operator=(const stored_message& o);
  stored_message(stored_message&&) noexcept = default;
  stored_message& operator=(stored_message&&) noexcept = default;
  ~stored_message() = default;

  std::string_view raw() const noexcept { return {bytes_, size_}; }
  int status() const noexcept { return status_; }  // 0 for a request
  bool is_request() const noexcept { return status_ == 0 && kind_ == reply_kind::sip; }
  // What the bytes are: a SIP message, or a reply that is not one.
  reply_kind kind() const noexcept { return kind_; }
  bool has_authorization() const noexcept { return (facts_ & authorization) != 0; }
  // A request with a Contact header (one without is a binding query, RFC 3261 §10.2.3).
  // The tracker reads this and may_remove() of requests only.
  bool has_contact() const noexcept { return (facts_ & contact) != 0; }
  // False when no Contact is "*" and no Contact or Expires value holds an expiry of 0:
  // then the request removes nothing, and is_removal() need not parse it to know.
  bool may_remove() const noexcept { return (facts_ & zero_expiry) != 0; }
  bool has_proxy_authorization() const noexcept { return (facts_ & proxy_authorization) != 0; }
  // False when no WWW-Authenticate or Proxy-Authenticate value has "stale" in it (any
  // case): then no challenge it carries can say stale=true, and classify() need not parse
  // the message to know.
  bool may_be_stale() const noexcept { return (facts_ & stale_word) != 0; }

  // The parsed message (parsed on the first call; views into raw()).
  const sip::message_view& operator*() const;
  const sip::message_view* operator->() const { return &**this; }

 private:
  static constexpr std::uint8_t authorization = 1, proxy_authorization = 2, stale_word = 4, contact = 8, zero_expiry = 16;
  std::unique_ptr<char[]> own_;  // null when the bytes are in a bytes_block
  const char* bytes_ = nullptr;
  std::size_t size_ = 0;
  int status_ = 0;
  std::uint8_t facts_ = 0;
  reply_kind kind_ = reply_kind::sip;
  mutable std::unique_ptr<sip::message_view> view_;
};

// One message of an attempt, owned, with what the trace said about it. Kept small and
// allocation-light: a busy trace stores hundreds of thousands of them over its run.
struct kept_message {
  stored_message msg;
  double time = -1;
  bool absolute_time = false;
  detail::inline_text<56> src, dst;  // "[v6]:port" fits
  detail::inline_text<8> transport;
  const std::string* file = nullptr;  // input name, owned by the tracker
  std::uint64_t where_no = 0;         // line or packet number
  bool packet = false;
  std::int64_t body_on_wire = -1;
  int repeats = 0;  // identical retransmissions seen after this one
  double last_repeat = -1;
  std::uint32_t cseq = 0;                       // 0 when absent
  std::uint32_t branch_at = 0, branch_len = 0;  // top Via branch, inside msg.raw()
  std::uint64_t seq = 0;                        // order in the whole trace

  std::string_view branch() const noexcept { return msg.raw().substr(branch_at, branch_len); }
  std::string where() const { return position(file ? std::string_view(*file) : std::string_view(), where_no, packet); }
};

struct attempt {
  std::uint64_t serial = 0;   // order of creation
  std::string call_id;        // "" when the messages had none
  detail::bytes_block bytes;  // where `messages` keep their bytes (before them: it outlives them)
  std::vector<kept_message> messages;
  std::size_t dropped = 0;                                // messages left out in the middle (over max_messages)
  std::shared_ptr<const kept_message> carried_challenge;  // last 401/407 of this Call-ID before
  double first_time = -1, last_time = -1;
  // Where the trace ends for this attempt: the time of the input's last packet when the
  // attempt closed at the end of its input; +infinity when it closed while the trace went
  // on (a final response, idle time, too many open); <0 when the trace has no times.
  double trace_end = -1;
  std::uint64_t last_seq = 0;
  bool ended = false;  // closed by a final response, not by idle time or the end
};

struct tracker_limits {
  double idle_seconds = 32;
  // How long an attempt that ends with a first challenge waits for the phone's answer (a
  // nonce lives 30 s to 5 min on common registrars; Kamailio's default is 300 s).
  double challenge_wait_seconds = 300;
  std::size_t max_reply_bytes = 4096;  // kept of a reply that is not SIP
  std::size_t max_open = 20000;
  std::size_t max_messages = 48;
  std::size_t keep_first = 8;
  std::size_t max_carried = 50000;
  std::size_t max_warnings = 100;
};

// Aligned as detail::own_cache_line says why.
class attempt_tracker : public summary_sink, private detail::own_cache_line {
 public:
  using close_fn = std::function<void(attempt&&)>;

  explicit attempt_tracker(close_fn on_close, tracker_limits limits = {});
  ~attempt_tracker() override;
  attempt_tracker(const attempt_tracker&) = delete;
  attempt_tracker& operator=(const attempt_tracker&) = delete;

  // Only attempts with this Call-ID / whose To or From URI contains this text.
  std::string call_id_filter;
  std::string aor_filter;

  // REGISTER and the responses to it that pass the filters are relevant: Call-ID, top Via
  // branch, CSeq number and stored_message::facts_of() of the headers are read.
  message_summary summarize(const sip::message_view& msg) const override;
  // A reply that is not SIP: its Call-ID, CSeq and branch as a scan of its bytes finds
  // them (the reader's `call_id` when the bytes name none); not relevant when its CSeq
  // names another method or it passes no filter.
  message_summary summarize_reply(reply_kind kind, std::string_view bytes, std::string_view call_id) const override;
  void on_summary(const message_summary& d, const message_meta& meta) override;
  void on_warning(std::string where, std::string what) override;
  // The end of an input: closes every open attempt (in order of their last message) with
  // trace_end = `last_packet` (the time of the input's last packet or log line; the latest
  // time seen when unknown), and forgets the Call-IDs seen, so that the next input is read
  // as if alone.
  void finish(double last_packet = -1);

  std::uint64_t sip_messages() const noexcept { return sip_messages_; }
  std::uint64_t register_messages() const noexcept { return register_messages_; }
  std::uint64_t retransmissions() const noexcept { return retransmissions_; }
  std::size_t open_attempts() const noexcept { return open_.size(); }
  const std::vector<std::pair<std::string, std::string>>& warnings() const noexcept { return warnings_; }
  std::uint64_t warnings_total() const noexcept { return warnings_total_; }

 private:
  struct carried {
    std::shared_ptr<const kept_message> challenge;  // shared with the attempts it passes through
    std::uint32_t closed_cseq = 0;
    double closed_time = -1;
  };
  struct activity {
    double time;
    std::uint64_t seq;
    std::uint32_t slot;  // of the attempt the message went to
  };
  struct open_attempt {
    attempt a;
    std::uint32_t slot = 0;
    bool parked = false;  // idle, ending with a challenge: waits for the phone's answer
  };
  // Both maps take their nodes and keys from pool_: an attempt adds and removes a node in
  // each (its key moves from one to the other), and carried_ empties at once when full.
  using open_map = std::pmr::unordered_map<std::pmr::string, open_attempt, detail::text_hash, std::equal_to<>>;
  // Each open attempt holds a slot (reused once it closes): the activity queue names its
  // entries by slot, and an entry is current when the slot's last message is the entry's.
  // A reused slot only sees later messages, so an old entry never looks current.
  struct open_slot {
    std::uint64_t last_seq = 0;            // 0: free
    open_map::value_type* node = nullptr;  // node pointers are stable
  };

  void close(open_map::iterator it, bool ended, double trace_end);
  bool current(const activity& e) const noexcept { return slots_[e.slot].last_seq == e.seq; }
  void expire(double now);
  void evict_one();
  void compact_queue();
  bool is_retransmission(attempt& a, const message_summary& d, double time);
  // Whether k (the attempt's latest message, a final response) answers a request that an
  // earlier final response of the attempt already answered.
  static bool answered_before(const attempt& a, const kept_message& k);
  // Whether the message `d` continues the parked attempt `a` (see the header comment).
  bool continues(const attempt& a, const message_summary& d);
  open_map::iterator open_attempt_for(const message_summary& d, const message_meta& meta);
  void keep(open_map::iterator it, const message_summary& d, const message_meta& meta);
  void on_reply_summary(const message_summary& d, const message_meta& meta);

  close_fn on_close_;
  tracker_limits limits_;
  detail::drop_pool pool_;  // before the maps: it outlives them
  open_map open_{&pool_};
  std::vector<open_slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::deque<std::string> files_;  // input names the kept messages point to
  std::pmr::unordered_map<std::pmr::string, carried, detail::text_hash, std::equal_to<>> carried_{&pool_};
  std::deque<activity> queue_;   // one entry per message, oldest first
  std::deque<activity> parked_;  // the last entry of each parked attempt, oldest first
  sip::message_view scratch_;    // a message parsed again to check continuity
  std::uint64_t serial_ = 0;
  std::uint64_t seq_ = 0;
  double now_ = -1;
  std::uint64_t sip_messages_ = 0;
  std::uint64_t register_messages_ = 0;
  std::uint64_t retransmissions_ = 0;
  std::vector<std::pair<std::string, std::string>> warnings_;
  std::uint64_t warnings_total_ = 0;
};

}  // namespace probe::analyze
