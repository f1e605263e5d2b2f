// libFuzzer target: arbitrary bytes in every string field of what the writers print — the
// report (register, diagnose), the DNS run, a reach check, a batch result, an analysis
// with its attempts — then every JSON document must parse back (valid UTF-8 kept as it
// was) and every text writer must print nothing a terminal would act on (no control
// character but LF, nothing that is not UTF-8, no bidi control). Must never crash either.
//
// tests/probe/test_fuzz_writers.cpp replays it on generated inputs in the unit tests.
#include "probe/analyze/report.hpp"
#include "probe/batch/result.hpp"
#include "probe/core/report.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/locate/dns_report.hpp"
#include "probe/reach/check.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>

namespace {

// Strings cut from the input in turn: a length byte, then that many bytes, going round
// the input so that short inputs still fill every field.
class field_source {
 public:
  explicit field_source(std::string_view in) : in_(in) {}
  std::string next() {
    if (in_.empty()) return {};
    const std::size_t n = byte() % 48;
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(byte());
    return s;
  }
  // 0 for an empty input, which has no byte to go round.
  unsigned byte() { return in_.empty() ? 0 : static_cast<unsigned char>(in_[at_++ % in_.size()]); }
  // Fills each of the fields in turn.
  void fill(std::initializer_list<std::string*> fields) {
    for (auto* s : fields) *s = next();
  }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
};

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto n = probe::utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// The document must parse; `expected` (a field's bytes) must come back unchanged when
// it was UTF-8 to begin with.
nlohmann::json parse_back(const nlohmann::json& j) {
  auto back = nlohmann::json::parse(probe::json_text(j), nullptr, false);
  if (back.is_discarded()) std::abort();
  return back;
}

void same_if_utf8(const nlohmann::json& value, const std::string& expected) {
  if (is_utf8(expected) && value != expected) std::abort();
}

// Every line of text output is printable (no ESC, CR, BEL, C1, bidi, invalid UTF-8).
void check_text(const std::string& text) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto nl = text.find('\n', start);
    const auto line = std::string_view(text).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!probe::is_printable(line)) std::abort();
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

probe::report make_report(field_source& f) {
  probe::report r;
  r.aor = f.next();
  r.primary.code = probe::diagnosis_code::forbidden;
  r.primary.evidence = {f.next(), f.next()};
  r.findings = {{probe::finding_code::sip_alg_suspected, f.next()}};
  r.targets = {{f.next(), f.next(), f.next(), 5060, f.next(), f.next()}};
  probe::transaction_record t;
  t.status = 403;
  f.fill({&t.request, &t.transport, &t.local, &t.remote, &t.note, &t.reason});
  r.transactions = {t, probe::transaction_record{}};
  r.transactions.back().reason = f.next();
  probe::registration_record reg;
  reg.bindings = {{f.next(), 60, true}};
  r.registration = reg;
  return r;
}

void check_report(field_source& f) {
  const auto r = make_report(f);
  const auto back = parse_back(probe::to_json(r));
  same_if_utf8(back["aor"], r.aor);
  same_if_utf8(back["transactions"][0]["reason"], r.transactions[0].reason);
  same_if_utf8(back["diagnosis"]["evidence"][1], r.primary.evidence[1]);
  std::ostringstream text;
  probe::write_text(text, r, probe::color_mode::never);
  check_text(text.str());
  check_text(probe::nagios_line(r, 0, 0).line);
}

void check_dns(field_source& f) {
  probe::locate::dns_run run;
  run.input = f.next();
  run.target.scheme = f.next();
  run.target.host = f.next();
  run.servers = {f.next()};
  netcheck::query_result q;
  q.name = f.next();
  q.type = netcheck::rr_type::naptr;
  q.status = netcheck::dns_status::ok;
  q.detail = f.next();
  q.naptr = {{10, 10, f.next(), f.next(), f.next(), f.next()}};
  q.srv = {{10, 10, 5060, f.next()}};
  q.addresses = {f.next()};
  netcheck::query_result failed = q;
  failed.status = netcheck::dns_status::nxdomain;
  run.result.queries = {q, failed};
  netcheck::plan_node root;
  root.k = netcheck::plan_node::kind::query;
  netcheck::plan_node naptr;
  naptr.k = netcheck::plan_node::kind::naptr;
  naptr.parent = 0;
  naptr.naptr = q.naptr[0];
  naptr.t = netcheck::transport::udp;
  naptr.note = f.next();
  netcheck::plan_node srv;
  srv.k = netcheck::plan_node::kind::srv;
  srv.parent = 0;
  srv.srv = q.srv[0];
  srv.t = netcheck::transport::udp;
  netcheck::plan_node note;
  note.note = f.next();
  run.result.nodes = {root, naptr, srv, note};
  for (const bool resolved : {true, false}) {
    run.result.targets.clear();
    run.result.failed_query.reset();
    if (resolved) run.result.targets = {{netcheck::transport::udp, f.next(), f.next(), 5060, netcheck::found_by::naptr}};
    else run.result.failed_query = 1;
    const auto back = parse_back(probe::locate::dns_to_json(run));
    same_if_utf8(back["input"]["text"], run.input);
    same_if_utf8(back["queries"][0]["answers"][0]["service"], q.naptr[0].service);
    std::ostringstream text;
    probe::locate::write_dns_text(text, run, probe::color_mode::never);
    check_text(text.str());
  }
}

void check_reach(field_source& f) {
  probe::reach::target_check c;
  c.target = {netcheck::transport::tls, f.next(), f.next(), 5061, netcheck::found_by::srv};
  c.verdict = static_cast<netcheck::probe_verdict>(f.byte() % (static_cast<unsigned>(netcheck::probe_verdict::error) + 1));
  f.fill({&c.detail, &c.reason, &c.server, &c.local, &c.received});
  c.allow = {f.next(), f.next()};
  netcheck::tls_report t;
  f.fill({&t.protocol, &t.cipher, &t.sni, &t.checked_name, &t.subject, &t.subject_cn, &t.issuer, &t.issuer_cn, &t.not_before,
          &t.not_after, &t.verify_reason, &t.handshake_error});
  t.san_dns = {f.next()};
  t.san_ip = {f.next()};
  c.tls = t;
  const auto back = parse_back(probe::reach::to_json(c));
  same_if_utf8(back["server"], c.server);
}

void check_batch(field_source& f) {
  probe::batch::row_result b;
  b.row = 2;
  f.fill({&b.label, &b.aor, &b.code, &b.verdict, &b.detail});
  b.evidence = {f.next(), f.next()};
  const auto line = probe::batch::jsonl_line(b);
  if (line.find('\n') != line.size() - 1) std::abort();  // one line, whatever the fields hold
  const auto back = nlohmann::json::parse(line, nullptr, false);
  if (back.is_discarded()) std::abort();
  same_if_utf8(back["label"], b.label);
  same_if_utf8(back["evidence"][1], b.evidence[1]);
  const auto csv = probe::batch::csv_line(b);
  if (csv.find('\n') != csv.size() - 1) std::abort();
  check_text(csv.substr(0, csv.size() - 1));
}

// A REGISTER and its answer whose reason phrase, URIs and Call-ID carry the input (control
// bytes as the quoted-pairs a parser lets through), addresses and file name raw.
void check_analysis(field_source& f) {
  using namespace probe::analyze;
  auto quoted = [](const std::string& s) {
    std::string q;
    for (char c : s) {
      if (c == '\r' || c == '\n') continue;
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) q += '\\';
      q += c;
    }
    return q;
  };
  const std::string file = f.next();
  attempt a;
  a.call_id = f.next();
  const std::string user = quoted(f.next()), reason = quoted(f.next());
  const std::string head = "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\nFrom: <sip:" + user + "@x>;tag=1\r\nTo: <sip:" + user +
                           "@x>\r\nCall-ID: " + quoted(a.call_id) + "\r\nCSeq: 1 REGISTER\r\n";
  const std::string request = "REGISTER sip:x SIP/2.0\r\n" + head + "Content-Length: 0\r\n\r\n";
  const std::string response = "SIP/2.0 403 " + reason + "\r\n" + head + "Content-Length: 0\r\n\r\n";
  for (const auto& [raw, status] : {std::pair{request, 0}, std::pair{response, 403}}) {
    kept_message m;
    m.msg = stored_message(raw, status, nullptr, 0);
    m.src.assign(f.next());
    m.dst.assign(f.next());
    m.transport.assign(f.next());
    m.file = &file;
    m.cseq = 1;
    m.seq = a.messages.size() + 1;
    a.messages.push_back(std::move(m));
  }
  a.last_seq = 2;
  attempt_store store(4);
  store.add(std::move(a));
  store.finalize({});
  analysis an;
  an.inputs = {{file, f.next()}};
  an.warnings = {{f.next(), f.next()}};
  an.warnings_total = 1;
  an.sip_messages = an.register_messages = 2;
  an.attempts = &store;
  const auto back = parse_back(to_json(an));
  same_if_utf8(back["input"]["files"][0]["file"], file);
  same_if_utf8(back["warnings"][0]["message"], an.warnings[0].second);
  std::ostringstream text;
  write_text(text, an, probe::color_mode::never);
  check_text(text.str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  field_source f(std::string_view(reinterpret_cast<const char*>(data), size));
  check_report(f);
  check_dns(f);
  check_reach(f);
  check_batch(f);
  check_analysis(f);
  return 0;
}
