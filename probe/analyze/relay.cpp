// Handing a trace to another thread (see relay.hpp).
#include "probe/analyze/relay.hpp"

#include <algorithm>
#include <cstring>

namespace probe::analyze {
namespace {

constexpr std::size_t initial_capacity = relay_sink::batch_bytes + relay_sink::batch_bytes / 8;

}  // namespace

std::string_view relay_sink::batch::copy(std::string_view v) noexcept {
  if (v.data() == nullptr) return {};
  char* at = bytes.get() + used;
  if (!v.empty()) std::memcpy(at, v.data(), v.size());
  used += v.size();
  return {at, v.size()};
}

void relay_sink::batch::clear() noexcept {
  used = 0;
  events.clear();
  texts.clear();
  owners.clear();
  last_file = last_transport = {};
}

std::unique_ptr<relay_sink::batch> relay_sink::new_batch() {
  auto b = std::make_unique<batch>();
  b->bytes = std::make_unique_for_overwrite<char[]>(initial_capacity);
  b->capacity = initial_capacity;
  b->events.reserve(batch_events);
  return b;
}

relay_sink::relay_sink(summary_sink& inner) : inner_(inner), current_(new_batch()) {
  thread_ = std::thread([this] { run(); });
}

relay_sink::~relay_sink() {
  if (!thread_.joinable()) return;  // finished
  {
    // Not finished: the producer gave up (an exception); what is still queued is dropped.
    std::lock_guard lock(mutex_);
    done_ = true;
    in_flight_ -= full_.size();
    full_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

namespace {

// Whether v lies inside `area` (the unsigned offset wraps when v starts before it).
bool inside(std::string_view v, std::string_view area) noexcept {
  const auto off = reinterpret_cast<std::uintptr_t>(v.data()) - reinterpret_cast<std::uintptr_t>(area.data());
  return v.data() != nullptr && area.data() != nullptr && off <= area.size() && v.size() <= area.size() - off;
}

// Asks for the cache lines of [p, p + n) in a state this core may write (PREFETCHW). A
// batch's events and bytes were last read by the other thread: without it each write
// waited for its line to come back (docs/benchmarks.md).
// In asm: the compiler drops __builtin_prefetch(p, 1) in a function of its own (it has no
// effect it must keep) and emits PREFETCHT0 without -mprfchw. x86-64 processors without
// PRFCHW take the instruction as a hint and ignore it.
inline void prefetch_for_write(const void* p, std::size_t n) noexcept {
  for (std::size_t at = 0; at < n; at += 64) {
#if defined(__x86_64__)
    asm volatile("prefetchw %0" : : "m"(*(static_cast<const char*>(p) + at)));
#else
    __builtin_prefetch(static_cast<const char*>(p) + at, 1);
#endif
  }
}
// Events ahead, for writing (on_message) and for reading (deliver): two to eight did the
// same; and how much of a message deliver() prefetches (most are shorter).
constexpr std::size_t prefetch_ahead = 4, prefetch_bytes = 512;

// Readers bound what they hand over (a packet, a TCP stream buffer, a text message) far
// below 4 GiB; a view longer than that would be cut, never overrun.
std::uint32_t size32(std::size_t n) noexcept { return n > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(n); }

}  // namespace

void relay_sink::on_message(const sip::message_view& m, const message_meta& meta) {
  // Summarized here, on the thread that parsed the message, while it is in this core's cache.
  relay(inner_.summarize(m), meta);
}

void relay_sink::on_reply(reply_kind kind, std::string_view bytes, std::string_view call_id, const message_meta& meta) {
  relay(inner_.summarize_reply(kind, bytes, call_id), meta);
}

void relay_sink::relay(const message_summary& d, const message_meta& meta) {
  // A message a reader shared (its bytes lie in its region: see share()) is pointed to.
  const bool shared = d.relevant && inside(d.raw, shared_);

  // Room for what is copied: a relevant message's bytes (when not shared) and the views
  // outside them, the meta texts.
  std::size_t need = meta.src.size() + meta.dst.size() + meta.transport.size() + meta.file.size();
  if (d.relevant) {
    if (!shared) need += d.raw.size();
    for (const auto v : {d.call_id, d.branch})
      if (!inside(v, d.raw)) need += v.size();
  }
  if (current_->used + need > current_->capacity) {
    if (!current_->events.empty()) send();
    if (need > current_->capacity) {  // one message bigger than a batch: the batch is empty
      current_->bytes = std::make_unique_for_overwrite<char[]>(need);
      current_->capacity = need;
    }
  }
  batch& b = *current_;
  // What is about to be written was last read on the other core: the event a few ahead,
  // and the bytes a few lines on (each message adds its addresses' texts, ~40 bytes).
  if (b.events.capacity() >= b.events.size() + prefetch_ahead)
    prefetch_for_write(b.events.data() + b.events.size() + prefetch_ahead - 1, sizeof(event));
  if (b.used + 4 * 64 <= b.capacity) prefetch_for_write(b.bytes.get() + b.used + 3 * 64, 64);
  event& e = b.events.emplace_back();
  e.status = d.status;
  if (d.kind == reply_kind::malformed) e.flags |= malformed_reply;
  if (d.kind == reply_kind::unreachable) e.flags |= unreachable_reply;
  if (d.relevant) {
    e.flags |= is_relevant;
    std::string_view raw = shared ? d.raw : b.copy(d.raw);
    // Views into the message's bytes point into raw; anything else is copied on its own.
    auto keep = [&](std::string_view v) -> std::string_view {
      if (inside(v, d.raw)) return {raw.data() + (v.data() - d.raw.data()), v.size()};
      return b.copy(v);
    };
    const std::string_view call_id = keep(d.call_id), branch = keep(d.branch);
    e.raw = raw.data(), e.raw_size = size32(raw.size());
    e.call_id = call_id.data(), e.call_id_size = size32(call_id.size());
    e.branch = branch.data(), e.branch_size = size32(branch.size());
    e.cseq = d.cseq;
    e.facts = d.facts;
  }
  // The file name and the transport rarely change: kept once per batch.
  auto same = [&b](std::string_view v, std::string_view& last) {
    if (v.data() == nullptr) return std::string_view{};
    if (last.data() == nullptr || last != v) last = b.copy(v);
    return last;
  };
  const std::string_view src = b.copy(meta.src), dst = b.copy(meta.dst);
  const std::string_view transport = same(meta.transport, b.last_transport), file = same(meta.file, b.last_file);
  e.src = src.data(), e.src_size = size32(src.size());
  e.dst = dst.data(), e.dst_size = size32(dst.size());
  e.transport = transport.data(), e.transport_size = size32(transport.size());
  e.file = file.data(), e.file_size = size32(file.size());
  e.time = meta.time;
  e.where = meta.where;
  e.body_on_wire = meta.body_on_wire;
  if (meta.absolute_time) e.flags |= absolute_time;
  if (meta.packet) e.flags |= is_packet;
  if (b.used >= batch_bytes || b.events.size() >= batch_events) send();
}

void relay_sink::share(std::string_view region, std::shared_ptr<const void> owner) {
  shared_ = region;
  shared_owner_ = std::move(owner);
  current_->owners.push_back(shared_owner_);
}

void relay_sink::on_warning(std::string where, std::string what) {
  batch& b = *current_;
  b.texts.emplace_back(std::move(where), std::move(what));
  event& e = b.events.emplace_back();
  e.flags = is_warning;
  e.text = static_cast<std::uint32_t>(b.texts.size() - 1);
  if (b.events.size() >= batch_events) send();
}

void relay_sink::send() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return in_flight_ < max_batches || failed_; });
  if (failed_) {  // the inner sink gave up: nothing more reaches it
    current_->clear();
    return;
  }
  full_.push_back(std::move(current_));
  ++in_flight_;
  if (!spare_.empty()) {
    current_ = std::move(spare_.back());
    spare_.pop_back();
  }
  lock.unlock();
  changed_.notify_all();
  if (!current_) current_ = new_batch();
  if (shared_owner_) current_->owners.push_back(shared_owner_);  // the next messages may use it too
}

void relay_sink::finish() {
  if (!thread_.joinable()) return;
  if (!current_->events.empty()) send();
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  changed_.notify_all();
  thread_.join();
  if (error_) std::rethrow_exception(error_);
}

void relay_sink::run() {
  for (;;) {
    std::unique_ptr<batch> b;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return !full_.empty() || done_; });
      if (full_.empty()) return;  // done, and everything delivered
      b = std::move(full_.front());
      full_.pop_front();
    }
    std::exception_ptr error;
    try {
      deliver(*b);
    } catch (...) {
      error = std::current_exception();
    }
    b->clear();
    {
      std::lock_guard lock(mutex_);
      spare_.push_back(std::move(b));
      --in_flight_;
      if (error) {
        error_ = error;
        failed_ = true;
        in_flight_ -= full_.size();
        full_.clear();
      }
    }
    changed_.notify_all();
    if (error) return;
  }
}

void relay_sink::deliver(batch& b) {
  const std::size_t n = b.events.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& e = b.events[i];
    // The bytes of a message a few ahead: written by the other core (or the kernel's copy
    // there), and the inner sink reads and copies them. Without this its first read of a
    // message (hashing the Call-ID) waited for the line.
    if (i + prefetch_ahead < n && (b.events[i + prefetch_ahead].flags & is_relevant) != 0) {
      const auto& next = b.events[i + prefetch_ahead];
      const std::size_t bytes = std::min<std::size_t>(next.raw_size, prefetch_bytes);
      for (std::size_t at = 0; at < bytes; at += 64) __builtin_prefetch(next.raw + at);
    }
    if ((e.flags & is_warning) != 0) {
      auto& [where, what] = b.texts[e.text];
      inner_.on_warning(std::move(where), std::move(what));
      continue;
    }
    message_summary d;
    d.status = e.status;
    if ((e.flags & malformed_reply) != 0) d.kind = reply_kind::malformed;
    if ((e.flags & unreachable_reply) != 0) d.kind = reply_kind::unreachable;
    if ((e.flags & is_relevant) != 0) {
      d.relevant = true;
      d.raw = {e.raw, e.raw_size};
      d.call_id = {e.call_id, e.call_id_size};
      d.branch = {e.branch, e.branch_size};
      d.cseq = e.cseq;
      d.facts = e.facts;
    }
    message_meta meta;
    meta.time = e.time;
    meta.absolute_time = (e.flags & absolute_time) != 0;
    meta.src = {e.src, e.src_size};
    meta.dst = {e.dst, e.dst_size};
    meta.transport = {e.transport, e.transport_size};
    meta.file = {e.file, e.file_size};
    meta.where = e.where;
    meta.packet = (e.flags & is_packet) != 0;
    meta.body_on_wire = e.body_on_wire;
    inner_.on_summary(d, meta);
  }
}

}  // namespace probe::analyze
