#include "probe/reach/transaction.hpp"

#include "netcheck/error.hpp"
#include "netcheck/recycling.hpp"
#include "sip/error.hpp"
#include "sip/headers.hpp"
#include "sip/parse.hpp"
#include "sip/scan.hpp"

#include <algorithm>
#include <memory>

namespace probe::reach {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

netcheck::framer sip_framer(netcheck::transport t) {
  if (t == netcheck::transport::udp) {
    // The datagram is the message; the transaction parses it and keeps the evidence.
    return [](std::string_view buffered) { return static_cast<std::ptrdiff_t>(buffered.size()); };
  }
  return [](std::string_view buffered) -> std::ptrdiff_t {
    // RFC 5626 §3.5.1: CRLFs between messages are keep-alives. They leave the buffer as a
    // message of their own (is_keepalive: the transaction skips it), so however many
    // arrive they never count towards the next message's size limit.
    const auto text = buffered.find_first_not_of("\r\n");
    if (text != 0) return static_cast<std::ptrdiff_t>(text == std::string_view::npos ? buffered.size() : text);
    sip::message_view m;
    sip::parse_options lenient;
    lenient.lenient = true;  // framing only: the transaction judges the content
    auto r = sip::parse(buffered, m, sip::framing::stream, lenient);
    if (r.ec == sip::errc::need_more) return 0;
    if (!r.ec || r.consumed > 0) return static_cast<std::ptrdiff_t>(r.consumed);
    return -1;
  };
}

bool is_keepalive(std::string_view bytes) noexcept {
  return !bytes.empty() && bytes.find_first_not_of("\r\n") == std::string_view::npos;
}

std::string_view sip_message_key(std::string_view bytes) noexcept {
  std::size_t pos = bytes.find('\n');  // skip the start line
  while (pos != std::string_view::npos && pos + 1 < bytes.size()) {
    const std::size_t begin = pos + 1;
    const std::size_t end = std::min(bytes.find('\n', begin), bytes.size());
    auto line = bytes.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return {};  // end of the header section: no Via
    // Only "Via" and its compact "v" start with a V: other lines are skipped unread.
    if (const auto colon = (line[0] | 0x20) == 'v' ? line.find(':') : std::string_view::npos; colon != std::string_view::npos) {
      const auto name = sip::trim_lws(line.substr(0, colon));
      if (sip::iequals(name, "Via") || sip::iequals(name, "v")) return sip::via_branch(line.substr(colon + 1));
    }
    pos = end;
  }
  return {};
}

std::string via_transport(netcheck::transport t) {
  return t == netcheck::transport::udp ? "UDP" : (t == netcheck::transport::tcp ? "TCP" : "TLS");
}

std::optional<transaction_spec> transaction_for(const sip::request_spec& spec, const sip_timers& timers, milliseconds timeout) {
  transaction_spec ts;
  if (sip::build_wire(spec, ts.wire)) return std::nullopt;
  ts.branch = spec.via.branch;
  ts.method = spec.method;
  ts.cseq = spec.cseq;
  ts.timeout = timeout;
  ts.timers = timers;
  return ts;
}

void keep_provisional(std::vector<int>& kept, int& count, int status) {
  ++count;
  if (kept.size() < max_provisional_kept && static_cast<std::size_t>(count) == kept.size() + 1) {
    kept.push_back(status);
  } else if (kept.size() > 2) {
    kept = {kept.front(), status};
  } else {
    kept.back() = status;
  }
}

namespace {

constexpr std::size_t max_malformed_kept = 8;

class transaction_op : public std::enable_shared_from_this<transaction_op> {
 public:
  transaction_op(netcheck::flow& f, transaction_spec spec, std::function<void(transaction_result)> done)
      : flow_(f),
        spec_(std::move(spec)),
        done_(std::move(done)),
        udp_(f.remote().proto == netcheck::transport::udp),
        framer_(sip_framer(f.remote().proto)) {}

  // Lifetime: the op owns itself (self_) until it has finished and no handler it gave the
  // flow is still to run (the flow calls each exactly once); the handlers hold a plain
  // pointer, which std::function keeps without an allocation.
  void start() {
    self_ = shared_from_this();
    start_ = clock_type::now();
    deadline_ = start_ + std::min(spec_.timeout, 64 * spec_.timers.t1);
    interval_ = spec_.timers.t1;
    next_retransmit_ = start_ + interval_;
    send();
    receive();
  }

 private:
  void send() {
    if (spec_.trace) spec_.trace(result_.retransmissions > 0 ? "sent (retransmission)" : "sent", spec_.wire);
    auto budget = std::chrono::duration_cast<milliseconds>(deadline_ - clock_type::now());
    ++pending_;
    flow_.async_send(spec_.wire, std::max(budget, milliseconds(1)), [this](std::error_code ec, milliseconds) {
      --pending_;
      // A send failure (ICMP refusal on a connected UDP socket shows up here too) ends the
      // transaction; the receive still pending completes with operation_aborted.
      if (ec) finish(ec);
      release_if_done();
    });
  }

  void receive() {
    if (finished_) return;
    auto now = clock_type::now();
    auto until = deadline_;
    if (udp_) until = std::min(until, next_retransmit_);
    auto wait = std::max(std::chrono::duration_cast<milliseconds>(until - now), milliseconds(1));
    ++pending_;
    flow_.async_receive(framer_, wait, [this](std::error_code ec, netcheck::received r) {
      --pending_;
      on_receive(ec, std::move(r));
      release_if_done();
    });
  }

  // The last thing a handler does: may destroy the op.
  void release_if_done() {
    if (finished_ && pending_ == 0) auto last = std::move(self_);
  }

  void on_receive(std::error_code ec, netcheck::received r) {
    if (finished_) return;
    if (ec == netcheck::errc::receive_timeout) {
      auto now = clock_type::now();
      if (now >= deadline_) return finish(ec);
      if (udp_ && now >= next_retransmit_) {
        // RFC 3261 §17.1.2.2: retransmit, and double the interval up to T2.
        ++result_.retransmissions;
        send();
        interval_ = provisional_seen_ ? spec_.timers.t2 : std::min(interval_ * 2, spec_.timers.t2);
        next_retransmit_ = now + interval_;
      }
      return receive();
    }
    if (ec == netcheck::errc::malformed_message || ec == netcheck::errc::truncated_message ||
        ec == netcheck::errc::message_too_large) {
      keep_malformed(std::string(ec.message()) + " (" + std::to_string(r.bytes.size()) + " bytes)");
      return finish(ec);
    }
    if (ec) return finish(ec);
    handle_message(std::move(r.bytes));
  }

  void handle_message(std::string bytes) {
    if (is_keepalive(bytes)) return receive();
    if (spec_.trace) spec_.trace("received", bytes);
    sip::message_view m;
    auto framing = udp_ ? sip::framing::datagram : sip::framing::stream;
    auto pr = sip::parse(bytes, m, framing);
    if (pr.ec) {
      keep_malformed("reply is not valid SIP: " + pr.ec.message() + " at line " + std::to_string(pr.line) + ", byte " +
                     std::to_string(pr.offset));
      return receive();
    }
    if (m.is_request()) {
      ++result_.stray;
      return receive();
    }
    // RFC 3261 §17.1.3: the response matches when the top Via branch and the CSeq method
    // are ours; we also require our CSeq number, so a late answer to the previous REGISTER
    // of the same flow is not taken for this one.
    // The branch by a plain scan: a full Via parse per answer costs more than the rest of
    // the match.
    sip::cseq cs;
    if (sip::get::top_via_branch(m) != spec_.branch || sip::get::cseq(m, cs) || cs.method != spec_.method ||
        cs.number != spec_.cseq) {
      ++result_.stray;
      return receive();
    }
    if (m.status < 200) {
      keep_provisional(result_.provisional, result_.provisional_count, m.status);
      if (!provisional_seen_ && udp_) {
        // RFC 3261 §17.1.2.2: in Proceeding, retransmissions go on at T2.
        provisional_seen_ = true;
        interval_ = spec_.timers.t2;
        next_retransmit_ = clock_type::now() + interval_;
      }
      return receive();
    }
    result_.rtt_ms = ms_since_start();
    result_.response = sip::owned_message(std::move(bytes), std::move(m));
    finish({});
  }

  void keep_malformed(std::string why) {
    if (result_.malformed.size() < max_malformed_kept) result_.malformed.push_back(std::move(why));
  }

  double ms_since_start() const { return std::chrono::duration<double, std::milli>(clock_type::now() - start_).count(); }

  void finish(std::error_code ec) {
    if (finished_) return;
    finished_ = true;
    result_.ec = ec;
    result_.elapsed_ms = ms_since_start();
    auto done = std::move(done_);
    done(std::move(result_));
  }

  std::shared_ptr<transaction_op> self_;
  int pending_ = 0;  // handlers given to the flow, not yet run
  netcheck::flow& flow_;
  transaction_spec spec_;
  std::function<void(transaction_result)> done_;
  bool udp_;
  netcheck::framer framer_;
  bool finished_ = false;
  bool provisional_seen_ = false;
  clock_type::time_point start_, deadline_, next_retransmit_;
  milliseconds interval_{0};
  transaction_result result_;
};

}  // namespace

void async_transaction(netcheck::flow& f, transaction_spec spec, std::function<void(transaction_result)> done) {
  std::allocate_shared<transaction_op>(netcheck::recycling_allocator<transaction_op>{}, f, std::move(spec), std::move(done))
      ->start();
}

}  // namespace probe::reach
