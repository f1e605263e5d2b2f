#include "probe/registration/inbound.hpp"

#include "netcheck/endpoint.hpp"
#include "netcheck/error.hpp"
#include "probe/reach/check.hpp"
#include "probe/reach/responder.hpp"
#include "sip/headers.hpp"
#include "sip/parse.hpp"
#include "sip/serialize.hpp"

#include <memory>

namespace probe::registration {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

std::string_view classify_inbound(int status, bool arrived) noexcept {
  if (status >= 200 && status < 300) return arrived ? "reached" : "not_reached";
  // RFC 3261 §16.7 step 6: a proxy whose branch timed out answers 408 itself.
  if (status == 0 || status == 408) return "not_reached";
  return "rejected";
}

std::vector<std::string> inbound_evidence(const inbound_outcome& o, const inbound_context& c) {
  std::vector<std::string> ev;
  std::string sent = "OPTIONS to " + c.aor + " sent from " + (o.second_local.empty() ? "a second socket" : o.second_local) +
                     " through " + c.through + " over " + c.transport + ": ";
  if (o.record.status != 0) sent += std::to_string(o.record.status) + " ";
  ev.push_back(sent + o.reason + " after " + std::to_string(static_cast<long>(o.record.elapsed_ms)) + " ms");
  if (o.arrived) {
    ev.push_back("it arrived on the registered flow (" + c.registered + "), which answered it");
  } else if (o.requests_seen == 0) {
    ev.push_back("nothing arrived on the registered flow (" + c.registered + ")");
  } else {
    ev.push_back(std::to_string(o.requests_seen) + " other request(s) arrived on the registered flow (" + c.registered +
                 "), not this OPTIONS");
  }
  std::string seen;
  if (!c.received.empty() || c.rport) {
    seen = "the REGISTER came from " + (c.received.empty() ? std::string("its Via host") : c.received) +
           (c.rport ? ":" + std::to_string(*c.rport) : std::string()) + " (Via received/rport of the 200 OK)";
  } else {
    seen = "the 200 OK's Via has no received/rport: the registrar did not say where the REGISTER came from";
  }
  ev.push_back("the registrar holds the Contact " + c.contact + "; " + seen);
  return ev;
}

std::optional<finding> inbound_alg_finding(const inbound_outcome& o) {
  if (o.via_rewritten.empty()) return std::nullopt;
  return finding{finding_code::sip_alg_suspected,
                 "the inbound OPTIONS reached the registered flow with our Via rewritten: " + o.via_rewritten +
                     " (a proxy never changes a Via it did not add, RFC 3261 §16.6)"};
}

namespace {

// How often the registered flow's read comes back to see whether the OPTIONS is over (the
// end of the OPTIONS also ends the slice at once: flow::stop_waiting). A read cannot be
// cancelled without closing the flow, which the removal still needs.
constexpr milliseconds listen_slice{50};

class inbound_op : public std::enable_shared_from_this<inbound_op> {
 public:
  inbound_op(netcheck::flow& registered, netcheck::flow& second, const inbound_request& req, sip::id_factory& ids,
             std::function<void(inbound_outcome)> done)
      : registered_(registered),
        second_(second),
        req_(req),
        ids_(ids),
        done_(std::move(done)),
        stream_(registered.remote().proto != netcheck::transport::udp),
        framer_(reach::sip_framer(registered.remote().proto)) {}

  // Lifetime as transaction_op's: self_ until the OPTIONS ended and every handler given
  // to the flows has run.
  void start() {
    self_ = shared_from_this();
    start_ = clock_type::now();
    to_tag_ = ids_.tag();
    const auto local = registered_.local_address();
    on_flow_ = " (inbound check, on the registered flow " +
               netcheck::endpoint_text(local ? netcheck::address_text(*local) : "?", registered_.local_port()) + ")";
    ++pending_;
    second_.async_connect(req_.timeout, [this](std::error_code ec) {
      --pending_;
      if (ec) {
        out_.reason = "the second " + std::string(netcheck::to_string(second_.remote().proto)) +
                      " connection failed: " + reach::network_error_detail(ec);
        options_over();
      } else {
        send_options();
      }
      release_if_done();
    });
  }

 private:
  milliseconds left() const {
    return std::max(req_.timeout - std::chrono::duration_cast<milliseconds>(clock_type::now() - start_), milliseconds(1));
  }

  void send_options() {
    const auto local = second_.local_address();
    const std::string host = local ? netcheck::address_text(*local) : "127.0.0.1";
    out_.second_local = netcheck::endpoint_text(host, second_.local_port());
    const auto proto = second_.remote().proto;
    sip::request_spec spec;
    spec.method = "OPTIONS";
    // The AOR itself, as a caller addresses the account (RFC 3261 §8.1.1.1).
    spec.request_uri = req_.aor.scheme + ":" + req_.aor.user + "@" + sip::host_for_uri(req_.aor.host);
    if (req_.aor.port != 0) spec.request_uri += ":" + std::to_string(req_.aor.port);
    if (!req_.request_uri.empty()) spec.request_uri = req_.request_uri;
    spec.to_uri = spec.request_uri;
    // A caller from outside the domain (RFC 2606 "invalid"): a registrar asks its own
    // users for credentials, not those who call them.
    spec.from_uri = "sip:sipprobe@invalid";
    spec.from_tag = ids_.tag();
    spec.call_id = ids_.call_id();
    call_id_ = spec.call_id;
    spec.cseq = 1;
    spec.via.transport = reach::via_transport(proto);
    spec.via.host = host;
    spec.via.port = second_.local_port();
    spec.via.branch = ids_.branch();
    sent_by_ = netcheck::endpoint_text(host, second_.local_port());
    branch_ = spec.via.branch;
    auto built = ids_.error() ? std::nullopt : reach::transaction_for(spec, req_.timers, left());
    if (!built) {
      out_.reason = "could not build the OPTIONS";
      return options_over();
    }
    auto& ts = *built;
    if (req_.trace)
      ts.trace = [trace = req_.trace, local = out_.second_local](std::string_view direction, std::string_view bytes) {
        trace(std::string(direction) + " (inbound check, from " + local + ")", bytes);
      };
    ++pending_;
    reach::async_transaction(second_, std::move(ts), [this](reach::transaction_result r) {
      --pending_;
      on_final(std::move(r));
      release_if_done();
    });
    listen();
  }

  void on_final(reach::transaction_result r) {
    if (r.response) {
      out_.record.status = r.response->view().status;
      out_.reason = std::string(r.response->view().reason);
    } else if (r.ec == netcheck::errc::receive_timeout) {
      out_.reason = "no final response after " + std::to_string(static_cast<long>(r.elapsed_ms)) + " ms";
    } else {
      out_.reason = reach::network_error_detail(r.ec);
    }
    options_over();
  }

  void options_over() {
    over_ = true;
    out_.record.elapsed_ms = std::chrono::duration<double, std::milli>(clock_type::now() - start_).count();
    registered_.stop_waiting();  // the listening slice ends now, not up to listen_slice later
  }

  // The registered flow, while the OPTIONS is in flight: answer what arrives.
  void listen() {
    if (over_) return;
    ++pending_;
    registered_.async_receive(framer_, listen_slice, [this](std::error_code ec, netcheck::received r) {
      --pending_;
      on_incoming(ec, std::move(r));
      release_if_done();
    });
  }

  void on_incoming(std::error_code ec, netcheck::received r) {
    if (ec == netcheck::errc::receive_timeout) return listen();
    if (ec) return;  // the flow failed or closed: nothing more will arrive on it
    const auto in = reach::answer_incoming(r.bytes, stream_, to_tag_);
    if (in.what == reach::incoming::kind::request) {
      if (req_.trace) req_.trace("received" + on_flow_, r.bytes);
      ++out_.requests_seen;
      if (in.call_id == call_id_) {
        out_.arrived = true;
        note_via(r.bytes);
      }
    }
    if (!in.reply.empty() && answered_ < reach::max_requests_answered) {
      ++answered_;
      if (in.what == reach::incoming::kind::keepalive) ++out_.keepalives_answered;
      if (req_.trace && in.what == reach::incoming::kind::request) req_.trace("sent" + on_flow_, in.reply);
      ++pending_;
      registered_.async_send(in.reply, left(), [this](std::error_code, milliseconds) {
        --pending_;
        release_if_done();
      });
    }
    listen();
  }

  // Our Via in the request that reached the registered flow: the sent-by we wrote, unless
  // something in the path rewrote it.
  void note_via(std::string_view bytes) {
    sip::message_view m;
    if (sip::parse(bytes, m, stream_ ? sip::framing::stream : sip::framing::datagram).ec) return;
    std::vector<sip::via> list;
    if (sip::get::vias(m, list)) return;
    for (const auto& v : list) {
      if (v.branch() != branch_) continue;
      const auto seen = netcheck::endpoint_text(std::string(v.host), v.port);
      if (seen != sent_by_) out_.via_rewritten = sent_by_ + " arrived as " + seen;
      return;
    }
  }

  // The last thing a handler does: may destroy the op.
  void release_if_done() {
    if (!over_ || pending_ != 0 || finished_) return;
    finished_ = true;
    out_.record.result = std::string(classify_inbound(out_.record.status, out_.arrived));
    auto last = std::move(self_);
    auto done = std::move(done_);
    done(std::move(out_));
  }

  std::shared_ptr<inbound_op> self_;
  netcheck::flow& registered_;
  netcheck::flow& second_;
  const inbound_request& req_;
  sip::id_factory& ids_;
  std::function<void(inbound_outcome)> done_;
  bool stream_;
  netcheck::framer framer_;
  clock_type::time_point start_;
  std::string to_tag_, call_id_, sent_by_, branch_;
  std::string on_flow_;  // for --trace: " (inbound check, on the registered flow 127.0.0.1:40000)"
  int pending_ = 0;
  int answered_ = 0;
  bool over_ = false, finished_ = false;
  inbound_outcome out_;
};

}  // namespace

void async_inbound(netcheck::flow& registered, netcheck::flow& second, const inbound_request& req, sip::id_factory& ids,
                   std::function<void(inbound_outcome)> done) {
  std::make_shared<inbound_op>(registered, second, req, ids, std::move(done))->start();
}

}  // namespace probe::registration
