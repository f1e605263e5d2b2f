// probe/registration/nat_lifetime.cpp — see the header for the method.
#include "probe/registration/nat_lifetime.hpp"

#include "probe/core/catalog.hpp"
#include "probe/registration/inbound.hpp"
#include "probe/registration/nat_lifetime_search.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <list>
#include <optional>

namespace probe::registration {

using std::chrono::milliseconds;
using std::chrono::seconds;
using clock_type = std::chrono::steady_clock;

std::vector<seconds> nat_lifetime_grid(seconds max_idle, seconds step) {
  step = std::max(step, seconds{1});
  max_idle = std::max(max_idle, seconds{1});
  std::vector<seconds> out;
  for (auto t = step; t < max_idle; t += step) out.push_back(t);
  out.push_back(max_idle);
  return out;
}

class nat_lifetime_op : public std::enable_shared_from_this<nat_lifetime_op> {
 public:
  nat_lifetime_op(const nat_lifetime_request& req, std::function<void(nat_lifetime_record)> done)
      : req_(req), done_(std::move(done)), search_(req.max_idle, nat_lifetime_step), grid_(nat_lifetime_grid(req.max_idle)) {
    rec_.max_idle_s = static_cast<long>(req.max_idle.count());
  }

  void start() {
    began_ = clock_type::now();
    // The first binding tells whether the registrar gives GRUUs; the others wait for it.
    launch(grid_.front());
  }

  void cancel() {
    if (stopping_) return;
    stopping_ = true;
    if (rec_.stopped.empty()) rec_.stopped = "interrupted";
    for (auto& p : probes_)
      if (p.timer) p.timer->cancel();
  }

 private:
  struct probe {
    seconds idle{0};
    std::size_t index = 0;  // in rec_.probes
    register_settings settings;
    std::optional<netcheck::flow> flow, second;
    std::optional<boost::asio::steady_timer> timer;
    std::function<void()> proceed;  // the exchange's: removes the binding
    inbound_request ask;
    std::string gruu;
    bool registered = false, asked = false;
  };

  bool interrupted() const { return req_.interrupt != nullptr && req_.interrupt->requested(); }

  void say(const std::string& line) {
    if (req_.progress) req_.progress("NAT lifetime: " + line);
  }

  void launch(seconds idle) {
    auto& p = probes_.emplace_back();
    p.idle = idle;
    p.index = rec_.probes.size();
    rec_.probes.push_back({static_cast<long>(idle.count()), "", ""});
    p.settings = req_.settings;
    p.settings.instance = req_.ids->instance();
    p.settings.contact.reset();
    p.settings.keep = false;
    p.settings.query = false;
    p.settings.inbound = false;
    p.settings.ladder = false;
    // Long enough to outlive the whole measurement (a registrar's 423 raises it).
    p.settings.expires = static_cast<std::uint32_t>(req_.max_idle.count() + 60);
    if (p.settings.instance.empty()) {
      fail(p, "random number generator failed");
      auto self = shared_from_this();
      return boost::asio::post(*req_.io, [self] { self->maybe_finish(); });
    }
    p.flow.emplace(*req_.io, req_.target, req_.options);
    ++pending_;
    auto self = shared_from_this();
    p.flow->async_connect(req_.register_timeout, [self, &p](std::error_code ec) {
      if (ec) {
        self->fail(p, "could not open a UDP socket: " + ec.message());
        --self->pending_;
        return self->maybe_finish();
      }
      self->register_probe(p);
    });
  }

  void register_probe(probe& p) {
    auto self = shared_from_this();
    async_register_on_flow(
        *p.flow, *req_.acct, p.settings, *req_.ids, clock_type::now() + req_.register_timeout,
        [self, &p](exchange_outcome o) { self->on_exchange_done(p, std::move(o)); }, req_.interrupt,
        [self, &p](const registered_facts& facts, std::function<void()> proceed) {
          self->on_registered(p, facts, std::move(proceed));
        });
  }

  void on_registered(probe& p, const registered_facts& facts, std::function<void()> proceed) {
    p.registered = true;
    p.proceed = std::move(proceed);
    p.gruu = facts.gruu;
    if (rec_.method.empty()) choose_method(p);
    if (stopping_ || interrupted() || not_needed(p)) return release(p, "skipped");
    p.timer.emplace(*req_.io, p.idle);
    auto self = shared_from_this();
    p.timer->async_wait([self, &p](const boost::system::error_code&) {
      if (self->stopping_ || self->interrupted() || self->not_needed(p)) return self->release(p, "skipped");
      self->ask(p);
    });
  }

  // With a GRUU every idle period gets a binding of its own now; without, one at a time.
  void choose_method(const probe& first) {
    if (!first.gruu.empty()) {
      rec_.method = "gruu";
      for (std::size_t i = 1; i < grid_.size(); ++i) launch(grid_[i]);
      say(std::to_string(grid_.size()) + " bindings, one asked every " + std::to_string(nat_lifetime_step.count()) +
          " s, up to " + std::to_string(req_.max_idle.count()) + " s idle (each has a GRUU, RFC 5627)");
    } else {
      rec_.method = "aor";
      say("the registrar gives no GRUU: one binding at a time, up to " + std::to_string(req_.max_idle.count()) +
          " s idle (slower)");
    }
  }

  // A binding whose idle period can teach nothing: one shorter was already gone.
  bool not_needed(const probe& p) const {
    const auto f = search_.finding();
    return rec_.method == "gruu" && f.dead_after && p.idle > *f.dead_after;
  }

  void ask(probe& p) {
    p.asked = true;
    p.second.emplace(*req_.io, req_.target, req_.options);
    p.ask.aor = req_.acct->aor;
    p.ask.request_uri = rec_.method == "gruu" ? p.gruu : std::string();
    p.ask.timeout = req_.probe_timeout;
    p.ask.timers = req_.settings.timers;
    p.ask.trace = req_.settings.trace;
    auto self = shared_from_this();
    async_inbound(*p.flow, *p.second, p.ask, *req_.ids, [self, &p](inbound_outcome o) {
      p.second->close();
      self->on_answer(p, std::move(o));
    });
  }

  void on_answer(probe& p, inbound_outcome o) {
    auto& r = rec_.probes[p.index];
    const auto verdict = classify_inbound(o.record.status, o.arrived);
    const std::string idle = std::to_string(p.idle.count()) + " s";
    if (verdict == "reached") {
      r.result = "alive";
      search_.record(p.idle, true);
      say("alive after " + idle + " idle");
    } else if (verdict == "not_reached") {
      r.result = "gone";
      search_.record(p.idle, false);
      say("gone after " + idle + " idle");
    } else {
      r.result = "failed";
      if (rec_.stopped.empty())
        rec_.stopped = "the OPTIONS after " + idle + " idle was answered " + std::to_string(o.record.status);
      say("the OPTIONS after " + idle + " idle was answered " + std::to_string(o.record.status) + " " + o.reason);
    }
    if (r.result != "alive") r.detail = (o.record.status ? std::to_string(o.record.status) + " " : "") + o.reason;
    // Requests of the registrar's own (keep-alives) refresh the mapping too: the binding
    // was not idle as long as planned.
    const int others = o.requests_seen - (o.arrived ? 1 : 0);
    if (others > 0)
      r.detail += (r.detail.empty() ? "" : "; ") + std::to_string(others) +
                  " other request(s) reached the binding while it idled (the registrar's keep-alives refresh the NAT)";
    release(p, "");
    next();
  }

  // What to do after an answer: skip bindings no longer needed, or start the next one.
  void next() {
    if (rec_.method == "gruu") {
      for (auto& q : probes_)
        if (q.timer && !q.asked && not_needed(q)) q.timer->cancel();
      return;
    }
    if (stopping_ || interrupted() || !rec_.stopped.empty()) return;
    if (auto idle = search_.next()) launch(*idle);
  }

  // The binding's part is over: let the exchange remove it.
  void release(probe& p, const std::string& result) {
    if (!result.empty() && rec_.probes[p.index].result.empty()) rec_.probes[p.index].result = result;
    if (auto proceed = std::move(p.proceed)) {
      p.proceed = nullptr;
      proceed();
    }
  }

  void fail(probe& p, const std::string& what) {
    rec_.probes[p.index].result = "failed";
    rec_.probes[p.index].detail = what;
    // Without its first binding the method is unknown; in order, a failure ends the search.
    if (rec_.method != "gruu" && rec_.stopped.empty()) rec_.stopped = "a probe binding failed: " + what;
    say("a probe binding failed: " + what);
  }

  void on_exchange_done(probe& p, exchange_outcome o) {
    p.flow->close();
    if (!p.registered) {
      std::string what = std::string(describe(o.primary.code).code);
      if (!o.primary.evidence.empty()) what += " (" + o.primary.evidence.front() + ")";
      if (o.primary.code == diagnosis_code::interrupted) rec_.probes[p.index].result = "skipped";
      else fail(p, "registration: " + what);
    } else if (o.registration && !o.registration->removed) {
      auto& r = rec_.probes[p.index];
      r.detail += (r.detail.empty() ? "" : "; ") +
                  std::string("its removal was not confirmed: the binding may remain until it expires");
    }
    --pending_;
    maybe_finish();
  }

  void maybe_finish() {
    if (pending_ != 0 || finished_) return;
    finished_ = true;
    const auto f = search_.finding();
    rec_.alive_after_s = static_cast<long>(f.alive_after.count());
    if (f.dead_after) rec_.dead_after_s = static_cast<long>(f.dead_after->count());
    rec_.recommended_keepalive_s = static_cast<long>(f.recommended_keepalive.count());
    if (rec_.method.empty()) rec_.method = "aor";
    rec_.complete = rec_.stopped.empty() && !stopping_ && !interrupted() &&
                    (f.dead_after ? true : f.alive_after >= req_.max_idle);
    if (!rec_.complete && rec_.stopped.empty()) rec_.stopped = interrupted() || stopping_ ? "interrupted" : "incomplete";
    rec_.elapsed_s = std::chrono::duration<double>(clock_type::now() - began_).count();
    auto done = std::move(done_);
    auto last = shared_from_this();  // done may drop the caller's last reference
    done(std::move(rec_));
  }

  const nat_lifetime_request& req_;
  std::function<void(nat_lifetime_record)> done_;
  nat_lifetime_search search_;
  std::vector<seconds> grid_;
  std::list<probe> probes_;  // stable addresses: handlers hold references
  nat_lifetime_record rec_;
  clock_type::time_point began_;
  int pending_ = 0;  // probes whose exchange has not ended
  bool stopping_ = false, finished_ = false;
};

void nat_lifetime_handle::cancel() {
  if (auto op = op_.lock()) op->cancel();
}

nat_lifetime_handle async_nat_lifetime(const nat_lifetime_request& req, std::function<void(nat_lifetime_record)> done) {
  auto op = std::make_shared<nat_lifetime_op>(req, std::move(done));
  op->start();
  return nat_lifetime_handle(op);
}

}  // namespace probe::registration
