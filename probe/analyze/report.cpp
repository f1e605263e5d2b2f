// Writers for `sipprobe analyze` (see report.hpp).
#include "probe/analyze/report.hpp"

#include "probe/core/text_safety.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace probe::analyze {
namespace {

nlohmann::json nullable_time(double t, bool absolute) {
  auto s = format_time(t, absolute);
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

nlohmann::json attempt_json(const attempt_result& r) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : r.messages) {
    nlohmann::json mj = {{"time", nullable_time(m.time, m.absolute_time)},
                         {"src", m.src.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.src)},
                         {"dst", m.dst.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.dst)},
                         {"summary", m.summary},
                         {"position", m.where}};
    if (!m.transport.empty()) mj["transport"] = m.transport;
    if (m.repeats > 0) mj["retransmissions"] = m.repeats;
    messages.push_back(std::move(mj));
  }
  const auto& e = describe(r.primary.code);
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : r.findings)
    findings.push_back(
        {{"code", std::string(describe(f.code).code)}, {"title", std::string(describe(f.code).title)}, {"detail", f.detail}});
  nlohmann::json j = {
      {"call_id", r.call_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.call_id)},
      {"aor", r.aor},
      {"start", nullable_time(r.first_time, r.absolute_time)},
      {"end", nullable_time(r.last_time, r.absolute_time)},
      {"messages", std::move(messages)},
      {"diagnosis", {{"code", std::string(e.code)}, {"title", std::string(e.title)}, {"evidence", r.primary.evidence}}},
      {"findings", std::move(findings)}};
  if (r.messages_dropped > 0) j["messages_omitted"] = r.messages_dropped;
  return j;
}

std::string short_time(double t, bool absolute) {
  auto s = format_time(t, absolute);
  if (s.empty()) return "";
  if (absolute) s = s.substr(11, 12);  // HH:MM:SS.mmm
  else s = s.substr(0, 12);
  return s;
}

}  // namespace

attempt_store::attempt_store(std::size_t max_attempts)
    : max_(max_attempts == 0 ? 1 : max_attempts), counts_(all_diagnoses().size()) {}

void attempt_store::add(attempt a) {
  ++total_;
  const auto code = classify(a);
  ++counts_.at(static_cast<std::size_t>(code));
  last_.push_back({std::move(a), code});
  const attempt* added = &last_.back().a;
  if (!primary_ || added->last_seq > primary_->last_seq) primary_ = added;
  if (last_.size() > max_) {
    held& old = last_.front();
    if (!is_success(old.code)) {
      failed_.push_back(std::move(old));
      if (primary_ == &old.a) primary_ = &failed_.back().a;
      if (failed_.size() > max_) {
        keep_primary(failed_.front().a);
        failed_.pop_front();
      }
    } else {
      keep_primary(old.a);
    }
    last_.pop_front();
  }
}

void attempt_store::keep_primary(attempt& leaving) {
  if (primary_ != &leaving) return;
  primary_kept_ = std::move(leaving);
  primary_ = &*primary_kept_;
}

void attempt_store::finalize(const diagnose_options& o) {
  by_code_.clear();
  for (const auto code : all_diagnoses())
    if (const auto n = counts_.at(static_cast<std::size_t>(code)); n != 0) by_code_.emplace(std::string(describe(code).code), n);
  std::vector<const attempt*> v;
  for (const auto& h : failed_) v.push_back(&h.a);
  for (const auto& h : last_) v.push_back(&h.a);
  // The primary attempt is always shown, even when later-closing attempts pushed it out.
  if (primary_ && std::none_of(v.begin(), v.end(), [this](const attempt* a) { return a == primary_; })) v.push_back(primary_);
  std::sort(v.begin(), v.end(), [](const attempt* a, const attempt* b) { return a->last_seq < b->last_seq; });
  results_.clear();
  results_.reserve(v.size());
  primary_result_ = nullptr;
  for (const auto* a : v) {
    results_.push_back(diagnose(*a, o));
    if (a == primary_) primary_result_ = &results_.back();
  }
  point_at_later_success();
  last_.clear();
  failed_.clear();
  primary_kept_.reset();
  primary_ = nullptr;
}

// A refusal that named the nonce, and a later success of the same user and realm: the
// credentials work, so the refusal was about the nonce (its lifetime, or a server of a
// cluster that did not know it), not the password (issue 13, item 11).
void attempt_store::point_at_later_success() {
  for (auto& failed : results_) {
    if (!failed.nonce_refused || is_success(failed.primary.code) || failed.auth_user.empty()) continue;
    for (const auto& later : results_) {
      if (later.last_seq <= failed.last_seq || !is_success(later.primary.code) || later.auth_user != failed.auth_user ||
          later.auth_realm != failed.auth_realm)
        continue;
      const auto when = format_time(later.last_time, later.absolute_time);
      failed.primary.evidence.push_back(
          "a later REGISTER for user \"" + later.auth_user + "\" (realm \"" + later.auth_realm + "\") was accepted" +
          (when.empty() ? std::string() : " at " + when) +
          (later.call_id.empty() ? std::string() : " (Call-ID " + later.call_id + ")") +
          ": the credentials work, so this refusal was a timing or nonce problem (an expired nonce, or one another server "
          "issued), not a wrong password");
      break;
    }
  }
}

std::vector<const attempt_result*> attempt_store::kept() const {
  std::vector<const attempt_result*> v;
  for (const auto& r : results_) v.push_back(&r);
  return v;
}

report primary_report(const analysis& a) {
  report r;
  const attempt_result* p = a.attempts ? a.attempts->primary() : nullptr;
  if (p != nullptr) {
    r.aor = p->aor;
    r.primary = p->primary;
    r.findings = p->findings;
    r.transactions = p->transactions;
    r.registration = p->registration;
  }
  r.elapsed_ms = a.elapsed_ms;
  return r;
}

nlohmann::json to_json(const analysis& a) {
  auto j = probe::to_json(primary_report(a));
  j["mode"] = "analyze";
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& i : a.inputs) inputs.push_back({{"file", i.file}, {"format", i.format}});
  j["input"] = {{"files", std::move(inputs)},
                {"packets", a.capture.packets},
                {"sip_messages", a.sip_messages},
                {"register_messages", a.register_messages},
                {"retransmissions", a.retransmissions},
                {"skipped",
                 {{"fragments", a.capture.fragments},
                  {"truncated", a.capture.truncated},
                  {"not_ip", a.capture.not_ip},
                  {"not_sip", a.capture.not_sip},
                  {"keepalives", a.capture.keepalives},
                  {"tcp_gaps", a.capture.tcp_gaps},
                  {"tcp_dropped", a.capture.tcp_dropped},
                  {"not_sip_streams", a.capture.not_sip_streams}}}};
  nlohmann::json attempts = nlohmann::json::array();
  if (a.attempts)
    for (const auto* r : a.attempts->kept()) attempts.push_back(attempt_json(*r));
  j["attempts"] = std::move(attempts);
  nlohmann::json by = nlohmann::json::object();
  if (a.attempts)
    for (const auto& [code, n] : a.attempts->by_diagnosis()) by[code] = n;
  j["summary"] = {{"attempts", a.attempts ? a.attempts->total() : 0},
                  {"by_diagnosis", std::move(by)},
                  {"summarized", a.attempts && a.attempts->summarized()}};
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& [where, what] : a.warnings) warnings.push_back({{"position", where}, {"message", what}});
  j["warnings"] = std::move(warnings);
  if (a.warnings_total > a.warnings.size()) j["warnings_omitted"] = a.warnings_total - a.warnings.size();
  return j;
}

void write_text(std::ostream& out, const analysis& a, color_mode color) {
  const bool c = color == color_mode::always;
  const char* dim = c ? "\033[2m" : "";
  const char* bold = c ? "\033[1m" : "";
  const char* reset = c ? "\033[0m" : "";
  const std::uint64_t total = a.attempts ? a.attempts->total() : 0;

  out << bold << "Trace" << reset << ": ";
  for (std::size_t i = 0; i < a.inputs.size(); ++i)
    out << (i ? ", " : "") << printable(a.inputs[i].file) << " (" << printable(a.inputs[i].format) << ")";
  out << "\n  " << a.sip_messages << " SIP messages, " << a.register_messages << " of them REGISTER traffic";
  if (a.retransmissions) out << " (" << a.retransmissions << " retransmissions)";
  out << ", " << total << " registration attempt" << (total == 1 ? "" : "s");
  if (a.capture.packets) out << "; " << a.capture.packets << " packets";
  if (a.capture.fragments) out << ", " << a.capture.fragments << " IP fragments skipped";
  if (a.capture.not_sip_streams) out << ", " << a.capture.not_sip_streams << " TCP connections that are not SIP skipped";
  out << "\n";

  const attempt_result* p = a.attempts ? a.attempts->primary() : nullptr;
  if (a.attempts && total > 1) {
    out << "\n"
        << bold << "Attempts" << reset
        << (a.attempts->summarized() ? " (summary: counts for all, details for the last and the failed ones)" : "") << "\n";
    for (const auto& [code, n] : a.attempts->by_diagnosis()) out << "  " << code << ": " << n << "\n";
    const auto kept = a.attempts->kept();
    const std::size_t show = std::min<std::size_t>(kept.size(), 20);
    for (std::size_t i = kept.size() - show; i < kept.size(); ++i) {
      const auto* r = kept[i];
      out << "  " << dim
          << (short_time(r->last_time, r->absolute_time).empty() ? "-" : short_time(r->last_time, r->absolute_time)) << reset
          << "  " << printable(r->aor) << "  " << describe(r->primary.code).code
          << (r->call_id.empty() ? "" : "  " + std::string(dim) + "Call-ID " + printable(r->call_id) + reset)
          << (r == p ? "  ← primary" : "") << "\n";
    }
    if (kept.size() > show) out << "  " << dim << "(" << kept.size() - show << " more in --json)" << reset << "\n";
  }

  if (p != nullptr) {
    out << "\n" << bold << "Last attempt" << reset << " " << printable(p->aor);
    if (!p->call_id.empty()) out << dim << "  Call-ID " << printable(p->call_id) << reset;
    out << "\n";
    bool first_dropped = p->messages_dropped > 0;
    for (std::size_t i = 0; i < p->messages.size(); ++i) {
      const auto& m = p->messages[i];
      if (first_dropped && i == 8) out << "  " << dim << "… " << p->messages_dropped << " messages omitted …" << reset << "\n";
      auto t = short_time(m.time, m.absolute_time);
      out << "  " << dim << (t.empty() ? std::string(12, ' ') : t) << reset << "  ";
      const std::string src = m.src.empty() ? "?" : printable(m.src), dst = m.dst.empty() ? "?" : printable(m.dst);
      out << src << " → " << dst << "  " << printable(m.summary);
      if (m.repeats) out << dim << "  ×" << m.repeats + 1 << " (retransmitted)" << reset;
      out << "\n";
    }
    out << "\n";
    auto r = primary_report(a);
    r.transactions.clear();  // the ladder above shows them with addresses and times
    probe::write_text(out, r, color);
  }
  if (!a.warnings.empty()) {
    out << "\n" << bold << "Warnings" << reset << " (messages skipped)\n";
    for (const auto& [where, what] : a.warnings) out << "  " << printable(where) << ": " << printable(what) << "\n";
    if (a.warnings_total > a.warnings.size()) out << "  … and " << a.warnings_total - a.warnings.size() << " more\n";
  }
}

}  // namespace probe::analyze
