#include "probe/registration/run.hpp"

#include "netcheck/endpoint.hpp"
#include "netcheck/error.hpp"
#include "netcheck/recycling.hpp"
#include "netcheck/tls_report.hpp"
#include "netcheck/transport.hpp"
#include "probe/core/errors.hpp"
#include "probe/locate/dns_report.hpp"
#include "probe/locate/request.hpp"
#include "probe/locate/target.hpp"
#include "probe/reach/check.hpp"
#include "probe/registration/inbound.hpp"
#include "probe/registration/nat_lifetime.hpp"

#include <boost/asio/post.hpp>

#include <iterator>
#include <memory>

namespace probe::registration {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

expected<netcheck::locate_request, std::string> locate_request_for(const account& acct, const route_options& route) {
  netcheck::locate_request req;
  if (!route.registrar.empty() || !route.outbound_proxy.empty()) {
    const bool proxy = route.registrar.empty();
    auto t = locate::parse_dns_target(proxy ? route.outbound_proxy : route.registrar);
    if (!t)
      return unexpected(std::string(proxy ? "--outbound-proxy" : "--registrar") +
                        ": cannot use the value: " + t.error().message());
    req.host = t->host;
    req.port = t->port;
    req.forced = t->transport;
    req.secure = t->secure() || acct.aor.scheme == "sips";
  } else {
    req.host = acct.aor.host;
    if (acct.aor.port != 0) req.port = acct.aor.port;
    if (auto tp = acct.aor.param("transport")) req.forced = netcheck::transport_from_string(*tp);
    req.secure = acct.aor.scheme == "sips";
  }
  if (route.transport) {
    if (req.secure && *route.transport != netcheck::transport::tls)
      return unexpected(std::string("a sips: address of record needs --transport tls"));
    req.forced = route.transport;
  }
  return req;
}

namespace {

// locate_request_for, for a run that starts without one: a bad route is a usage error,
// found before any I/O.
netcheck::locate_request request_or_throw(const account& acct, const route_options& route) {
  auto req = locate_request_for(acct, route);
  if (!req) throw usage_error(req.error());
  return *std::move(req);
}

class run_op : public std::enable_shared_from_this<run_op> {
 public:
  run_op(run_context ctx, const account& acct, const register_settings& settings, const route_options& route,
         milliseconds timeout, std::function<void(report)> done, const netcheck::locate_request* request)
      : ctx_(ctx), acct_(acct), settings_(settings), done_(std::move(done)), timeout_(timeout) {
    start_ = clock_type::now();
    deadline_ = start_ + timeout;
    rep_.aor = acct.aor.to_string();
    req_ = request ? *request : request_or_throw(acct, route);
    const shared_resources none;
    const auto& shared = ctx.shared ? *ctx.shared : none;
    links_ = shared.links;
    // A shared link carries its own flow options; a flow of our own needs --bind.
    if (!links_) flow_opts_ = locate::bind_options(route.bind);
    inbound_opts_ = flow_opts_;
    inbound_opts_.local_port = 0;  // the second socket must not take the first one's port
    resolver_ = shared.resolver;
    if (!resolver_) {
      own_resolver_ = locate::make_resolver(ctx.io, route.dns_servers, timeout);
      resolver_ = own_resolver_.get();
    }
    tls_ = shared.tls;
    if (locate::may_use_tls(req_) && !tls_) {
      own_tls_ = locate::make_tls(route.ca_file, route.insecure);
      tls_ = own_tls_.get();
    }
  }

  void start(std::shared_ptr<const netcheck::resolution> located) {
    if (ctx_.interrupt != nullptr)
      ctx_.interrupt->on_request = [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->on_interrupt();
      };
    if (located) {
      prelocated_ = true;
      auto self = shared_from_this();
      boost::asio::post(ctx_.io, [self, r = std::move(located)] { self->on_located(*r); });
      return;
    }
    netcheck::locate_limits limits;
    limits.deadline = std::max(remaining(), milliseconds(1));
    auto self = shared_from_this();
    netcheck::async_locate(*resolver_, req_, limits, ctx_.rng, [self](const netcheck::resolution& r) { self->on_located(r); });
  }

 private:
  milliseconds remaining() const { return std::chrono::duration_cast<milliseconds>(deadline_ - clock_type::now()); }

  // Nothing sent yet (DNS, connect) stops now; a REGISTER in flight is waited for, since
  // it may create a binding, unless a second signal says to quit (register_op then reports
  // what may remain).
  void on_interrupt() {
    switch (stage_) {
      case stage::locating:
        if (own_resolver_) own_resolver_->cancel();
        break;
      case stage::connecting:
        if (flow_) flow_->close();
        break;
      case stage::registering:
        if (ctx_.interrupt->abandoned() && flow_) flow_->close();
        // The inbound check leaves nothing behind: stop it, so the removal goes out now.
        if (second_) second_->close();
        lifetime_.cancel();
        break;
      case stage::done: break;
    }
  }

  bool interrupted() const noexcept { return ctx_.interrupt != nullptr && ctx_.interrupt->requested(); }

  void finish_interrupted(const std::string& when) {
    rep_.primary = {diagnosis_code::interrupted, {}};
    for (const auto& f : failures_) rep_.primary.evidence.push_back(f.target + ": " + f.what);
    rep_.primary.evidence.push_back("interrupted by " + ctx_.interrupt->what() + " " + when + ": nothing is registered");
    if (flow_) flow_->close();
    finish();
  }

  void on_located(const netcheck::resolution& r) {
    if (own_resolver_) own_resolver_->cancel();  // a shared one serves other runs too
    if (!prelocated_ && !redirected_) set_phase("dns", clock_type::now() - start_);
    if (interrupted()) return finish_interrupted("while the registrar was being located");
    for (const auto& t : r.targets)
      rep_.targets.push_back(
          {std::string(netcheck::to_string(t.t)), t.host, t.address, t.port, std::string(netcheck::to_string(t.found_by)), ""});
    // After a redirect the new targets follow the old ones in the report; index_ and
    // targets_ then count from the first new one.
    const std::size_t first = rep_.targets.size() - r.targets.size();
    targets_.clear();
    targets_.resize(first);
    targets_.insert(targets_.end(), r.targets.begin(), r.targets.end());
    index_ = first;
    if (r.targets.empty()) {
      rep_.primary = *locate::dns_diagnosis(r, req_.host, resolver_->servers());
      return finish();
    }
    next_target();
  }

  void next_target() {
    if (interrupted())
      return finish_interrupted(index_ == 0 ? "before the first target was tried" : "before the next target was tried");
    if (index_ >= targets_.size()) return conclude_failure();
    if (remaining() <= milliseconds::zero()) {
      rep_.targets[index_].result = "not tried: time limit reached";
      return conclude_failure();
    }
    const auto& t = targets_[index_];
    // RFC 5922 §4 (with RFC 3263): the certificate must name the SIP domain the user asked
    // for — the AOR's domain, or the host of --registrar / --outbound-proxy, or where a
    // redirect pointed — not the SRV target found for it, which DNS alone vouches for.
    const auto ep = netcheck::endpoint_for(t, req_.host);
    if (!ep || (t.t == netcheck::transport::tls && !tls_)) {
      rep_.targets[index_].result = "skipped";
      ++index_;
      return next_target();
    }
    if (links_) flow_.emplace(links_->open(*ep));
    else flow_.emplace(ctx_.io, *ep, flow_opts_, tls_);
    // Share what is left among the targets still to try, so a silent first target does
    // not use up the time a failover needs (RFC 3263 §4.3).
    auto left = targets_.size() - index_;
    auto budget = remaining() / static_cast<long>(left);
    if (left == 1) budget = remaining();
    target_deadline_ = clock_type::now() + budget;
    auto self = shared_from_this();
    stage_ = stage::connecting;
    flow_->async_connect(std::max(budget, milliseconds(1)), [self](std::error_code ec) { self->on_connected(ec); });
  }

  void on_connected(std::error_code ec) {
    if (interrupted()) return finish_interrupted("before the first REGISTER was sent");
    auto& rec = rep_.targets[index_];
    const auto& tls = flow_->tls();
    if (targets_[index_].t == netcheck::transport::tls && ec != std::errc::operation_canceled) note_tls(tls);
    if (ec) {
      failure f;
      f.target = netcheck::endpoint_text(targets_[index_]) + " over " + std::string(netcheck::to_string(targets_[index_].t));
      if (ec == netcheck::errc::tls_verify_failed || ec == netcheck::errc::tls_handshake_failed ||
          ec == netcheck::errc::tls_handshake_timeout) {
        f.code = diagnosis_code::tls_failure;
        f.what = reach::tls_failure_detail(ec, tls);
      } else if (ec == std::errc::connection_refused) {
        f.code = diagnosis_code::port_unreachable;
        f.what = "connection refused (TCP reset)";
      } else if (ec == netcheck::errc::connect_timeout) {
        f.code = diagnosis_code::no_response;
        f.what = "no answer to the TCP connect";
      } else {
        f.code = reach::is_unreachable(ec) ? diagnosis_code::network_unreachable : diagnosis_code::no_response;
        f.what = reach::network_error_detail(ec);
      }
      rec.result = f.what;
      failures_.push_back(f);
      ++index_;
      return next_target();
    }
    if (auto c = flow_->connect_time()) set_phase("connect", *c);
    if (auto h = flow_->handshake_time()) set_phase("tls", *h);
    auto self = shared_from_this();
    stage_ = stage::registering;
    while_registered hook;
    if (inbound_wanted())
      hook = [self](const registered_facts& facts, std::function<void()> proceed) {
        self->check_inbound(facts, std::move(proceed));
      };
    async_register_on_flow(
        *flow_, acct_, settings_, ctx_.ids, target_deadline_, [self](exchange_outcome o) { self->on_registered(std::move(o)); },
        ctx_.interrupt, std::move(hook));
  }

  // A binding to reach: not a query, not a removal; and a flow of our own (a batch's
  // shared link routes only answers).
  bool inbound_wanted() const { return settings_.inbound && !links_ && !settings_.query && settings_.expires != 0; }

  // While our binding is in place: an OPTIONS to the AOR from a second socket of the same
  // transport, through the same registrar, must come back on the registered flow.
  void check_inbound(const registered_facts& facts, std::function<void()> proceed) {
    const auto& t = targets_[index_];
    inbound_ctx_.aor = acct_.aor.to_string();
    inbound_ctx_.transport = std::string(netcheck::to_string(t.t));
    const auto local = flow_->local_address();
    inbound_ctx_.registered = netcheck::endpoint_text(local ? netcheck::address_text(*local) : "?", flow_->local_port());
    inbound_ctx_.through = netcheck::endpoint_text(targets_[index_]);
    inbound_ctx_.contact = facts.contact;
    inbound_ctx_.received = facts.received;
    inbound_ctx_.rport = facts.rport;
    inbound_req_.aor = acct_.aor;
    inbound_req_.timeout = timeout_;
    inbound_req_.timers = settings_.timers;
    inbound_req_.trace = settings_.trace;
    second_.emplace(ctx_.io, flow_->remote(), inbound_opts_, tls_);
    auto self = shared_from_this();
    async_inbound(*flow_, *second_, inbound_req_, ctx_.ids, [self, proceed = std::move(proceed)](inbound_outcome o) {
      self->second_->close();
      // Cut short by a signal, it proved nothing either way.
      if (self->interrupted()) o.record = {"skipped", 0, o.record.elapsed_ms};
      if (auto alg = inbound_alg_finding(o)) add_finding(self->rep_.findings, std::move(*alg));
      self->inbound_ = std::move(o);
      self->rep_.inbound = self->inbound_->record;
      self->measure_lifetime(std::move(proceed));
    });
  }

  // --nat-lifetime, once a request to the AOR reached the registered flow: how long does an
  // idle binding stay reachable? (probe/registration/nat_lifetime.hpp). Our own binding
  // stays in place meanwhile; the measurement removes the ones it makes.
  void measure_lifetime(std::function<void()> proceed) {
    if (!settings_.nat_lifetime) return proceed();
    nat_lifetime_record skipped;
    skipped.max_idle_s = static_cast<long>(settings_.nat_lifetime->count());
    skipped.method = "none";
    if (interrupted()) skipped.stopped = "interrupted";
    else if (targets_[index_].t != netcheck::transport::udp)
      skipped.stopped = "the registration went over " + std::string(netcheck::to_string(targets_[index_].t)) +
                        ": the lifetime is measured for UDP";
    else if (inbound_->record.result != "reached")
      skipped.stopped = "the inbound OPTIONS did not reach the registered flow: there is no binding lifetime to measure";
    if (!skipped.stopped.empty()) {
      rep_.nat_lifetime = std::move(skipped);
      return proceed();
    }
    lifetime_req_.io = &ctx_.io;
    lifetime_req_.target = flow_->remote();
    lifetime_req_.options = inbound_opts_;
    lifetime_req_.acct = &acct_;
    lifetime_req_.settings = settings_;
    lifetime_req_.max_idle = *settings_.nat_lifetime;
    lifetime_req_.register_timeout = timeout_;
    lifetime_req_.ids = &ctx_.ids;
    lifetime_req_.interrupt = ctx_.interrupt;
    lifetime_req_.progress = settings_.progress;
    auto self = shared_from_this();
    lifetime_ = async_nat_lifetime(lifetime_req_, [self, proceed = std::move(proceed)](nat_lifetime_record r) {
      self->lifetime_ = {};
      self->rep_.nat_lifetime = std::move(r);
      proceed();
    });
  }

  // Registered, but the request to the AOR did not reach us: the run's verdict
  // (inbound_unreachable), with the registration's evidence after the inbound's.
  void conclude_inbound() {
    if (!inbound_ || rep_.primary.code != diagnosis_code::registered || inbound_->record.result == "reached" ||
        inbound_->record.result == "skipped")
      return;
    auto evidence = inbound_evidence(*inbound_, inbound_ctx_);
    for (const auto& e : rep_.primary.evidence) evidence.push_back("the REGISTER: " + e);
    rep_.primary = {diagnosis_code::inbound_unreachable, std::move(evidence)};
  }

  // What the binding's lifetime means for calls: measured (--nat-lifetime) shorter than the
  // granted expiry, or — reached through a NAT over UDP with a long expiry — worth measuring.
  void note_nat_lifetime() {
    if (!rep_.registration || rep_.registration->expires < 0 || !inbound_ || inbound_->record.result != "reached") return;
    const auto granted = rep_.registration->expires;
    if (const auto& n = rep_.nat_lifetime) {
      if (n->dead_after_s && granted > *n->dead_after_s)
        add_finding(rep_.findings, {finding_code::nat_binding_short,
                                    "an idle binding was still reachable after " + std::to_string(n->alive_after_s) +
                                        " s but gone after " + std::to_string(*n->dead_after_s) +
                                        " s, and the registrar expects a refresh only every " + std::to_string(granted) +
                                        " s: keep-alives every " + std::to_string(n->recommended_keepalive_s) + " s or less"});
      return;
    }
    constexpr std::int64_t nat_timeouts_end = 120;  // the usual UDP mapping timeouts: 30-120 s
    if (inbound_ctx_.transport != "udp" || granted <= nat_timeouts_end) return;
    auto local_host = inbound_ctx_.registered.substr(0, inbound_ctx_.registered.rfind(':'));
    if (local_host.size() > 2 && local_host.front() == '[') local_host = local_host.substr(1, local_host.size() - 2);
    const auto local_port = inbound_ctx_.registered.substr(inbound_ctx_.registered.rfind(':') + 1);
    const bool other_host = !inbound_ctx_.received.empty() && inbound_ctx_.received != local_host;
    const bool other_port = inbound_ctx_.rport && std::to_string(*inbound_ctx_.rport) != local_port;
    // No NAT between us and the registrar, unless a SIP ALG hid it (it maps the 200 OK back).
    if (!other_host && !other_port && inbound_->via_rewritten.empty()) return;
    add_finding(rep_.findings,
                {finding_code::nat_lifetime_unmeasured,
                 "the registrar saw the REGISTER from " + (inbound_ctx_.received.empty() ? local_host : inbound_ctx_.received) +
                     (inbound_ctx_.rport ? ":" + std::to_string(*inbound_ctx_.rport) : std::string()) + ", not " +
                     inbound_ctx_.registered + ", and granted " + std::to_string(granted) + " s"});
  }

  // What a TLS connection showed: the name checked (report.tls), an expiring certificate,
  // and a failed check that --insecure let pass (never silent).
  void note_tls(const netcheck::tls_report& tls) {
    const auto where = netcheck::endpoint_text(targets_[index_]);
    if (tls.has_certificate) rep_.tls = reach::tls_record_of(where, tls);  // a name was checked
    if (auto expiring = tls.has_certificate ? reach::certificate_expiry_finding(where, tls) : std::nullopt;
        expiring && !cert_warned_) {
      cert_warned_ = true;
      add_finding(rep_.findings, std::move(*expiring));
    }
    if (auto skipped = reach::unverified_certificate_finding(where, tls)) add_finding(rep_.findings, std::move(*skipped));
  }

  void on_registered(exchange_outcome o) {
    auto& rec = rep_.targets[index_];
    stage_ = stage::locating;  // until the next step says otherwise (a failover connects again)
    rep_.transactions.insert(rep_.transactions.end(), std::make_move_iterator(o.transactions.begin()),
                             std::make_move_iterator(o.transactions.end()));
    if (o.primary.code == diagnosis_code::redirected && !redirected_ && follow_redirect(o)) return;
    // RFC 3263 §4.3: a transport failure or a 503 sends the client to the next target.
    const bool failover = (!o.sip_answered && o.network_error) || o.final_status == 503;
    if (failover && index_ + 1 < targets_.size()) {
      // Keep every line of evidence: after the failover this is all the report keeps of
      // the target (a 503's Retry-After, the replies that were not SIP).
      for (const auto& e : o.primary.evidence) rec.result += (rec.result.empty() ? "" : "; ") + e;
      if (rec.result.empty()) rec.result = "failed";
      failures_.push_back({o.primary.code, rec.result, netcheck::endpoint_text(targets_[index_])});
      flow_->close();
      ++index_;
      return next_target();
    }
    rec.result = describe(o.primary.code).code.data();
    rep_.primary = std::move(o.primary);
    for (auto& f : o.findings) add_finding(rep_.findings, std::move(f));
    rep_.registration = std::move(o.registration);
    conclude_inbound();
    note_nat_lifetime();
    if (!failures_.empty() && (o.sip_answered)) {
      add_finding(rep_.findings,
                  {finding_code::srv_failover, failures_.front().target + " failed (" + failures_.front().what + "); " +
                                                   netcheck::endpoint_text(targets_[index_]) + " answered"});
    }
    if (!failures_.empty() && !o.sip_answered && o.primary.code != diagnosis_code::interrupted) {
      failures_.push_back({rep_.primary.code, rec.result, netcheck::endpoint_text(targets_[index_])});
      return conclude_failure();
    }
    flow_->close();
    finish();
  }

  // RFC 3261 §21.3: a 3xx names where to register instead. We follow it once, through
  // RFC 3263 again; the evidence keeps the redirect so the report tells the whole story.
  bool follow_redirect(const exchange_outcome& o) {
    if (o.redirect_to.empty()) return false;
    auto target = locate::parse_dns_target(o.redirect_to);
    if (!target) return false;
    redirected_ = true;
    redirect_evidence_ = o.primary.evidence;
    redirect_evidence_.push_back("followed the redirect to " + o.redirect_to);
    rep_.targets[index_].result = "redirected to " + o.redirect_to;
    flow_->close();
    req_.host = target->host;
    req_.port = target->port;
    if (target->transport) req_.forced = target->transport;
    req_.secure = req_.secure || target->secure();
    failures_.clear();
    index_ = rep_.targets.size();
    targets_.clear();
    netcheck::locate_limits limits;
    limits.deadline = std::max(remaining(), milliseconds(1));
    auto self = shared_from_this();
    netcheck::async_locate(*resolver_, req_, limits, ctx_.rng, [self](const netcheck::resolution& r) { self->on_located(r); });
    return true;
  }

  // Every target failed without a SIP answer: the catalog's network-level reasoning.
  void conclude_failure() {
    network_outcome n;
    n.unreachable = !failures_.empty();  // until a target failed another way
    std::vector<std::string> evidence;
    for (const auto& f : failures_) {
      if (f.code != diagnosis_code::network_unreachable) n.unreachable = false;
      evidence.push_back(f.target + ": " + f.what);
      if (f.code == diagnosis_code::tls_failure) n.tls_failed = true;
      if (f.code == diagnosis_code::port_unreachable) n.refused = true;
      if (f.code == diagnosis_code::malformed_response) n.malformed_reply = true;
      if (f.code == diagnosis_code::service_unavailable) {
        rep_.primary = {diagnosis_code::service_unavailable, {}};
      }
    }
    if (rep_.primary.code != diagnosis_code::service_unavailable) rep_.primary.code = classify_network(n);
    rep_.primary.evidence = std::move(evidence);
    if (flow_) flow_->close();
    finish();
  }

  // One step's duration for report.phases, replaced when the step runs again (a failover
  // connects anew).
  template <typename Duration>
  void set_phase(const std::string& name, Duration d) {
    const double s = std::chrono::duration<double>(d).count();
    for (auto& p : rep_.phases)
      if (p.name == name) return void(p.seconds = s);
    rep_.phases.push_back({name, s});
  }

  // challenge: the first REGISTER to its 401/407; register: the REGISTER that got the
  // final answer after it (the removal's REGISTER comes later and is not counted).
  void note_exchange_phases() {
    bool challenged = false;
    for (const auto& t : rep_.transactions) {
      if (t.request != "REGISTER" || t.rtt_ms < 0) continue;
      if (t.status == 401 || t.status == 407) {
        if (!challenged) set_phase("challenge", std::chrono::duration<double, std::milli>(t.rtt_ms));
        challenged = true;
        continue;
      }
      set_phase("register", std::chrono::duration<double, std::milli>(t.rtt_ms));
      break;
    }
    if (inbound_ && inbound_->record.result != "skipped")
      set_phase("inbound", std::chrono::duration<double, std::milli>(inbound_->record.elapsed_ms));
  }

  void finish() {
    stage_ = stage::done;
    note_exchange_phases();
    // Asked for, but there was no binding to reach.
    if (settings_.inbound && !rep_.inbound) rep_.inbound = inbound_record{"skipped", 0, 0};
    if (settings_.nat_lifetime && !rep_.nat_lifetime) {
      rep_.nat_lifetime.emplace();
      rep_.nat_lifetime->max_idle_s = static_cast<long>(settings_.nat_lifetime->count());
      rep_.nat_lifetime->method = "none";
      rep_.nat_lifetime->stopped = "nothing was registered";
    }
    if (redirected_)
      rep_.primary.evidence.insert(rep_.primary.evidence.begin(), redirect_evidence_.begin(), redirect_evidence_.end());
    rep_.elapsed_ms = std::chrono::duration<double, std::milli>(clock_type::now() - start_).count();
    auto done = std::move(done_);
    done(std::move(rep_));
  }

  // What a stop request can cut short (on_interrupt).
  enum class stage { locating, connecting, registering, done };

  struct failure {
    diagnosis_code code = diagnosis_code::no_response;
    std::string what;
    std::string target;
  };

  run_context ctx_;
  const account& acct_;
  const register_settings& settings_;
  std::function<void(report)> done_;
  milliseconds timeout_;
  clock_type::time_point start_, deadline_, target_deadline_;
  netcheck::locate_request req_;
  netcheck::flow_options flow_opts_;
  netcheck::resolver* resolver_ = nullptr;  // own_resolver_ or a shared one
  std::unique_ptr<netcheck::resolver> own_resolver_;
  netcheck::tls_context* tls_ = nullptr;  // own_tls_ or a shared one
  std::unique_ptr<netcheck::tls_context> own_tls_;
  netcheck::link_pool* links_ = nullptr;
  std::optional<netcheck::flow> flow_;
  netcheck::flow_options inbound_opts_;
  std::optional<netcheck::flow> second_;  // the inbound check's
  inbound_request inbound_req_;
  inbound_context inbound_ctx_;
  std::optional<inbound_outcome> inbound_;
  nat_lifetime_request lifetime_req_;
  nat_lifetime_handle lifetime_;
  std::vector<netcheck::target> targets_;
  std::size_t index_ = 0;
  std::vector<failure> failures_;
  stage stage_ = stage::locating;
  bool cert_warned_ = false;
  bool redirected_ = false;
  bool prelocated_ = false;  // diagnose and batch locate once for many: no dns phase here
  std::vector<std::string> redirect_evidence_;
  report rep_;
};

}  // namespace

void async_register_run(run_context ctx, const account& acct, const register_settings& settings, const route_options& route,
                        milliseconds timeout, std::function<void(report)> done, std::optional<prelocated> located) {
  auto op = std::allocate_shared<run_op>(netcheck::recycling_allocator<run_op>{}, ctx, acct, settings, route, timeout,
                                         std::move(done), located ? &located->request : nullptr);
  op->start(located ? std::move(located->answer) : nullptr);
}

}  // namespace probe::registration
