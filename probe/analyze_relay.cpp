// Handing a trace to another thread (see analyze_relay.hpp).
#include "probe/analyze_relay.hpp"

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
  headers_used = 0;
  events.clear();
  texts.clear();
  owners.clear();
  last_file = last_transport = {};
}

relay_sink::relay_sink(trace_sink& inner) : inner_(inner), current_(std::make_unique<batch>()) {
  current_->bytes = std::make_unique<char[]>(initial_capacity);
  current_->capacity = initial_capacity;
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

}  // namespace

void relay_sink::on_message(const sip::message_view& m, const message_meta& meta) {
  // A message a reader shared (its views lie in its bytes: see share()) goes as it is:
  // its header table is copied whole, nothing else is looked at. Checking each view was
  // a third of the relay's work on the reading thread.
  const bool shared = inside(m.raw, shared_);

  // Room for what is copied: the bytes and views of a message not shared, the meta texts.
  std::size_t need = meta.src.size() + meta.dst.size() + meta.transport.size() + meta.file.size();
  if (!shared) {
    need += m.raw.size() + m.method.size() + m.request_uri.size() + m.version.size() + m.reason.size() + m.body.size();
    for (const auto& h : m.headers) need += h.name.size() + h.value.size();
  }
  if (current_->used + need > current_->capacity) {
    if (!current_->events.empty()) send();
    if (need > current_->capacity) {  // one message bigger than a batch: the batch is empty
      current_->bytes = std::make_unique<char[]>(need);
      current_->capacity = need;
    }
  }
  batch& b = *current_;
  event& e = b.events.emplace_back();  // in place: events are a few hundred bytes
  e.first_header = static_cast<std::uint32_t>(b.headers_used);
  e.headers = static_cast<std::uint32_t>(m.headers.size());
  if (b.headers.size() < b.headers_used + m.headers.size())
    b.headers.resize(std::max(2 * b.headers.size(), b.headers_used + m.headers.size()));
  const auto headers = b.headers.begin() + static_cast<std::ptrdiff_t>(b.headers_used);
  b.headers_used += m.headers.size();
  e.view.status = m.status;
  if (shared) {
    e.view.raw = m.raw, e.view.method = m.method, e.view.request_uri = m.request_uri, e.view.version = m.version;
    e.view.reason = m.reason, e.view.body = m.body;
    std::copy(m.headers.begin(), m.headers.end(), headers);
  } else {
    // Views into the message's bytes point into their copy; anything else (a view a sink
    // built by hand) is copied on its own.
    const std::string_view raw = b.copy(m.raw);
    auto keep = [&](std::string_view v) -> std::string_view {
      if (inside(v, m.raw)) return {raw.data() + (v.data() - m.raw.data()), v.size()};
      return b.copy(v);
    };
    e.view.raw = raw;
    e.view.method = keep(m.method);
    e.view.request_uri = keep(m.request_uri);
    e.view.version = keep(m.version);
    e.view.reason = keep(m.reason);
    e.view.body = keep(m.body);
    auto c = headers;
    for (const auto& h : m.headers) {
      c->name = keep(h.name);
      c->value = keep(h.value);
      c->id = h.id;
      ++c;
    }
  }
  // The file name and the transport rarely change: kept once per batch.
  auto same = [&b](std::string_view v, std::string_view& last) {
    if (v.data() == nullptr) return std::string_view{};
    if (last.data() == nullptr || last != v) last = b.copy(v);
    return last;
  };
  e.meta = meta;
  e.meta.src = b.copy(meta.src);
  e.meta.dst = b.copy(meta.dst);
  e.meta.transport = same(meta.transport, b.last_transport);
  e.meta.file = same(meta.file, b.last_file);
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
  e.warning = true;
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
  if (!current_) {
    current_ = std::make_unique<batch>();
    current_->bytes = std::make_unique<char[]>(initial_capacity);
    current_->capacity = initial_capacity;
  }
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
  sip::message_view view;  // reused: its header table keeps its capacity
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
      deliver(*b, view);
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

void relay_sink::deliver(batch& b, sip::message_view& view) {
  for (const auto& e : b.events) {
    if (e.warning) {
      auto& [where, what] = b.texts[e.text];
      inner_.on_warning(std::move(where), std::move(what));
      continue;
    }
    view.raw = e.view.raw;
    view.method = e.view.method;
    view.request_uri = e.view.request_uri;
    view.version = e.view.version;
    view.status = e.view.status;
    view.reason = e.view.reason;
    view.body = e.view.body;
    const auto first = b.headers.begin() + e.first_header;
    view.headers.resize(e.headers);  // then a memmove (see batch::headers)
    std::copy(first, first + e.headers, view.headers.begin());
    inner_.on_message(view, e.meta);
  }
}

}  // namespace probe::analyze
