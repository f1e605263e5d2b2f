#include "probe/core/report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace probe {
namespace {

nlohmann::json entry_json(const entry& e) {
  nlohmann::json fixes = nlohmann::json::array();
  for (auto f : e.fixes) fixes.push_back(std::string(f));
  return {{"code", std::string(e.code)},
          {"title", std::string(e.title)},
          {"explanation", std::string(e.explanation)},
          {"fixes", std::move(fixes)}};
}

// Times are reported to 0.1 ms; beyond that the number is noise.
double round_ms(double ms) { return std::round(ms * 10.0) / 10.0; }

}  // namespace

nlohmann::json to_json(const report& r) {
  nlohmann::json j;
  j["schema"] = "sipprobe.report/1";
  j["aor"] = r.aor;
  j["verdict"] = std::string(verdict_for(r.primary.code));
  auto d = entry_json(describe(r.primary.code));
  d["evidence"] = r.primary.evidence;
  j["diagnosis"] = std::move(d);

  auto& findings = j["findings"] = nlohmann::json::array();
  for (const auto& f : r.findings) {
    const auto& e = describe(f.code);
    findings.push_back({{"code", std::string(e.code)}, {"title", std::string(e.title)}, {"detail", f.detail}});
  }

  auto& targets = j["targets"] = nlohmann::json::array();
  for (const auto& t : r.targets)
    targets.push_back({{"transport", t.transport},
                       {"host", t.host},
                       {"address", t.address},
                       {"port", t.port},
                       {"via", t.found_by},
                       {"result", t.result}});

  auto& transactions = j["transactions"] = nlohmann::json::array();
  for (const auto& t : r.transactions) {
    nlohmann::json tj = {
        {"request", t.request},
        {"cseq", t.cseq},
        {"transport", t.transport},
        {"local", t.local},
        {"remote", t.remote},
        {"status", t.status},
        {"reason", t.reason},
        {"retransmissions", t.retransmissions},
        {"provisional", t.provisional},
        {"provisional_count", std::max<std::size_t>(static_cast<std::size_t>(t.provisional_count), t.provisional.size())}};
    tj["rtt_ms"] = t.rtt_ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(round_ms(t.rtt_ms));
    if (!t.note.empty()) tj["note"] = t.note;
    transactions.push_back(std::move(tj));
  }

  if (r.registration) {
    const auto& reg = *r.registration;
    nlohmann::json bindings = nlohmann::json::array();
    for (const auto& b : reg.bindings) bindings.push_back({{"contact", b.contact}, {"expires", b.expires}, {"ours", b.ours}});
    j["registration"] = {{"requested_expires", reg.requested_expires},
                         {"expires", reg.expires},
                         {"bindings", std::move(bindings)},
                         {"removed", reg.removed},
                         {"kept", reg.kept}};
  } else {
    j["registration"] = nullptr;
  }
  if (r.tls) {
    j["tls"] = {{"endpoint", r.tls->endpoint},
                {"checked_name", r.tls->checked_name},
                {"verdict", r.tls->verdict},
                {"reason", r.tls->reason},
                {"verification_skipped", r.tls->verification_skipped}};
  } else {
    j["tls"] = nullptr;
  }
  // Only when asked for: reports without --inbound stay as they were.
  if (r.inbound)
    j["inbound"] = {{"result", r.inbound->result},
                    {"status", r.inbound->status == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.inbound->status)},
                    {"elapsed_ms", round_ms(r.inbound->elapsed_ms)}};
  if (r.nat_lifetime) {
    const auto& n = *r.nat_lifetime;
    auto probes = nlohmann::json::array();
    for (const auto& p : n.probes) {
      nlohmann::json one = {{"idle_s", p.idle_s}, {"result", p.result}};
      if (!p.detail.empty()) one["detail"] = p.detail;
      probes.push_back(std::move(one));
    }
    const bool learned = n.alive_after_s > 0 || n.dead_after_s;
    j["nat_lifetime"] = {
        {"alive_after_s", n.alive_after_s},
        {"dead_after_s", n.dead_after_s ? nlohmann::json(*n.dead_after_s) : nlohmann::json(nullptr)},
        {"recommended_keepalive_s", learned ? nlohmann::json(n.recommended_keepalive_s) : nlohmann::json(nullptr)},
        {"max_idle_s", n.max_idle_s},
        {"method", n.method},
        {"complete", n.complete},
        {"stopped", n.stopped.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.stopped)},
        {"probes", std::move(probes)},
        {"elapsed_s", std::round(n.elapsed_s * 10) / 10}};
  }
  j["elapsed_ms"] = round_ms(r.elapsed_ms);
  return j;
}

}  // namespace probe
