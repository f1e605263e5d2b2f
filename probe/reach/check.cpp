#include "probe/reach/check.hpp"

#include "netcheck/endpoint.hpp"
#include "netcheck/error.hpp"
#include "netcheck/verdict.hpp"
#include "sip/headers.hpp"
#include "sip/serialize.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>

namespace probe::reach {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

double ms(milliseconds d) { return static_cast<double>(d.count()); }

class check_op : public std::enable_shared_from_this<check_op> {
 public:
  check_op(boost::asio::io_context& io, sip::id_factory& ids, netcheck::tls_context* tls, netcheck::target t,
           const check_settings& s, clock_type::time_point deadline, std::function<void(target_check)> done)
      : io_(io), ids_(ids), tls_(tls), settings_(s), deadline_(deadline), done_(std::move(done)) {
    result_.target = std::move(t);
  }

  void start() {
    const auto& t = result_.target;
    auto ep = netcheck::endpoint_for(t, settings_.server_name.empty() ? t.host : settings_.server_name);
    if (!ep || (t.t == netcheck::transport::tls && tls_ == nullptr)) {
      result_.verdict = netcheck::probe_verdict::no_answer;
      result_.detail = !ep ? "not an address: " + t.address : "TLS is not available";
      return finish();
    }
    flow_ = std::make_unique<netcheck::flow>(io_, *ep, settings_.flow, tls_);
    auto self = shared_from_this();
    flow_->async_connect(left(), [self](std::error_code e) { self->on_connect(e); });
  }

 private:
  milliseconds left() const {
    return std::max(std::chrono::duration_cast<milliseconds>(deadline_ - clock_type::now()), milliseconds(1));
  }

  void on_connect(std::error_code ec) {
    if (auto c = flow_->connect_time()) result_.connect_ms = ms(*c);
    if (auto h = flow_->handshake_time()) result_.handshake_ms = ms(*h);
    if (result_.target.t == netcheck::transport::tls) result_.tls = flow_->tls();
    if (ec) return fail(ec);
    send_options();
  }

  void send_options() {
    const auto local = flow_->local_address();
    const std::string host = local ? local->to_string() : "127.0.0.1";
    result_.local = netcheck::endpoint_text(host, flow_->local_port());
    const auto& t = result_.target;
    sip::request_spec spec;
    spec.method = "OPTIONS";
    // RFC 3261 §11.1: OPTIONS to the server itself; the host is the name we were given.
    spec.request_uri = std::string(t.t == netcheck::transport::tls ? "sips:" : "sip:") +
                       netcheck::endpoint_text(t.host.empty() ? t.address : t.host, t.port);
    spec.to_uri = spec.request_uri;
    spec.from_uri = "sip:sipprobe@" + sip::host_for_uri(host);
    spec.from_tag = ids_.tag();
    spec.call_id = ids_.call_id();
    spec.cseq = 1;
    spec.via.transport = via_transport(t.t);
    spec.via.host = host;
    spec.via.port = flow_->local_port();
    spec.via.branch = ids_.branch();
    spec.extra.push_back({"Accept", "application/sdp"});
    auto built = ids_.error() ? std::nullopt : transaction_for(spec, settings_.timers, left());
    if (!built) {
      result_.verdict = netcheck::probe_verdict::no_answer;
      result_.detail = "could not build OPTIONS";
      return finish();
    }
    auto& ts = *built;
    ts.trace = settings_.trace;
    auto self = shared_from_this();
    async_transaction(*flow_, std::move(ts), [self](transaction_result r) { self->on_answer(std::move(r)); });
  }

  void on_answer(transaction_result r) {
    result_.retransmissions = r.retransmissions;
    if (!r.response) {
      if (!r.malformed.empty()) {
        result_.verdict = netcheck::probe_verdict::bad_reply;
        result_.detail = r.malformed.front();
        return finish();
      }
      return fail(r.ec);
    }
    const auto& m = r.response->view();
    result_.verdict = netcheck::probe_verdict::ok;
    result_.rtt_ms = r.rtt_ms;
    result_.status = m.status;
    result_.reason = std::string(m.reason);
    result_.detail = std::to_string(m.status) + " " + result_.reason;
    std::string_view server;
    if (!sip::get::server(m, server) || !sip::get::user_agent(m, server)) result_.server = std::string(server);
    std::vector<std::string_view> allow;
    if (!sip::get::allow(m, allow))
      for (auto a : allow) result_.allow.emplace_back(a);
    sip::via top;
    if (!sip::get::top_via(m, top)) {
      if (auto rec = top.received()) result_.received = std::string(*rec);
      result_.rport = top.rport();
    }
    finish();
  }

  void fail(std::error_code ec) {
    const auto& tls = flow_ ? flow_->tls() : netcheck::tls_report{};
    auto v = netcheck::verdict_for(ec);
    switch (v) {
      case netcheck::probe_verdict::refused:
        result_.detail = result_.target.t == netcheck::transport::udp ? "ICMP port unreachable"
                                                                      : "connection refused (TCP reset)";
        break;
      case netcheck::probe_verdict::tls_error: result_.detail = tls_failure_detail(ec, tls); break;
      case netcheck::probe_verdict::no_answer: result_.detail = "no answer within the time limit"; break;
      case netcheck::probe_verdict::closed:
        // Something listens and hung up without a word: no answer, not a broken one.
        v = netcheck::probe_verdict::no_answer;
        result_.detail = network_error_detail(ec);
        break;
      default: result_.detail = network_error_detail(ec); break;
    }
    // The catalog knows six verdicts; a local error is no answer.
    if (v == netcheck::probe_verdict::error || v == netcheck::probe_verdict::ok) v = netcheck::probe_verdict::no_answer;
    result_.verdict = v;
    if (v == netcheck::probe_verdict::no_answer && result_.retransmissions > 0)
      result_.detail += " (" + std::to_string(result_.retransmissions) + " retransmissions)";
    finish();
  }

  void finish() {
    if (flow_) flow_->close();
    auto done = std::move(done_);
    done(std::move(result_));
  }

  boost::asio::io_context& io_;
  sip::id_factory& ids_;
  netcheck::tls_context* tls_;
  const check_settings& settings_;
  clock_type::time_point deadline_;
  std::function<void(target_check)> done_;
  std::unique_ptr<netcheck::flow> flow_;
  target_check result_;
};

}  // namespace

void async_reach(boost::asio::io_context& io, sip::id_factory& ids, netcheck::tls_context* tls,
                 std::vector<netcheck::target> targets, const check_settings& settings,
                 std::function<void(std::vector<target_check>)> done) {
  struct gather {
    std::vector<target_check> checks;
    std::size_t left = 0;
    std::function<void(std::vector<target_check>)> done;
  };
  auto g = std::make_shared<gather>();
  g->checks.resize(targets.size());
  g->left = targets.size();
  g->done = std::move(done);
  if (targets.empty()) {
    boost::asio::post(io, [g] { g->done({}); });
    return;
  }
  const auto deadline = clock_type::now() + settings.timeout;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    std::make_shared<check_op>(io, ids, tls, targets[i], settings, deadline, [g, i](target_check c) {
      g->checks[i] = std::move(c);
      if (--g->left == 0) g->done(std::move(g->checks));
    })->start();
  }
}

std::optional<diagnosis> diagnosis_from(const std::vector<target_check>& checks) {
  network_outcome n;
  n.unreachable = true;  // until a failure says otherwise
  diagnosis d;
  bool any_failed = false;
  for (const auto& c : checks) {
    const std::string where = std::string(netcheck::to_string(c.target.t)) + " " + netcheck::endpoint_text(c.target);
    using netcheck::probe_verdict;
    if (c.verdict == probe_verdict::ok) {
      n.other_transport_answered = true;
      continue;
    }
    any_failed = true;
    d.evidence.push_back(where + ": " + std::string(netcheck::to_string(c.verdict)) + " (" + c.detail + ")");
    if (c.verdict == probe_verdict::refused) n.refused = true;
    if (c.verdict == probe_verdict::tls_error) n.tls_failed = true;
    if (c.verdict == probe_verdict::bad_reply) n.malformed_reply = true;
    if (c.verdict != probe_verdict::unreachable) n.unreachable = false;
  }
  if (!any_failed) return std::nullopt;
  for (const auto& c : checks)
    if (c.verdict == netcheck::probe_verdict::ok)
      d.evidence.push_back(std::string(netcheck::to_string(c.target.t)) + " " + netcheck::endpoint_text(c.target) +
                           " answers: " + c.detail);
  d.code = classify_network(n);
  return d;
}

bool is_unreachable(std::error_code ec) noexcept {
  return ec == std::errc::network_unreachable || ec == std::errc::host_unreachable;
}

std::string network_error_detail(std::error_code ec) {
  if (ec == std::errc::network_unreachable)
    return "no route to the network (" + ec.message() +
           "): the request never left this host — check its interface, address and routes";
  if (ec == std::errc::host_unreachable)
    return "no route to the host (" + ec.message() +
           "): nothing answered for it on the local network, or a router said it cannot be reached";
  // A stream the peer ended (FIN, or a reset for our unread request) before any byte came.
  if (ec == netcheck::errc::connection_closed || ec == std::errc::connection_reset || ec == std::errc::broken_pipe)
    return "the peer accepted the connection and closed it without sending anything (" + ec.message() +
           "): something listens there but did not answer SIP — a port for another protocol (TLS?), or a server "
           "that drops this client";
  return ec.message();
}

namespace {

// "certificate does not verify: hostname mismatch (name_mismatch, checked against "x")".
std::string verification_failure(const netcheck::tls_report& tls) {
  return "certificate does not verify: " + tls.verify_reason + " (" + std::string(netcheck::to_string(tls.verdict)) +
         (tls.checked_name.empty() ? "" : ", checked against \"" + tls.checked_name + "\"") + ")";
}

}  // namespace

std::string tls_failure_detail(std::error_code ec, const netcheck::tls_report& tls) {
  if (ec != netcheck::errc::tls_verify_failed) return tls.handshake_error.empty() ? ec.message() : tls.handshake_error;
  return verification_failure(tls);
}

std::optional<finding> unverified_certificate_finding(const std::string& endpoint, const netcheck::tls_report& tls) {
  if (!tls.handshake_ok() || !tls.verification_skipped || tls.verdict == netcheck::tls_verdict::ok) return std::nullopt;
  return finding{finding_code::tls_certificate_unverified,
                 "the " + verification_failure(tls) + " at " + endpoint + "; --insecure went on regardless"};
}

tls_record tls_record_of(const std::string& endpoint, const netcheck::tls_report& tls) {
  tls_record r;
  r.endpoint = endpoint;
  r.checked_name = tls.checked_name;
  r.verdict = std::string(netcheck::to_string(tls.verdict));
  if (tls.verdict != netcheck::tls_verdict::ok) r.reason = tls.verify_reason;
  r.verification_skipped = tls.verification_skipped && tls.verdict != netcheck::tls_verdict::ok;
  if (tls.has_certificate) r.not_after = tls.not_after;
  return r;
}

std::optional<finding> certificate_expiry_finding(const std::string& endpoint, const netcheck::tls_report& tls) {
  if (!tls.has_certificate || !tls.expires_within(30)) return std::nullopt;
  // days_left is floored (an hour past not_after is -1): a past date is named, not counted.
  const long days = *tls.days_left;
  const std::string when = days < 0 ? "expired " + tls.not_after
                           : days == 0
                               ? "expires " + tls.not_after + ", within a day"
                               : "expires " + tls.not_after + ", in " + std::to_string(days) + (days == 1 ? " day" : " days");
  return finding{finding_code::tls_certificate_expiring, "the certificate of " + endpoint + " (" + tls.subject_cn + ") " + when};
}

std::vector<finding> findings_from(const std::vector<target_check>& checks) {
  std::vector<finding> found;
  bool expiring = false;  // the first expiring certificate is the one reported
  for (const auto& c : checks) {
    if (!c.tls) continue;
    const auto where = netcheck::endpoint_text(c.target);
    if (auto f = certificate_expiry_finding(where, *c.tls); f && !expiring) {
      expiring = true;
      add_finding(found, std::move(*f));
    }
    if (auto f = unverified_certificate_finding(where, *c.tls)) add_finding(found, std::move(*f));
  }
  return found;
}

nlohmann::json tls_to_json(const netcheck::tls_report& t) {
  nlohmann::json j = {{"protocol", t.protocol},
                      {"cipher", t.cipher},
                      {"sni", t.sni},
                      {"checked_name", t.checked_name},
                      {"subject", t.subject},
                      {"subject_cn", t.subject_cn},
                      {"san_dns", t.san_dns},
                      {"san_ip", t.san_ip},
                      {"issuer", t.issuer},
                      {"not_before", t.not_before},
                      {"not_after", t.not_after},
                      {"verify_code", t.verify_code},
                      {"verify_reason", t.verify_reason},
                      {"verdict", std::string(netcheck::to_string(t.verdict))},
                      {"name_checked", t.name_checked},
                      {"name_matched", t.name_matched},
                      {"verification_skipped", t.verification_skipped},
                      {"handshake_error", t.handshake_error}};
  j["days_left"] = t.days_left ? nlohmann::json(*t.days_left) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json to_json(const target_check& c) {
  auto opt_ms = [](double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(std::round(v * 10) / 10); };
  nlohmann::json j = {{"transport", std::string(netcheck::to_string(c.target.t))},
                      {"host", c.target.host},
                      {"address", c.target.address},
                      {"port", c.target.port},
                      {"via", std::string(netcheck::to_string(c.target.found_by))},
                      {"verdict", std::string(netcheck::to_string(c.verdict))},
                      {"detail", c.detail},
                      {"rtt_ms", opt_ms(c.rtt_ms)},
                      {"connect_ms", opt_ms(c.connect_ms)},
                      {"handshake_ms", opt_ms(c.handshake_ms)},
                      {"retransmissions", c.retransmissions},
                      {"status", c.status},
                      {"reason", c.reason},
                      {"server", c.server},
                      {"allow", c.allow},
                      {"local", c.local},
                      {"received", c.received}};
  j["rport"] = c.rport ? nlohmann::json(*c.rport) : nlohmann::json(nullptr);
  j["tls"] = c.tls ? tls_to_json(*c.tls) : nlohmann::json(nullptr);
  return j;
}

}  // namespace probe::reach
