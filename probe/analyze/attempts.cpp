// Grouping messages into registration attempts (see attempts.hpp).
#include "probe/analyze/attempts.hpp"

#include "probe/analyze/headers.hpp"

#include "sip/headers.hpp"
#include "sip/parse.hpp"
#include "sip/scan.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>

namespace probe::analyze {
namespace {

// A final response that ends an attempt: anything but a challenge or 423, which the phone
// answers with another REGISTER (RFC 3261 §22.2, §10.3 step 7).
bool ends_attempt(int status) noexcept { return status >= 200 && status != 401 && status != 407 && status != 423; }

// attempt::trace_end of an attempt that closed while the trace went on.
constexpr double went_on = std::numeric_limits<double>::infinity();

bool contains(std::string_view hay, std::string_view needle) noexcept { return hay.find(needle) != std::string_view::npos; }

// Whether "stale" stands in `v`, in any case. Found by its first letter (memchr): a
// challenge has few of them.
bool mentions_stale(std::string_view v) noexcept {
  for (const char first : {'s', 'S'})
    for (auto i = v.find(first); i != std::string_view::npos; i = v.find(first, i + 1))
      if (sip::iequals(v.substr(i, 5), "stale")) return true;
  return false;
}

bool all_zeros(std::string_view v) noexcept { return !v.empty() && v.find_first_not_of('0') == std::string_view::npos; }

// Whether a Contact value may remove a binding: "*", or an "expires" parameter of 0
// (RFC 3261 §10.2.2). Found by the ';' before each parameter: a Contact has few.
bool contact_may_remove(std::string_view v) noexcept {
  if (v.size() == 1 && v[0] == '*') return true;  // values are trimmed
  for (auto i = v.find(';'); i != std::string_view::npos; i = v.find(';', i + 1)) {
    auto rest = sip::trim_lws(v.substr(i + 1));
    if (rest.size() < 8 || !sip::iequals(rest.substr(0, 7), "expires")) continue;
    rest = sip::trim_lws(rest.substr(7));
    if (rest.empty() || rest[0] != '=') continue;
    rest = sip::trim_lws(rest.substr(1));
    if (all_zeros(rest.substr(0, rest.find_first_not_of("0123456789")))) return true;
  }
  return false;
}

// A CSeq header's number and method from a plain scan ("2 REGISTER"); 0 when absent.
std::uint32_t scanned_cseq(std::string_view value, std::string_view& method) {
  sip::cseq cs;
  if (value.empty() || sip::parse_cseq(value, cs)) return 0;
  method = cs.method;
  return cs.number;
}

}  // namespace

std::uint8_t stored_message::facts_of(const sip::header_view& h) noexcept {
  switch (h.id) {
    case sip::header_id::authorization: return authorization;
    case sip::header_id::proxy_authorization: return proxy_authorization;
    case sip::header_id::www_authenticate:
    case sip::header_id::proxy_authenticate: return mentions_stale(h.value) ? stale_word : 0;
    case sip::header_id::contact: return static_cast<std::uint8_t>(contact | (contact_may_remove(h.value) ? zero_expiry : 0));
    case sip::header_id::expires: return all_zeros(sip::trim_lws(h.value)) ? zero_expiry : 0;
    default: return 0;
  }
}

stored_message::stored_message(const sip::message_view& m, char* room)
    : stored_message(m.raw, m.status, room, [&m] {
        std::uint8_t facts = 0;
        for (const auto& h : m.headers) facts |= facts_of(h);
        return facts;
      }()) {}

stored_message::stored_message(std::string_view raw, int status, char* room, std::uint8_t facts, reply_kind kind)
    : own_(room ? nullptr : new char[raw.size()]),
      bytes_(room ? room : own_.get()),
      size_(raw.size()),
      status_(status),
      facts_(facts),
      kind_(kind) {
  if (size_ != 0) std::memcpy(room ? room : own_.get(), raw.data(), size_);
}

stored_message::stored_message(const stored_message& o)
    : own_(new char[o.size_]), bytes_(own_.get()), size_(o.size_), status_(o.status_), facts_(o.facts_), kind_(o.kind_) {
  if (size_ != 0) std::memcpy(own_.get(), o.bytes_, size_);
}

stored_message& stored_message::operator=(const stored_message& o) {
  if (this != &o) *this = stored_message(o);
  return *this;
}

const sip::message_view& stored_message::operator*() const {
  if (!view_) {
    view_ = std::make_unique<sip::message_view>();
    sip::parse_options opt;
    opt.lenient = true;
    if (kind_ != reply_kind::sip || sip::parse(raw(), *view_, sip::framing::datagram, opt).ec) {
      // Bytes no reader would have handed over: keep what is known rather than fail.
      view_->clear();
      view_->raw = raw();
      view_->status = status_;
    }
  }
  return *view_;
}

attempt_tracker::attempt_tracker(close_fn on_close, tracker_limits limits) : on_close_(std::move(on_close)), limits_(limits) {}

attempt_tracker::~attempt_tracker() {
  // The maps go with the tracker: the pool frees everything after them (drop_pool).
  pool_.drop_frees();
}

void attempt_tracker::on_warning(std::string where, std::string what) {
  ++warnings_total_;
  if (warnings_.size() < limits_.max_warnings) warnings_.emplace_back(std::move(where), std::move(what));
}

bool attempt_tracker::is_retransmission(attempt& a, const message_summary& d, double time) {
  const bool request = d.status == 0;
  // RFC 3261 §17.2.3: a retransmission repeats the branch and CSeq; without them (pasted
  // traces) only identical bytes count as a repeat. A reply that is not SIP repeats when
  // its bytes do (an ICMP error per retransmitted request, junk sent again).
  for (auto it = a.messages.rbegin(); it != a.messages.rend(); ++it) {
    auto& k = *it;
    if (k.msg.kind() != d.kind) continue;
    if (d.kind == reply_kind::sip && k.msg.is_request() != request) continue;
    if (!request && k.msg.status() != d.status) continue;
    bool same = false;
    if (d.kind == reply_kind::sip && (!d.branch.empty() || d.cseq != 0)) same = k.branch() == d.branch && k.cseq == d.cseq;
    else same = k.msg.raw() == d.raw;
    if (!same) continue;
    ++k.repeats;
    k.last_repeat = time;
    return true;
  }
  return false;
}

message_summary attempt_tracker::summarize(const sip::message_view& msg) const {
  message_summary d;
  d.raw = msg.raw;
  d.status = msg.status;
  // Only REGISTER and the responses to it.
  if (msg.is_request() && !sip::iequals(msg.method, "REGISTER")) return d;
  // One walk over the header table for all that is read of every message: the first
  // CSeq, Call-ID and Via, and what a stored_message keeps (a find() each was a walk each).
  const sip::header_view *cseq_h = nullptr, *call_id_h = nullptr, *via_h = nullptr;
  std::uint8_t facts = 0;
  const bool request = msg.is_request();
  for (const auto& h : msg.headers) {
    switch (h.id) {
      case sip::header_id::cseq: cseq_h = cseq_h ? cseq_h : &h; break;
      case sip::header_id::call_id: call_id_h = call_id_h ? call_id_h : &h; break;
      case sip::header_id::via: via_h = via_h ? via_h : &h; break;
      case sip::header_id::contact:
      case sip::header_id::expires:
        if (request) facts |= stored_message::facts_of(h);  // what a request asks for; a 2xx's lists are read when shown
        break;
      default: facts |= stored_message::facts_of(h); break;
    }
  }
  sip::cseq cs;
  const bool has_cseq = cseq_h != nullptr && !sip::parse_cseq(cseq_h->value, cs);
  if (!msg.is_request() && has_cseq && !sip::iequals(cs.method, "REGISTER")) return d;
  if (call_id_h != nullptr) d.call_id = call_id_h->value;
  if (!call_id_filter.empty() && d.call_id != call_id_filter) return d;
  if (!aor_filter.empty()) {
    const auto* to = msg.find(sip::header_id::to);
    const auto* from = msg.find(sip::header_id::from);
    if (!(to && contains(to->value, aor_filter)) && !(from && contains(from->value, aor_filter))) return d;
  }
  d.relevant = true;
  d.cseq = has_cseq ? cs.number : 0;
  d.facts = facts;
  d.branch = via_h != nullptr ? sip::via_branch(via_h->value) : std::string_view();  // as get::top_via_branch
  const std::less_equal<const char*> le;
  if (!d.branch.empty() &&
      !(le(msg.raw.data(), d.branch.data()) && le(d.branch.data() + d.branch.size(), msg.raw.data() + msg.raw.size())))
    d.branch = {};  // not inside the message's bytes: a copy would not keep it either
  return d;
}

message_summary attempt_tracker::summarize_reply(reply_kind kind, std::string_view bytes, std::string_view call_id) const {
  message_summary d;
  d.kind = kind;
  d.raw = bytes.substr(0, limits_.max_reply_bytes);
  // What the bytes say of the request they answer wins over the flow's last REGISTER: a
  // flow also carries OPTIONS and the like.
  const auto scanned = scan_header(d.raw, "Call-ID", "i");
  d.call_id = scanned.empty() ? call_id : scanned;
  std::string_view method;
  d.cseq = scanned_cseq(scan_header(d.raw, "CSeq", ""), method);
  if (d.cseq != 0 && !sip::iequals(method, "REGISTER")) return d;
  if (!call_id_filter.empty() && d.call_id != call_id_filter) return d;
  d.relevant = !d.call_id.empty();
  const auto via = scan_header(d.raw, "Via", "v");
  d.branch = via.empty() ? std::string_view() : sip::via_branch(via);
  return d;
}

void attempt_tracker::on_summary(const message_summary& d, const message_meta& meta) {
  if (d.kind != reply_kind::sip) return on_reply_summary(d, meta);
  ++sip_messages_;
  ++seq_;
  if (meta.time >= 0 && meta.time > now_) now_ = meta.time;
  if (!d.relevant) return;
  if (now_ >= 0) expire(now_);

  auto it = open_.find(d.call_id);
  if (it != open_.end() && it->second.parked && !continues(it->second.a, d)) {
    close(it, false, went_on);
    it = open_.end();
  }
  // RFC 3261 §8.1.1.5: only the CSeq tells what a response answers.
  if (it == open_.end() && d.status != 0 && d.cseq == 0) return;
  ++register_messages_;
  if (it == open_.end()) {
    it = open_attempt_for(d, meta);
    if (it == open_.end()) {  // a late retransmission of what ended its attempt
      ++retransmissions_;
      return;
    }
  }
  it->second.parked = false;
  keep(it, d, meta);
}

void attempt_tracker::on_reply_summary(const message_summary& d, const message_meta& meta) {
  ++seq_;
  if (meta.time >= 0 && meta.time > now_) now_ = meta.time;
  if (!d.relevant) return;
  auto it = open_.find(d.call_id);
  if (it == open_.end()) return;  // answers nothing still open
  it->second.parked = false;
  keep(it, d, meta);
}

bool attempt_tracker::continues(const attempt& a, const message_summary& d) {
  if (d.status != 0 || d.cseq == 0) return false;
  const kept_message* challenge = nullptr;
  for (auto m = a.messages.rbegin(); m != a.messages.rend() && !challenge; ++m)
    if (m->msg.status() == 401 || m->msg.status() == 407) challenge = &*m;
  if (challenge == nullptr || d.cseq != challenge->cseq + 1) return false;
  // The nonce, from the whole message: parsed again here, only for a parked attempt.
  sip::parse_options opt;
  opt.lenient = true;
  if (sip::parse(d.raw, scratch_, sip::framing::datagram, opt).ec) return false;
  const auto cr = credentials(scratch_);
  if (!cr) return false;
  const auto chs = challenges(*challenge->msg);
  return std::any_of(chs.begin(), chs.end(), [&](const sip::digest_challenge& c) { return c.nonce == cr->nonce; });
}

// A new attempt for the message's Call-ID, with the challenge the Call-ID carries over;
// end() when the message is a late retransmission of what ended the Call-ID's last attempt.
attempt_tracker::open_map::iterator attempt_tracker::open_attempt_for(const message_summary& d, const message_meta& meta) {
  const std::string_view call_id = d.call_id;
  auto c = carried_.find(call_id);
  if (c != carried_.end() && !call_id.empty() && d.cseq != 0 && d.cseq == c->second.closed_cseq &&
      (meta.time < 0 || c->second.closed_time < 0 || meta.time - c->second.closed_time < limits_.idle_seconds))
    return open_.end();
  if (open_.size() >= limits_.max_open) {
    evict_one();
    c = carried_.find(call_id);  // closing changed carried_: `c` may be stale
  }
  auto it = open_.emplace(call_id, open_attempt{}).first;
  if (free_slots_.empty()) {
    free_slots_.push_back(static_cast<std::uint32_t>(slots_.size()));
    slots_.emplace_back();
  }
  it->second.slot = free_slots_.back();
  free_slots_.pop_back();
  slots_[it->second.slot].node = &*it;
  attempt& a = it->second.a;
  a.serial = ++serial_;
  a.call_id = std::string_view(it->first);
  a.first_time = meta.time;
  a.messages.reserve(4);
  if (c != carried_.end()) {
    a.carried_challenge = std::move(c->second.challenge);
    carried_.erase(c);
  }
  return it;
}

// Closes the least recently active attempt: the oldest parked one, else the oldest live
// entry of the activity queue, else any.
void attempt_tracker::evict_one() {
  for (auto* q : {&parked_, &queue_}) {  // the parked ones have been idle longest
    while (!q->empty()) {
      const auto e = q->front();
      q->pop_front();
      if (current(e)) return close(open_.find(slots_[e.slot].node->first), false, went_on);
    }
  }
  if (!open_.empty()) close(open_.begin(), false, went_on);
}

// Adds the message to its attempt (or counts it as a retransmission there), and closes the
// attempt when the message ends it.
void attempt_tracker::keep(open_map::iterator it, const message_summary& d, const message_meta& meta) {
  attempt& a = it->second.a;
  a.last_seq = seq_;
  slots_[it->second.slot].last_seq = seq_;
  if (meta.time >= 0) a.last_time = meta.time;
  if (a.first_time < 0) a.first_time = meta.time;
  queue_.push_back({meta.time, seq_, it->second.slot});
  if (queue_.size() > 4 * open_.size() + 4096) compact_queue();

  // Checked on the summary, before anything is copied.
  if (is_retransmission(a, d, meta.time)) {
    ++retransmissions_;
    return;
  }
  if (files_.empty() || files_.back() != meta.file) files_.emplace_back(meta.file);
  if (a.messages.size() >= limits_.max_messages) {
    a.messages.erase(a.messages.begin() + static_cast<std::ptrdiff_t>(limits_.keep_first));
    ++a.dropped;
  }
  // Built in place: a kept_message is a few hundred bytes, and there is one per message.
  kept_message& k = a.messages.emplace_back();
  k.msg = stored_message(d.raw, d.status, a.bytes.take(d.raw.size()), d.facts, d.kind);
  k.cseq = d.cseq;
  if (!d.branch.empty()) {
    k.branch_at = static_cast<std::uint32_t>(d.branch.data() - d.raw.data());
    k.branch_len = static_cast<std::uint32_t>(d.branch.size());
  }
  k.time = meta.time;
  k.absolute_time = meta.absolute_time;
  k.seq = seq_;
  k.src.assign(meta.src);  // in place, not through a temporary
  k.dst.assign(meta.dst);
  k.transport.assign(meta.transport);
  k.file = &files_.back();
  k.where_no = meta.where;
  k.packet = meta.packet;
  k.body_on_wire = meta.body_on_wire;
  if (d.kind == reply_kind::sip && ends_attempt(d.status) && !answered_before(a, k)) close(it, true, went_on);
}

// RFC 3261 §17.1.1.2: the first final response completes the client transaction; a second
// one (another status for the same branch and CSeq) is discarded by the phone and ends nothing.
bool attempt_tracker::answered_before(const attempt& a, const kept_message& k) {
  if (k.cseq == 0 && k.branch().empty()) return false;
  for (auto it = a.messages.rbegin() + 1; it != a.messages.rend(); ++it) {
    const auto& m = *it;
    if (m.msg.kind() != reply_kind::sip || m.msg.is_request() || m.msg.status() < 200) continue;
    if (m.cseq == k.cseq && m.branch() == k.branch()) return true;
  }
  return false;
}

void attempt_tracker::close(open_map::iterator it, bool ended, double trace_end) {
  auto node = open_.extract(it);  // its key moves on to carried_
  attempt a = std::move(node.mapped().a);
  slots_[node.mapped().slot] = {};
  free_slots_.push_back(node.mapped().slot);
  a.ended = ended;
  a.trace_end = trace_end;
  if (!a.call_id.empty()) {
    carried c;
    const kept_message* last = nullptr;  // the last SIP message
    for (auto m = a.messages.rbegin(); m != a.messages.rend() && !last; ++m)
      if (m->msg.kind() == reply_kind::sip) last = &*m;
    // The challenge matters to the next attempt only when this one did not register
    // (a 401 loop spread over attempts); copying it for every success costs time.
    const bool registered = last && last->msg.status() >= 200 && last->msg.status() < 300;
    if (!registered) {
      for (auto m = a.messages.rbegin(); m != a.messages.rend(); ++m) {
        if (m->msg.status() == 401 || m->msg.status() == 407) {
          c.challenge = std::make_shared<const kept_message>(*m);
          break;
        }
      }
      if (!c.challenge && a.carried_challenge) c.challenge = a.carried_challenge;
    }
    if (last) {
      c.closed_cseq = last->cseq;
      c.closed_time = a.last_time;
    }
    // Bounded: a trace with more Call-IDs than this forgets the older ones' challenges.
    if (carried_.size() >= limits_.max_carried) carried_.clear();
    carried_.insert_or_assign(std::move(node.key()), std::move(c));
  }
  on_close_(std::move(a));
}

namespace {

// Whether the attempt waits for the phone: its last SIP message is a first challenge, to
// a request without credentials. (After credentials were refused, the phone's next try is
// a new attempt: holding every refused attempt open for minutes would also cost a busy
// trace's analysis a fifth of its time.)
bool awaits_answer(const attempt& a) noexcept {
  auto m = a.messages.rbegin();
  while (m != a.messages.rend() && m->msg.kind() != reply_kind::sip) ++m;
  if (m == a.messages.rend() || (m->msg.status() != 401 && m->msg.status() != 407)) return false;
  for (++m; m != a.messages.rend(); ++m)
    if (m->msg.is_request()) return !m->msg.has_authorization() && !m->msg.has_proxy_authorization();
  return false;
}

}  // namespace

void attempt_tracker::expire(double now) {
  while (!queue_.empty()) {
    const auto e = queue_.front();
    if (e.time >= 0 && e.time > now - limits_.idle_seconds) break;
    const bool live = current(e);
    if (live && e.time < 0) break;  // no time: only the end of the trace closes it
    queue_.pop_front();
    if (!live) continue;
    auto& o = slots_[e.slot].node->second;
    if (!o.parked && awaits_answer(o.a) && limits_.challenge_wait_seconds > limits_.idle_seconds) {
      o.parked = true;  // the phone may still answer: continuity decides (on_summary)
      parked_.push_back(e);
      continue;
    }
    close(open_.find(slots_[e.slot].node->first), false, went_on);
  }
  while (!parked_.empty()) {
    const auto e = parked_.front();
    if (e.time > now - limits_.challenge_wait_seconds) break;
    parked_.pop_front();
    if (current(e)) close(open_.find(slots_[e.slot].node->first), false, went_on);
  }
}

void attempt_tracker::compact_queue() {
  for (auto* q : {&queue_, &parked_}) {
    std::deque<activity> fresh;
    for (const auto& e : *q)
      if (current(e)) fresh.push_back(e);
    q->swap(fresh);
  }
}

void attempt_tracker::finish(double last_packet) {
  const double trace_end = last_packet >= 0 ? std::max(last_packet, now_) : now_;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  order.reserve(open_.size());
  for (const auto& [key, o] : open_) order.emplace_back(o.a.last_seq, std::string_view(key));
  std::sort(order.begin(), order.end());
  for (const auto& [seq, key] : order) {
    auto it = open_.find(std::string_view(key));
    if (it != open_.end()) close(it, false, trace_end);
  }
  // The next input starts afresh: no Call-ID continues across inputs (issue 13, item 8).
  queue_.clear();
  parked_.clear();
  carried_.clear();
  now_ = -1;
}

}  // namespace probe::analyze
