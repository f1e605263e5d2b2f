// The monitoring-plugin line of a report (report.hpp): the Nagios plugin API's one line
// of status and text, then performance data after '|'.
#include "probe/core/report.hpp"

#include "probe/core/text_safety.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace probe {

nagios_result nagios_line(const report& r, double warning_ms, double critical_ms) {
  nagios_result n;
  const auto& e = describe(r.primary.code);
  const bool ok = is_success(r.primary.code);
  // An unreachable or silent registrar is CRITICAL, not UNKNOWN; a run stopped by a signal
  // before its verdict knows nothing of the registrar: UNKNOWN.
  n.status = ok ? 0 : (r.primary.code == diagnosis_code::interrupted ? 3 : 2);
  std::string why;
  if (ok) {
    for (const auto& f : r.findings) {
      if (f.code == finding_code::tls_certificate_expiring || f.code == finding_code::expires_raised ||
          f.code == finding_code::nat_private_contact || f.code == finding_code::sip_alg_suspected ||
          f.code == finding_code::tls_certificate_unverified || f.code == finding_code::nat_binding_short) {
        n.status = 1;
        why += std::string(why.empty() ? "" : ", ") + std::string(describe(f.code).code);
      }
    }
    // Slowness is a reason of its own, listed with any finding that already warns.
    const bool over_critical = critical_ms > 0 && r.elapsed_ms > critical_ms;
    if (over_critical || (warning_ms > 0 && r.elapsed_ms > warning_ms)) {
      n.status = std::max(n.status, over_critical ? 2 : 1);
      why += std::string(why.empty() ? "" : ", ") + "slow";
    }
  }
  static const char* names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  double rtt = -1;
  for (const auto& t : r.transactions)
    if (t.rtt_ms >= 0) rtt = t.rtt_ms;
  auto threshold = [](double v) {
    char b[32] = "";
    if (v > 0) std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  char perf[200];
  std::snprintf(perf, sizeof perf, "rtt=%.1fms;;;0 total=%.1fms;%s;%s;0 expires=%llds", rtt < 0 ? 0.0 : rtt, r.elapsed_ms,
                threshold(warning_ms).c_str(), threshold(critical_ms).c_str(),
                static_cast<long long>(r.registration ? std::max<std::int64_t>(r.registration->expires, 0) : 0));
  n.line = std::string("SIPPROBE ") + names[n.status] + " - " + std::string(e.code) + ": " + std::string(e.title) + " (" +
           printable(r.aor) + ")";
  if (!why.empty()) n.line += " [" + why + "]";
  n.line += " | " + std::string(perf);
  return n;
}

}  // namespace probe
