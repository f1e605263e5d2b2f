// Shared links: many flows over one socket or connection (see link.hpp).
#include "netcheck/link.hpp"

#include "netcheck/error.hpp"
#include "netcheck/flow_impl.hpp"
#include "netcheck/key_table.hpp"
#include "netcheck/recycling.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace netcheck {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace detail {
namespace {

// Answers held for a flow that is not waiting (it is between two receives).
constexpr std::size_t max_inbox = 8;

std::uint64_t key_hash(std::string_view k) noexcept { return std::hash<std::string_view>{}(k); }

std::error_code aborted() { return std::make_error_code(std::errc::operation_canceled); }

}  // namespace

class shared_flow;

class link : public std::enable_shared_from_this<link> {
 public:
  link(asio::io_context& io, endpoint_spec remote, flow_options options, tls_context* tls, framer frame, message_key key,
       std::function<void(link*)> on_dead, std::shared_ptr<std::uint64_t> unmatched)
      : io_(io),
        flow_(io, std::move(remote), std::move(options), tls),
        frame_(std::move(frame)),
        key_(std::move(key)),
        on_dead_(std::move(on_dead)),
        unmatched_(std::move(unmatched)) {}

  void connect(milliseconds timeout, flow::connect_handler h);
  void send(shared_flow* from, std::string_view bytes, milliseconds timeout, flow::send_handler h);
  void detach(shared_flow* f) noexcept;
  void attach(shared_flow* f) noexcept;
  void close() noexcept {
    if (state_ == state::closed) return;
    state_ = state::closed;
    flow_.close();
    // A UDP link's sink hears nothing more once the socket is closed: tell the waiting
    // flows here (a stream link's read also completes, aborted, and says it again).
    broadcast(aborted(), {});
  }

  bool is_open() const noexcept { return state_ == state::connected && flow_.is_open(); }
  bool usable() const noexcept { return state_ != state::failed && state_ != state::closed; }
  const flow& base() const noexcept { return flow_; }
  asio::io_context& io() noexcept { return io_; }

 private:
  enum class state { idle, connecting, connected, failed, closed };
  struct pending_send {
    std::string bytes;
    milliseconds timeout;
    flow::send_handler handler;
  };

  void on_connect(std::error_code ec);
  void send_next();
  void read();
  void on_read(std::error_code ec, received r);
  void on_datagram(std::error_code ec, std::string_view bytes);
  void route(std::string_view bytes);
  void broadcast(std::error_code ec, std::string_view bytes);
  void fail(std::error_code ec);

  asio::io_context& io_;
  flow flow_;
  framer frame_;
  message_key key_;
  std::function<void(link*)> on_dead_;
  std::shared_ptr<std::uint64_t> unmatched_;  // the pool's count; the link may outlive it
  state state_ = state::idle;
  std::vector<flow::connect_handler> connect_waiters_;
  std::deque<pending_send> sends_;
  bool sending_ = false;
  shared_flow* members_ = nullptr;  // an intrusive list (shared_flow::prev_/next_)
  // Keyed by a 64-bit hash of the key: no string is kept or made per message. Two keys
  // with one hash would send an answer to the wrong flow, whose own check (the transaction
  // compares the whole branch) then ignores it, as any stray answer.
  key_table<shared_flow> owners_;
};

class shared_flow final : public flow_impl, public std::enable_shared_from_this<shared_flow> {
 public:
  explicit shared_flow(std::shared_ptr<link> l) : link_(std::move(l)), timer_(link_->io()) { link_->attach(this); }
  ~shared_flow() override { link_->detach(this); }

  void async_connect(milliseconds timeout, flow::connect_handler handler) override {
    if (state_ != state::idle) {
      auto ec = make_error_code(state_ == state::closed ? errc::not_connected : errc::busy);
      return asio::post(link_->io(), [h = std::move(handler), ec] { h(ec); });
    }
    state_ = state::connecting;
    link_->connect(timeout, [self = shared_from_this(), h = std::move(handler)](std::error_code ec) {
      if (self->state_ == state::closed) ec = aborted();
      else self->state_ = ec ? state::closed : state::connected;
      h(ec);
    });
  }

  void async_send(std::string_view bytes, milliseconds timeout, flow::send_handler handler) override {
    if (state_ != state::connected || !link_->is_open()) {
      return asio::post(link_->io(), [h = std::move(handler)] { h(make_error_code(errc::not_connected), milliseconds{0}); });
    }
    link_->send(this, bytes, timeout, std::move(handler));
  }

  void async_receive(framer, milliseconds timeout, flow::receive_handler handler) override {
    if (receiving_ || state_ != state::connected) {
      auto ec = make_error_code(receiving_ ? errc::busy : errc::not_connected);
      return asio::post(link_->io(), [h = std::move(handler), ec] { h(ec, received{}); });
    }
    receiving_ = true;
    handler_ = std::move(handler);
    start_ = clock_type::now();
    if (!inbox_.empty()) {
      auto [ec, bytes] = std::move(inbox_.front());
      inbox_.pop_front();
      return complete(ec, std::move(bytes));
    }
    if (broken_) return complete(broken_, {});
    if (timeout == flow::no_timeout) return;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), mine = ++generation_](const boost::system::error_code& ec) {
      if (ec || mine != self->generation_ || !self->receiving_) return;
      self->complete(make_error_code(errc::receive_timeout), {});
    });
  }

  void stop_waiting() noexcept override {
    if (receiving_) complete(make_error_code(errc::receive_timeout), {});
  }

  void close() noexcept override {
    if (state_ == state::closed) return;
    state_ = state::closed;
    if (receiving_) complete(aborted(), {});
    link_->detach(this);
    inbox_.clear();
  }

  // From the link: an answer with one of our keys (`routed`), or something for everyone
  // waiting (garbage, a socket error). A routed answer comes from the link's completion
  // handler, never from inside an initiating function, so our handler runs at once; a
  // broadcast is posted, as the link is iterating over its flows.
  void deliver(std::error_code ec, std::string bytes, bool routed) {
    if (state_ == state::closed) return;
    if (receiving_) return complete(ec, std::move(bytes), routed);
    if (routed && inbox_.size() < max_inbox) inbox_.emplace_back(ec, std::move(bytes));
  }
  // The link failed for good: what every later receive gets.
  void broken(std::error_code ec) { broken_ = ec; }
  bool waiting() const noexcept { return receiving_; }
  std::vector<std::uint64_t>& keys() noexcept { return keys_; }
  // The link's list of members.
  shared_flow* prev_ = nullptr;
  shared_flow* next_ = nullptr;
  bool linked_ = false;

  bool is_open() const noexcept override { return state_ == state::connected && link_->is_open(); }
  const endpoint_spec& remote() const noexcept override { return link_->base().remote(); }
  std::optional<asio::ip::address> local_address() const override { return link_->base().local_address(); }
  std::uint16_t local_port() const noexcept override { return link_->base().local_port(); }
  std::optional<milliseconds> connect_time() const noexcept override { return link_->base().connect_time(); }
  std::optional<milliseconds> handshake_time() const noexcept override { return link_->base().handshake_time(); }
  const tls_report& tls() const noexcept override { return link_->base().tls(); }
  std::size_t buffered() const noexcept override { return 0; }

 private:
  enum class state { idle, connecting, connected, closed };

  void complete(std::error_code ec, std::string bytes, bool now = false) {
    timer_.cancel();
    ++generation_;
    receiving_ = false;
    auto h = std::move(handler_);
    handler_ = nullptr;
    received r{std::move(bytes), std::chrono::duration_cast<milliseconds>(clock_type::now() - start_)};
    if (now) return h(ec, std::move(r));
    asio::post(link_->io(), [h = std::move(h), ec, r = std::move(r)]() mutable { h(ec, std::move(r)); });
  }

  std::shared_ptr<link> link_;
  asio::steady_timer timer_;
  state state_ = state::idle;
  bool receiving_ = false;
  flow::receive_handler handler_;
  clock_type::time_point start_{};
  std::uint64_t generation_ = 0;
  std::deque<std::pair<std::error_code, std::string>> inbox_;
  std::error_code broken_;
  std::vector<std::uint64_t> keys_;
};

void link::connect(milliseconds timeout, flow::connect_handler h) {
  switch (state_) {
    case state::connected: return asio::post(io_, [h = std::move(h)] { h({}); });
    case state::failed:
    case state::closed: return asio::post(io_, [h = std::move(h)] { h(make_error_code(errc::not_connected)); });
    case state::connecting: connect_waiters_.push_back(std::move(h)); return;
    case state::idle:
      state_ = state::connecting;
      connect_waiters_.push_back(std::move(h));
      flow_.async_connect(timeout, [self = shared_from_this()](std::error_code ec) { self->on_connect(ec); });
      return;
  }
}

void link::on_connect(std::error_code ec) {
  if (state_ == state::closed) ec = aborted();
  else if (ec) fail(ec);
  else state_ = state::connected;
  auto waiters = std::move(connect_waiters_);
  connect_waiters_.clear();
  for (auto& w : waiters) w(ec);
  if (state_ != state::connected) return;
  // UDP: every datagram comes to on_datagram as it arrives (no receive to re-arm, no
  // handler posted, no copy per datagram). The weak reference as in read().
  if (flow_.remote().proto == transport::udp &&
      flow_.receive_each([weak = weak_from_this()](std::error_code e, std::string_view bytes) {
        if (auto self = weak.lock()) self->on_datagram(e, bytes);
      }))
    return;
  read();
}

void link::send(shared_flow* from, std::string_view bytes, milliseconds timeout, flow::send_handler h) {
  if (auto k = key_ ? key_(bytes) : std::string_view{}; !k.empty()) {
    const auto h = key_hash(k);
    if (owners_.set(h, from)) from->keys().push_back(h);
  }
  // A datagram that fits in the socket now goes at once, without queueing or copying.
  if (!sending_ && sends_.empty()) {
    if (auto sent = flow_.try_send(bytes)) {  // UDP only
      return asio::post(io_, [h = std::move(h), ec = *sent] { h(ec, milliseconds{0}); });
    }
  }
  sends_.push_back({std::string(bytes), timeout, std::move(h)});
  if (!sending_) send_next();
}

void link::send_next() {
  if (sends_.empty()) return;
  sending_ = true;
  auto next = std::move(sends_.front());
  sends_.pop_front();
  flow_.async_send(next.bytes, next.timeout,
                   [self = shared_from_this(), h = std::move(next.handler)](std::error_code ec, milliseconds took) {
                     self->sending_ = false;
                     // A stream that timed out mid-write is closed: no later message can follow.
                     if (ec && self->flow_.remote().proto != transport::udp && self->state_ == state::connected) self->fail(ec);
                     h(ec, took);
                     self->send_next();
                   });
}

void link::read() {
  // A weak reference: the read is always pending, and its handler lives inside flow_,
  // which the link owns; a strong one would keep both alive for ever once nothing runs
  // the io_context any more. The flows and the pool own the link.
  // No deadline: a link reads for as long as it is open (and a timer per datagram would
  // cost a timer-queue insertion and removal each).
  flow_.async_receive(frame_, flow::no_timeout, [weak = weak_from_this()](std::error_code ec, received r) {
    if (auto self = weak.lock()) self->on_read(ec, std::move(r));
  });
}

void link::on_read(std::error_code ec, received r) {
  if (state_ != state::connected) {
    if (state_ == state::closed) broadcast(aborted(), {});
    return;
  }
  if (!ec) {
    route(r.bytes);
    return read();
  }
  // UDP: an ICMP refusal or a malformed datagram concerns whoever waits, and the socket
  // goes on. A stream's framing or connection is gone.
  broadcast(ec, r.bytes);
  if (flow_.remote().proto == transport::udp && flow_.is_open()) return read();
  fail(ec);
}

void link::on_datagram(std::error_code ec, std::string_view bytes) {
  if (state_ != state::connected) return;
  // An ICMP refusal concerns whoever waits, and the socket goes on.
  if (ec) return broadcast(ec, {});
  route(bytes);
}

void link::route(std::string_view bytes) {
  const auto k = key_ ? key_(bytes) : std::string_view{};
  if (k.empty()) {
    broadcast({}, bytes);
  } else if (auto* owner = owners_.find(key_hash(k))) {
    owner->deliver({}, std::string(bytes), true);
  } else {
    ++*unmatched_;
  }
}

void link::broadcast(std::error_code ec, std::string_view bytes) {
  // deliver() may post, never re-enter: iterating is safe.
  for (auto* m = members_; m != nullptr; m = m->next_)
    if (m->waiting()) m->deliver(ec, std::string(bytes), false);
}

void link::fail(std::error_code ec) {
  if (state_ == state::failed || state_ == state::closed) return;
  state_ = state::failed;
  flow_.close();
  for (auto* m = members_; m != nullptr; m = m->next_) m->broken(ec ? ec : make_error_code(errc::connection_closed));
  if (on_dead_) on_dead_(this);
}

void link::attach(shared_flow* f) noexcept {
  if (f->linked_) return;
  f->linked_ = true;
  f->prev_ = nullptr;
  f->next_ = members_;
  if (members_ != nullptr) members_->prev_ = f;
  members_ = f;
}

void link::detach(shared_flow* f) noexcept {
  if (f->linked_) {
    f->linked_ = false;
    (f->prev_ != nullptr ? f->prev_->next_ : members_) = f->next_;
    if (f->next_ != nullptr) f->next_->prev_ = f->prev_;
    f->prev_ = f->next_ = nullptr;
  }
  for (const auto k : f->keys()) owners_.erase(k, f);
  f->keys().clear();
}

}  // namespace detail

struct link_pool::state {
  asio::io_context& io;
  flow_options options;
  tls_context* tls;
  framer frame;
  message_key key;
  std::unordered_map<std::string, std::shared_ptr<detail::link>> links;
  std::uint64_t connects = 0;
  std::shared_ptr<std::uint64_t> unmatched = std::make_shared<std::uint64_t>(0);
  // The link the last open() used, found again without making its key (a batch opens
  // one endpoint over and over).
  std::shared_ptr<detail::link> last{};
  endpoint_spec last_remote{};
};

link_pool::link_pool(asio::io_context& io, flow_options options, tls_context* tls, framer stream_framer, message_key key)
    : s_(std::make_shared<state>(state{io,
                                       [&options] {
                                         if (options.socket_receive_buffer == 0)
                                           options.socket_receive_buffer = udp_receive_buffer;
                                         return std::move(options);
                                       }(),
                                       tls,
                                       std::move(stream_framer),
                                       std::move(key),
                                       {},
                                       0})) {}

link_pool::~link_pool() { close(); }

flow link_pool::open(const endpoint_spec& remote) {
  auto& last = s_->last;
  const auto& lr = s_->last_remote;
  if (last && last->usable() && lr.proto == remote.proto && lr.port == remote.port && lr.address == remote.address &&
      lr.host == remote.host)
    return flow(std::allocate_shared<detail::shared_flow>(recycling_allocator<detail::shared_flow>{}, last));
  const std::string id = remote.to_string();
  auto& l = s_->links[id];
  if (!l) {
    ++s_->connects;
    std::weak_ptr<state> weak = s_;
    l = std::make_shared<detail::link>(
        s_->io, remote, s_->options, remote.proto == transport::tls ? s_->tls : nullptr,
        remote.proto == transport::udp ? framer{} : s_->frame, s_->key,
        [weak, id](detail::link* dead) {
          auto s = weak.lock();
          if (!s) return;
          auto it = s->links.find(id);
          if (it != s->links.end() && it->second.get() == dead) s->links.erase(it);
        },
        s_->unmatched);
  }
  last = l;
  s_->last_remote = remote;
  return flow(std::allocate_shared<detail::shared_flow>(recycling_allocator<detail::shared_flow>{}, l));
}

void link_pool::close() noexcept {
  s_->last.reset();
  auto links = std::move(s_->links);
  s_->links.clear();
  for (auto& [id, l] : links) l->close();
}

std::size_t link_pool::links() const noexcept { return s_->links.size(); }
std::uint64_t link_pool::connects() const noexcept { return s_->connects; }
std::uint64_t link_pool::unmatched() const noexcept { return *s_->unmatched; }

}  // namespace netcheck
