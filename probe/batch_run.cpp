#include "probe/batch_run.hpp"

#include "probe/cli.hpp"

#include <boost/asio/post.hpp>

#include <exception>
#include <utility>

namespace probe {

batch_result result_from_report(const batch_row& row, const report& r) {
  batch_result b;
  b.row = row.number;
  b.label = row.label;
  b.aor = row.aor;
  const auto& e = describe(r.primary.code);
  b.code = std::string(e.code);
  b.verdict = r.primary.code == diagnosis_code::registered ? "registered" : "failed";
  b.detail = std::string(e.title);
  b.evidence = r.primary.evidence;
  b.elapsed_ms = r.elapsed_ms;
  return b;
}

batch_result row_error_result(std::size_t row, std::string label, std::string aor, std::string why) {
  batch_result b;
  b.row = row;
  b.label = std::move(label);
  b.aor = std::move(aor);
  b.code = "row_error";
  b.verdict = "row_error";
  b.detail = std::move(why);
  return b;
}

batch_scheduler::batch_scheduler(run_context ctx, batch_options opts, std::function<std::optional<batch_item>()> next,
                                 std::function<void(const batch_result&)> emit)
    : ctx_(ctx), opts_(std::move(opts)), next_(std::move(next)), emit_(std::move(emit)), timer_(ctx.io) {
  if (opts_.concurrency == 0) opts_.concurrency = 1;
}

void batch_scheduler::start(std::function<void()> done) {
  done_ = std::move(done);
  next_start_ = std::chrono::steady_clock::now();
  boost::asio::post(ctx_.io, [this] { pump(); });
}

void batch_scheduler::stop() {
  stopping_ = true;
  if (waiting_) timer_.cancel();
  boost::asio::post(ctx_.io, [this] { maybe_done(); });
}

void batch_scheduler::pump() {
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
    const std::size_t seq = next_seq_++;
    if (item->error) {
      window_[seq] = std::move(item->error);
      flush();
      continue;
    }
    window_[seq] = std::nullopt;
    if (opts_.rate > 0) {
      // Spread starts evenly with ±10 % jitter so many probes do not beat in step.
      std::uniform_real_distribution<double> jitter(0.9, 1.1);
      const auto gap = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(jitter(jitter_rng_) / opts_.rate));
      next_start_ = std::max(next_start_, clock::now() - gap) + gap;
    }
    launch(seq, std::move(*item->row));
  }
  maybe_done();
}

void batch_scheduler::launch(std::size_t seq, batch_row row) {
  ++in_flight_;
  // async_register_run keeps references to the account, settings and route: they live
  // here until its completion has run.
  struct job {
    batch_row row;
    register_settings settings;
    route_options route;
  };
  auto j = std::make_shared<job>(job{std::move(row), opts_.settings, opts_.route});
  if (j->row.expires) j->settings.expires = *j->row.expires;
  if (!j->row.registrar.empty()) j->route.registrar = j->row.registrar;
  if (j->row.transport) j->route.transport = j->row.transport;
  try {
    async_register_run(ctx_, j->row.acct, j->settings, j->route, opts_.timeout, [this, seq, j](report r) {
      // Completion may come inline; finish on a fresh stack so pump() never re-enters.
      boost::asio::post(ctx_.io, [this, seq, j, r = std::move(r)] { finish(seq, result_from_report(j->row, r)); });
    });
  } catch (const usage_error& e) {
    // A row whose registrar or route cannot be used (e.g. a bad registrar column).
    boost::asio::post(ctx_.io, [this, seq, j, why = std::string(e.what())] {
      finish(seq, row_error_result(j->row.number, j->row.label, j->row.aor, why));
    });
  }
}

void batch_scheduler::finish(std::size_t seq, batch_result r) {
  --in_flight_;
  window_[seq] = std::move(r);
  flush();
  pump();
}

void batch_scheduler::flush() {
  for (auto it = window_.begin(); it != window_.end() && it->first == emit_seq_ && it->second; it = window_.erase(it)) {
    emit_(*it->second);
    ++emit_seq_;
  }
}

void batch_scheduler::maybe_done() {
  if (finished_ || in_flight_ > 0 || !window_.empty()) return;
  if (!input_done_ && !stopping_) return;
  finished_ = true;
  if (waiting_) timer_.cancel();
  if (done_) done_();
}

}  // namespace probe
