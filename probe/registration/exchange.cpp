#include "probe/registration/exchange.hpp"

#include "netcheck/endpoint.hpp"
#include "netcheck/error.hpp"
#include "netcheck/recycling.hpp"
#include "probe/core/evidence.hpp"
#include "probe/reach/check.hpp"
#include "probe/registration/decide.hpp"
#include "sip/headers.hpp"

#include <algorithm>
#include <array>
#include <memory>

namespace probe::registration {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

expected<sip::uri, std::string> parse_aor(const std::string& text) {
  std::string t = text;
  if (t.find(':') == std::string::npos ||
      (t.rfind("sip:", 0) != 0 && t.rfind("sips:", 0) != 0 && t.find('@') != std::string::npos && t.find('@') < t.find(':')))
    t = "sip:" + t;
  sip::uri u;
  if (auto ec = sip::parse_uri(t, u)) return unexpected("the address of record is not a SIP URI (" + ec.message() + ")");
  if (u.scheme == "tel") return unexpected(std::string("a tel: URI is not an address of record: use sip:user@domain"));
  if (u.user.empty()) return unexpected(std::string("the address of record needs a user part (user@domain)"));
  return u;
}

namespace {

// Which request of the registration is on the wire.
enum class phase { register_, cleanup };

class register_op : public std::enable_shared_from_this<register_op> {
 public:
  register_op(netcheck::flow& f, const account& a, const register_settings& s, sip::id_factory& ids,
              clock_type::time_point deadline, std::function<void(exchange_outcome)> done, const run_interrupt* interrupt,
              while_registered hook)
      : flow_(f),
        acct_(a),
        set_(s),
        ids_(ids),
        deadline_(deadline),
        done_(std::move(done)),
        interrupt_(interrupt),
        hook_(std::move(hook)) {}

  // Lifetime: the op owns itself (self_) from start() to finish(); the transactions'
  // handlers hold a plain pointer (no allocation in std::function). Every path ends in
  // finish(), and a transaction calls its handler exactly once.
  void start() {
    self_ = shared_from_this();
    spec_.call_id = ids_.call_id();
    spec_.from_tag = ids_.tag();
    state_.expires = set_.expires;
    state_.query = set_.query;
    const auto proto = flow_.remote().proto;
    const auto local = flow_.local_address();
    // What every request of this registration shares; send() sets the rest.
    spec_.via.host = local ? netcheck::address_text(*local) : "127.0.0.1";
    spec_.via.port = flow_.local_port();
    spec_.via.transport = std::string(netcheck::to_string(proto));
    for (auto& ch : spec_.via.transport) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    sent_via_ = netcheck::endpoint_text(spec_.via.host, spec_.via.port);
    if (!set_.instance.empty()) spec_.contact_params = ";+sip.instance=\"<" + set_.instance + ">\"";
    if (set_.contact) {
      contact_ = *set_.contact;
    } else if (!set_.query) {  // a query sends no Contact and looks for none of ours
      contact_ = std::string(acct_.aor.scheme == "sips" ? "sips:" : "sip:") + acct_.aor.user + "@" + sent_via_;
      if (proto != netcheck::transport::udp) contact_ += ";transport=" + std::string(netcheck::to_string(proto));
    }
    auto& request_uri = spec_.request_uri;
    request_uri = acct_.aor.scheme + ":" + sip::host_for_uri(acct_.aor.host);
    if (acct_.aor.port != 0) request_uri += ":" + std::to_string(acct_.aor.port);
    spec_.to_uri = acct_.aor.to_string();
    spec_.from_uri = spec_.to_uri;
    spec_.user_agent = set_.user_agent;
    const auto& remote = flow_.remote();
    remote_text_ = netcheck::endpoint_text(netcheck::address_text(remote.address), remote.port);
    send(phase::register_);
  }

 private:
  struct challenge_state {
    std::optional<sip::digest_challenge> ch;
    sip::digest_qop qop = sip::digest_qop::none;
    std::uint32_t nc = 0;
    std::string note;
  };

  // The header that answers the challenge in `c` (none when there is none), or why it
  // cannot be made (sip::build_authorization's error).
  expected<std::optional<sip::header_field>, std::error_code> credentials(challenge_state& c, const char* header) {
    if (!c.ch) return std::optional<sip::header_field>();
    ++c.nc;  // RFC 7616 §3.4: nc counts the requests made with this nonce
    std::string cnonce = ids_.cnonce();
    sip::digest_inputs in;
    in.username = acct_.auth_user.empty() ? std::string_view(acct_.aor.user) : std::string_view(acct_.auth_user);
    in.password = acct_.credentials.password;
    in.ha1 = acct_.credentials.ha1;
    in.method = "REGISTER";
    in.uri = spec_.request_uri;
    in.cnonce = cnonce;
    in.nc = c.nc;
    std::string value;
    if (auto ec = sip::build_authorization(*c.ch, c.qop, in, value)) return unexpected(ec);
    return std::optional(sip::header_field{header, std::move(value)});
  }

  void send(phase p) {
    // A removal always goes out; a new registration attempt not once interrupted.
    if (p == phase::register_ && interrupt_ != nullptr && interrupt_->requested()) return finish_interrupted();
    phase_ = p;
    auto& spec = spec_;
    spec.cseq = ++cseq_;
    spec.via.branch = ids_.branch();
    spec.extra = set_.extra;
    if (!set_.instance.empty()) spec.extra.push_back({"Supported", "gruu"});
    if (p == phase::cleanup) {
      spec.contact = contact_;
      spec.expires = 0;  // RFC 3261 §10.2.2: remove this binding only
    } else if (!set_.query) {
      spec.contact = contact_;
      spec.expires = state_.expires;
    } else {
      spec.contact.reset();
      spec.contact_params.clear();
      spec.expires.reset();
    }
    auto www = credentials(www_, "Authorization");
    auto proxy = credentials(proxy_, "Proxy-Authorization");
    if (ids_.error()) return finish_local_error("random number generator failed");
    if (!www || !proxy)
      return finish_local_error("cannot answer the challenge: " + (!proxy ? proxy.error() : www.error()).message());
    spec.authorization = std::move(*www);
    if (*proxy) spec.extra.push_back(**proxy);
    state_.sent_authorization = spec.authorization.has_value();
    state_.sent_proxy_authorization = proxy->has_value();

    reach::transaction_spec t;
    if (auto ec = sip::build_wire(spec, t.wire))
      return finish_local_error(
          "cannot build REGISTER: a value is not allowed in a SIP message (--header, --contact, --user-agent?)");
    t.branch = spec.via.branch;
    t.method = "REGISTER";
    t.cseq = spec.cseq;
    t.timers = set_.timers;
    auto left = std::chrono::duration_cast<milliseconds>(deadline_ - clock_type::now());
    if (left <= milliseconds::zero()) return finish_timeout_before_send();
    t.timeout = left;

    auto& rec = out_.transactions.emplace_back();
    rec.request = "REGISTER";
    rec.cseq = spec.cseq;
    rec.transport = netcheck::to_string(flow_.remote().proto);
    rec.local = sent_via_;
    rec.remote = remote_text_;
    if (set_.ladder) rec.note = request_note(p, spec);
    if (set_.trace) {
      // The trace names both ends; what it prints is the wire, which holds a digest
      // response but never the password.
      t.trace = [trace = set_.trace, local = rec.local, remote = rec.remote, proto = rec.transport](std::string_view direction,
                                                                                                    std::string_view bytes) {
        const bool out = direction.rfind("sent", 0) == 0;
        trace(std::string(direction) + " " + proto + " " + (out ? local + " -> " + remote : remote + " -> " + local), bytes);
      };
    }

    reach::async_transaction(flow_, std::move(t), [this](reach::transaction_result r) { on_result(std::move(r)); });
  }

  std::string request_note(phase p, const sip::request_spec& spec) const {
    std::string note = p == phase::cleanup ? "remove our binding (Expires: 0)"
                                           : (set_.query ? "binding query" : "Expires " + std::to_string(state_.expires));
    if (spec.authorization && www_.ch)
      note += ", Digest " + std::string(sip::to_string(www_.ch->algorithm)) + " for realm \"" + www_.ch->realm + "\"";
    if (state_.sent_proxy_authorization && proxy_.ch)
      note += ", proxy Digest " + std::string(sip::to_string(proxy_.ch->algorithm)) + " for realm \"" + proxy_.ch->realm + "\"";
    return note;
  }

  void on_result(reach::transaction_result r) {
    auto& rec = out_.transactions.back();
    rec.retransmissions = r.retransmissions;
    rec.provisional = r.provisional;
    rec.provisional_count = r.provisional_count;
    rec.rtt_ms = r.rtt_ms;
    out_.malformed.insert(out_.malformed.end(), r.malformed.begin(), r.malformed.end());
    if (!r.response) return on_network_failure(r);
    const auto& m = r.response->view();
    out_.sip_answered = true;
    out_.final_status = m.status;
    rec.status = m.status;
    rec.reason = std::string(m.reason);
    check_echo(m);
    if (phase_ == phase::cleanup) return on_cleanup_response(m);

    auto d = decide(state_, m);
    switch (d.step) {
      case next_step::answer_challenge:
      case next_step::retry_stale: {
        auto& slot = d.proxy ? proxy_ : www_;
        const bool fresh_nonce = !slot.ch || slot.ch->nonce != d.challenge->nonce;
        slot.ch = std::move(d.challenge);
        slot.qop = d.qop;
        if (fresh_nonce) slot.nc = 0;
        slot.note = d.choice_reason;
        if (d.step == next_step::retry_stale) {
          state_.stale_retried = true;
          add_finding(out_.findings, {finding_code::stale_nonce, "the server answered " + std::to_string(m.status) +
                                                                     " with stale=true; retried with the new nonce"});
        }
        if (!acct_.expected_realm.empty() && acct_.expected_realm != slot.ch->realm && !realm_warned_) {
          realm_warned_ = true;
          add_finding(out_.findings,
                      {finding_code::realm_mismatch,
                       "expected realm \"" + acct_.expected_realm + "\", the server challenges for \"" + slot.ch->realm + "\""});
        }
        if (acct_.credentials.password.empty() && acct_.credentials.ha1.empty())
          return finish(diagnosis_code::auth_not_attempted, {std::to_string(m.status) + " challenge, and no password was given"});
        if (set_.ladder) {
          rec.note += rec.note.empty() ? "" : "; ";
          rec.note += "challenge: " + d.choice_reason;
        }
        return send(phase::register_);
      }
      case next_step::retry_expires:
        state_.expires_retried = true;
        raised_from_ = state_.expires;
        state_.expires = d.new_expires;
        return send(phase::register_);
      case next_step::finished: break;
    }
    if (d.code == diagnosis_code::redirected) {
      std::vector<sip::name_addr> contacts;
      bool star = false;
      if (!sip::get::contacts(m, contacts, star) && !contacts.empty()) out_.redirect_to = std::string(contacts.front().uri_text);
    }
    switch (d.code) {
      case diagnosis_code::registered: return on_registered(m, d);
      case diagnosis_code::unregistered: return on_unregistered(m, d);
      case diagnosis_code::credentials_valid: return on_query(m, d);
      default: return finish(d.code, std::move(d.evidence));
    }
  }

  // The Contact list of a 2xx, as the report keeps it.
  static registration_record record_of(const binding_summary& b, std::int64_t requested) {
    registration_record reg;
    reg.requested_expires = requested;
    for (const auto& x : b.bindings) reg.bindings.push_back({x.contact, x.expires, x.ours});
    return reg;
  }

  // "no binding remains…", "2 other bindings remain: sip:…, sip:…" (the first three named).
  static std::string remaining_text(const binding_summary& b) {
    std::vector<const listed_binding*> others;
    for (const auto& x : b.bindings)
      if (!x.ours) others.push_back(&x);
    if (others.empty()) return "no binding remains for the account";
    std::string text = std::to_string(others.size()) +
                       (others.size() == 1 ? " other binding remains: " : " other bindings remain: ");
    for (std::size_t i = 0; i < others.size() && i < 3; ++i) text += (i ? ", " : "") + others[i]->contact;
    if (others.size() > 3) text += ", …";
    return text;
  }

  // RFC 3261 §10.2.2: the 2xx to a removal lists the bindings that remain. Nothing was
  // registered, so nothing is cleaned up, and a Contact missing from it is the point of
  // the request, not a rewrite (no sip_alg_suspected, no NAT or expiry finding).
  void on_unregistered(const sip::message_view& m, decision& d) {
    auto b = read_bindings(m, contact_);
    out_.registration = record_of(b, 0);
    out_.registration->expires = b.granted;
    auto evidence = std::move(d.evidence);
    evidence.push_back(b.ours_listed ? "the registrar still lists " + contact_ + " after accepting its removal"
                                     : "the binding " + contact_ + " is gone");
    evidence.push_back(remaining_text(b));
    finish(diagnosis_code::unregistered, std::move(evidence));
  }

  // RFC 3261 §10.2.3: a REGISTER without Contact changes nothing; its 2xx lists the
  // bindings the registrar holds.
  void on_query(const sip::message_view& m, decision& d) {
    auto b = read_bindings(m, std::string());
    out_.registration = record_of(b, -1);
    auto evidence = std::move(d.evidence);
    const auto n = b.bindings.size();
    evidence.push_back(n == 0 ? std::string("no binding is registered for the account")
                              : "the registrar lists " + std::to_string(n) + (n == 1 ? " binding" : " bindings") +
                                    " for the account; none was changed");
    finish(diagnosis_code::credentials_valid, std::move(evidence));
  }

  void on_registered(const sip::message_view& m, decision& d) {
    registered_evidence_ = std::move(d.evidence);
    auto b = read_bindings(m, contact_);
    auto reg = record_of(b, static_cast<std::int64_t>(raised_from_ ? raised_from_ : set_.expires));
    reg.expires = b.granted;
    if (raised_from_)
      add_finding(out_.findings,
                  {finding_code::expires_raised, "the server wants at least " + std::to_string(state_.expires) +
                                                     " s (423 Min-Expires); " + std::to_string(raised_from_) +
                                                     " s was refused: configure " + std::to_string(state_.expires)});
    if (!b.ours_listed) {
      add_finding(out_.findings,
                  {finding_code::sip_alg_suspected, "the 200 OK does not list the Contact that was sent (" + contact_ + ")"});
    } else if (b.granted >= 0 && b.granted < state_.expires) {
      add_finding(out_.findings, {finding_code::expires_reduced, "asked for " + std::to_string(state_.expires) + " s, granted " +
                                                                     std::to_string(b.granted) + " s"});
    }
    facts_.contact = contact_;
    facts_.gruu = b.our_gruu;
    check_nat(m);
    out_.registration = reg;
    const bool listed = b.ours_listed;
    if (!hook_) return after_registered(listed);
    auto hook = std::move(hook_);
    const auto began = clock_type::now();
    hook(facts_, [this, listed, began] {
      deadline_ += clock_type::now() - began;
      after_registered(listed);
    });
  }

  void after_registered(bool listed) {
    if (set_.keep || !listed) {
      out_.registration->kept = set_.keep && listed;
      return finish(diagnosis_code::registered, std::move(registered_evidence_));
    }
    cleanup_attempts_ = 0;
    send(phase::cleanup);
  }

  void on_cleanup_response(const sip::message_view& m) {
    if (m.status >= 200 && m.status < 300) {
      auto b = read_bindings(m, contact_);
      out_.registration->removed = !b.ours_listed;
      if (b.ours_listed) registered_evidence_.push_back("the binding was still listed after removal");
      return finish(diagnosis_code::registered, std::move(registered_evidence_));
    }
    if ((m.status == 401 || m.status == 407) && cleanup_attempts_++ == 0) {
      exchange_state fresh;
      auto d = decide(fresh, m);
      if (d.challenge) {
        auto& slot = d.proxy ? proxy_ : www_;
        slot.ch = std::move(d.challenge);
        slot.qop = d.qop;
        slot.nc = 0;
        return send(phase::cleanup);
      }
    }
    registered_evidence_.push_back("removing our binding failed: " + std::to_string(m.status) + " " + std::string(m.reason));
    finish(diagnosis_code::registered, std::move(registered_evidence_));
  }

  // RFC 3261 §8.2.6.2: Via, From tag, Call-ID and CSeq come back as sent, unless something
  // in the path rewrote them.
  void check_echo(const sip::message_view& m) {
    if (alg_reported_) return;
    struct echo {
      const char* name;
      std::string_view sent, echoed;
    };
    std::array<echo, 4> e;
    std::size_t n = 0;
    sip::via top;
    std::string sent_by;
    if (via_as_sent(m)) {
      // The common case: the top Via reads exactly as sent; nothing to decode.
    } else if (!sip::get::top_via(m, top)) {
      sent_by = sip::host_for_uri(top.host);
      if (top.port != 0) sent_by += ":" + std::to_string(top.port);
      e[n++] = {"Via sent-by", sent_via_, sent_by};
      e[n++] = {"Via branch", spec_.via.branch, top.branch()};
    }
    std::string_view cid;
    if (!sip::get::call_id(m, cid)) e[n++] = {"Call-ID", spec_.call_id, cid};
    std::string_view tag;
    if (!sip::get::from_tag(m, tag)) e[n++] = {"From tag", spec_.from_tag, tag};
    // The common case, every header as sent, costs no strings.
    if (std::all_of(e.begin(), e.begin() + n, [](const echo& x) { return x.sent == x.echoed; })) return;
    std::vector<echoed_header> h;
    for (std::size_t i = 0; i < n; ++i) h.push_back({e[i].name, std::string(e[i].sent), std::string(e[i].echoed)});
    if (auto f = check_rewrites(h)) {
      alg_reported_ = true;
      add_finding(out_.findings, std::move(*f));
    }
  }

  // Whether the top Via's first value is, byte for byte, the sent-by and branch we wrote
  // ("SIP/2.0/UDP <sent_via_>;…branch=<the latest branch>…"): then a parse can only agree.
  bool via_as_sent(const sip::message_view& m) const {
    const auto* h = m.find(sip::header_id::via);
    if (h == nullptr) return false;
    const auto v = h->value.substr(0, h->value.find(','));
    const auto space = v.find(' ');
    if (space == std::string_view::npos) return false;
    auto rest = v.substr(space + 1);
    if (!rest.starts_with(sent_via_)) return false;
    rest.remove_prefix(sent_via_.size());
    return (rest.empty() || rest.front() == ';') && sip::via_branch(v) == spec_.via.branch;
  }

  void check_nat(const sip::message_view& m) {
    sip::via top;
    if (sip::get::top_via(m, top)) return;
    nat_facts f;
    sip::uri c;
    f.contact_host = sip::parse_uri(contact_, c) ? std::string() : c.host;
    f.via_host = spec_.via.host;
    f.via_port = spec_.via.port;
    if (auto r = top.received()) f.received = std::string(*r);
    f.rport = top.rport();
    facts_.received = f.received;
    facts_.rport = f.rport;
    if (auto n = probe::check_nat(f)) add_finding(out_.findings, std::move(*n));
  }

  void on_network_failure(const reach::transaction_result& r) {
    if (interrupt_ != nullptr && interrupt_->abandoned()) return finish_abandoned();
    auto& rec = out_.transactions.back();
    out_.network_error = r.ec;
    diagnosis_code code = diagnosis_code::no_response;
    std::string what;
    if (r.ec == std::errc::connection_refused) {
      code = diagnosis_code::port_unreachable;
      what = "refused (ICMP port unreachable or TCP reset)";
    } else if (r.ec == netcheck::errc::receive_timeout || r.ec == netcheck::errc::send_timeout) {
      what = (r.provisional.empty() ? "no response after " : "no final response after ") +
             std::to_string(static_cast<long>(r.elapsed_ms)) + " ms";
      if (r.retransmissions > 0) what += " and " + std::to_string(r.retransmissions) + " retransmissions";
      // RFC 3261 §17.1.2.2: a provisional response means the request arrived; the
      // registrar (or what it waits for) never settled it.
      if (!r.provisional.empty()) {
        what += " (the registrar answered";
        if (static_cast<std::size_t>(r.provisional_count) > r.provisional.size()) {
          what += " " + std::to_string(r.provisional_count) + " provisional responses (the first " +
                  std::to_string(r.provisional.front()) + ", the last " + std::to_string(r.provisional.back()) + ")";
        } else {
          for (int s : r.provisional) what += " " + std::to_string(s);
        }
        what +=
            ", then nothing: the request reached it, so look at the registrar and what it waits for — its log,"
            " its auth backend or database — before the network)";
      }
    } else {
      if (reach::is_unreachable(r.ec)) code = diagnosis_code::network_unreachable;
      what = reach::network_error_detail(r.ec);
    }
    if (!r.malformed.empty()) code = diagnosis_code::malformed_response;
    rec.reason = what;
    std::vector<std::string> evidence{"REGISTER to " + rec.remote + " over " + rec.transport + ": " + what};
    evidence.insert(evidence.end(), r.malformed.begin(), r.malformed.end());
    if (phase_ == phase::cleanup) {
      registered_evidence_.push_back("removing our binding got no answer: " + what);
      return finish(diagnosis_code::registered, std::move(registered_evidence_));
    }
    finish(code, std::move(evidence));
  }

  // Interrupted between two requests: whatever was registered is removed already (a
  // removal is never held back), so nothing of ours is left.
  void finish_interrupted() {
    out_.network_error = {};
    std::string when = "before the first REGISTER was sent";
    if (!out_.transactions.empty()) {
      const auto& last = out_.transactions.back();
      when = "after the registrar answered " + std::to_string(last.status) + " " + last.reason + ", before the next REGISTER";
    }
    finish(diagnosis_code::interrupted, {"interrupted by " + interrupt_->what() + " " + when + ": nothing is registered"});
  }

  // A second signal closed the flow under the request in flight: say what may be left.
  void finish_abandoned() {
    out_.network_error = {};
    const std::string quit = "quit at a second " + interrupt_->what() + " without waiting for the ";
    if (phase_ == phase::cleanup) {
      registered_evidence_.push_back(quit + "removal of " + contact_ + ": the binding may remain until it expires");
      return finish(diagnosis_code::registered, std::move(registered_evidence_));
    }
    std::string evidence = quit + "answer to the REGISTER in flight";
    if (!set_.query && state_.expires > 0)
      evidence += ": if the registrar accepts it, the binding " + contact_ + " may remain for up to " +
                  std::to_string(state_.expires) + " s";
    finish(diagnosis_code::interrupted, {evidence});
  }

  void finish_local_error(const std::string& what) {
    out_.network_error = {};
    finish(diagnosis_code::unexpected_response, {what});
  }

  void finish_timeout_before_send() {
    out_.network_error = netcheck::errc::receive_timeout;
    finish(diagnosis_code::no_response, {"the time limit was reached before the next request could be sent"});
  }

  void finish(diagnosis_code code, std::vector<std::string> evidence) {
    out_.primary.code = code;
    out_.primary.evidence = std::move(evidence);
    auto last = std::move(self_);  // alive until this returns
    auto done = std::move(done_);
    done(std::move(out_));
  }

  std::shared_ptr<register_op> self_;
  netcheck::flow& flow_;
  const account& acct_;
  const register_settings& set_;
  sip::id_factory& ids_;
  clock_type::time_point deadline_;
  std::function<void(exchange_outcome)> done_;
  const run_interrupt* interrupt_;
  while_registered hook_;
  registered_facts facts_;

  exchange_state state_;
  challenge_state www_, proxy_;
  phase phase_ = phase::register_;
  std::string contact_, sent_via_;  // sent_via_: the Via sent-by, "192.0.2.7:5062"
  std::string remote_text_;         // for the ladder: "192.0.2.7:5060"
  sip::request_spec spec_;
  std::uint32_t cseq_ = 0;
  std::uint32_t raised_from_ = 0;
  int cleanup_attempts_ = 0;
  bool realm_warned_ = false;
  bool alg_reported_ = false;
  std::vector<std::string> registered_evidence_;
  exchange_outcome out_;
};

}  // namespace

void async_register_on_flow(netcheck::flow& f, const account& acct, const register_settings& settings, sip::id_factory& ids,
                            clock_type::time_point deadline, std::function<void(exchange_outcome)> done,
                            const run_interrupt* interrupt, while_registered hook) {
  std::allocate_shared<register_op>(netcheck::recycling_allocator<register_op>{}, f, acct, settings, ids, deadline,
                                    std::move(done), interrupt, std::move(hook))
      ->start();
}

}  // namespace probe::registration
