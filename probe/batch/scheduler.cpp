#include "probe/batch/scheduler.hpp"

#include "netcheck/recycling.hpp"
#include "probe/locate/request.hpp"
#include "probe/reach/transaction.hpp"

#include <boost/asio/post.hpp>

#include <exception>
#include <utility>

namespace probe::batch {

struct scheduler::job {
  account_row row;
  // The batch's defaults, or the row's own copy when one of its columns overrides them.
  const registration::register_settings* settings = nullptr;
  const registration::route_options* route = nullptr;
  std::optional<registration::register_settings> own_settings;
  std::optional<registration::route_options> own_route;
  netcheck::locate_request request;  // locate_request_for(row, route), made once
};

scheduler::scheduler(registration::run_context ctx, options opts, std::function<std::optional<input_item>()> next,
                     std::function<void(const row_result&)> emit)
    : ctx_(ctx), opts_(std::move(opts)), next_(std::move(next)), emit_(std::move(emit)), timer_(ctx.io) {
  if (opts_.concurrency == 0) opts_.concurrency = 1;
  window_.resize(opts_.concurrency);
  resolver_ = locate::make_resolver(ctx_.io, opts_.route.dns_servers, opts_.timeout);
  // One TLS context for every row: it loads the CA store on the first TLS connection, so
  // a batch that makes none never pays for it (a --ca-file is read and checked now).
  tls_ = locate::make_tls(opts_.route.ca_file, opts_.route.insecure);
  links_ = std::make_unique<netcheck::link_pool>(ctx_.io, locate::bind_options(opts_.route.bind), tls_.get(),
                                                 reach::sip_framer(netcheck::transport::tcp),
                                                 [](std::string_view m) { return reach::sip_message_key(m); });
  shared_ = {resolver_.get(), tls_.get(), links_.get()};
  ctx_.shared = &shared_;
}

scheduler::~scheduler() = default;

void scheduler::start(std::function<void()> done) {
  done_ = std::move(done);
  next_start_ = std::chrono::steady_clock::now();
  boost::asio::post(ctx_.io, [this] { pump(); });
}

void scheduler::input_ready() {
  boost::asio::post(ctx_.io, [this] { pump(); });
}

void scheduler::stop() {
  stopping_ = true;
  if (waiting_) timer_.cancel();
  boost::asio::post(ctx_.io, [this] { maybe_done(); });
}

void scheduler::pump() {
  using clock = std::chrono::steady_clock;
  // The window bounds both the registrations in flight and the finished results held
  // back for order: at most `concurrency` sequence numbers between the oldest unemitted
  // row and the next one read.
  while (!stopping_ && !input_done_ && !waiting_ && next_seq_ - emit_seq_ < opts_.concurrency) {
    if (opts_.rate > 0 && clock::now() < next_start_) {
      waiting_ = true;
      timer_.expires_at(next_start_);
      timer_.async_wait([this](const boost::system::error_code&) {
        waiting_ = false;
        pump();
      });
      return;
    }
    auto item = next_();
    if (!item) {
      input_done_ = true;
      break;
    }
    if (item->later) return;  // input_ready() pumps again
    const std::size_t seq = next_seq_++;
    if (item->error) {
      slot(seq) = std::move(item->error);
      flush();
      continue;
    }
    slot(seq).reset();
    if (opts_.rate > 0) {
      // Spread starts evenly with ±10 % jitter so many probes do not beat in step.
      std::uniform_real_distribution<double> jitter(0.9, 1.1);
      const auto gap = std::chrono::duration_cast<clock::duration>(
          std::chrono::duration<double>(jitter(jitter_rng_) / opts_.rate));
      next_start_ = std::max(next_start_, clock::now() - gap) + gap;
    }
    launch(seq, std::move(*item->row));
  }
  maybe_done();
}

void scheduler::launch(std::size_t seq, account_row row) {
  ++in_flight_;
  // async_register_run keeps references to the account, settings and route: they live
  // in the job until its completion has run.
  auto j = std::allocate_shared<job>(netcheck::recycling_allocator<job>{});
  j->row = std::move(row);
  j->settings = &opts_.settings;
  j->route = &opts_.route;
  if (j->row.expires) {
    j->settings = &j->own_settings.emplace(opts_.settings);
    j->own_settings->expires = *j->row.expires;
  }
  if (!j->row.registrar.empty() || j->row.transport) {
    j->route = &j->own_route.emplace(opts_.route);
    if (!j->row.registrar.empty()) j->own_route->registrar = j->row.registrar;
    if (j->row.transport) j->own_route->transport = j->row.transport;
  }
  auto& req = j->request;
  // What locate_request_for reads of the row: the route and the AOR's scheme, host, port
  // and transport parameter.
  const auto& aor = j->row.acct.aor;
  auto tp = aor.param("transport");
  if (!memo_ || memo_->route != j->route || memo_->scheme != aor.scheme || memo_->host != aor.host || memo_->port != aor.port ||
      memo_->transport_param != tp) {
    memo_.reset();
    auto made = registration::locate_request_for(j->row.acct, *j->route);
    // A row whose registrar or route cannot be used (e.g. a sips: AOR in a --transport udp batch).
    if (!made) return row_failed(seq, j, std::move(made).error());
    auto& fresh = *made;
    // One RFC 3263 answer serves every row with the same request.
    std::string key = fresh.host + '|' + (fresh.port ? std::to_string(*fresh.port) : "") + '|' +
                      (fresh.forced ? std::string(netcheck::to_string(*fresh.forced)) : "") + '|' + (fresh.secure ? "s" : "");
    // A row's own route lives in its job: only the batch's can be remembered.
    if (j->route != &opts_.route) {
      req = std::move(fresh);
      return locate(seq, j, key);
    }
    memo_ = request_memo{j->route, aor.scheme, aor.host, std::move(tp), aor.port, std::move(fresh), std::move(key)};
  }
  req = memo_->request;
  locate(seq, j, memo_->key);
}

void scheduler::locate(std::size_t seq, const std::shared_ptr<job>& j, const std::string& key) {
  const auto& req = j->request;
  const auto now = std::chrono::steady_clock::now();
  auto it = dns_.find(key);
  if (it != dns_.end() && it->second.answer && now - it->second.at > std::chrono::duration<double>(dns_cache_seconds))
    dns_.erase(it), it = dns_.end();
  if (it != dns_.end()) {
    auto& e = it->second;
    if (e.answer) return run(seq, j, e.answer);
    e.waiting.push_back([this, seq, j, key] { run(seq, j, dns_[key].answer); });
    return;
  }
  dns_[key].waiting.push_back([this, seq, j, key] { run(seq, j, dns_[key].answer); });
  ++dns_lookups_;
  netcheck::locate_limits limits;
  limits.deadline = opts_.timeout;
  netcheck::async_locate(*resolver_, req, limits, ctx_.rng, [this, key](netcheck::resolution r) {
    auto& e = dns_[key];
    e.answer = std::make_shared<const netcheck::resolution>(std::move(r));
    e.at = std::chrono::steady_clock::now();
    auto waiting = std::move(e.waiting);
    e.waiting.clear();
    for (auto& w : waiting) w();
  });
}

void scheduler::run(std::size_t seq, const std::shared_ptr<job>& j, std::shared_ptr<const netcheck::resolution> located) {
  // With the request made and the resolver, TLS context and links shared, the run finds no
  // usage error of its own: a bad route was this row's error in launch().
  registration::async_register_run(
      ctx_, j->row.acct, *j->settings, *j->route, opts_.timeout,
      [this, seq, j](report r) {
        // Completion may come inline; finish on a fresh stack so pump() never re-enters.
        boost::asio::post(ctx_.io,
                          [this, seq, j, b = result_from_report(j->row, std::move(r))]() mutable { finish(seq, std::move(b)); });
      },
      registration::prelocated{j->request, std::move(located)});
}

void scheduler::row_failed(std::size_t seq, const std::shared_ptr<job>& j, std::string why) {
  boost::asio::post(ctx_.io, [this, seq, j, why = std::move(why)] {
    finish(seq, row_error_result(j->row.number, j->row.label, j->row.aor, why));
  });
}

void scheduler::finish(std::size_t seq, row_result r) {
  --in_flight_;
  slot(seq) = std::move(r);
  flush();
  pump();
}

void scheduler::flush() {
  for (auto* s = &slot(emit_seq_); emit_seq_ < next_seq_ && *s; s = &slot(emit_seq_)) {
    emit_(**s);
    s->reset();
    ++emit_seq_;
  }
}

void scheduler::maybe_done() {
  if (finished_ || in_flight_ > 0 || emit_seq_ != next_seq_) return;
  if (!input_done_ && !stopping_) return;
  finished_ = true;
  if (waiting_) timer_.cancel();
  // The links keep a read pending; the resolver's lookups are all answered.
  links_->close();
  if (done_) done_();
}

}  // namespace probe::batch
