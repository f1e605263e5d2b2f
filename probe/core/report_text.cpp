#include "probe/core/report.hpp"

#include "probe/core/text_safety.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace probe {
namespace {

struct palette {
  std::string_view bold, red, green, yellow, dim, reset;
};
constexpr palette plain{"", "", "", "", "", ""};
constexpr palette ansi{"\033[1m", "\033[31m", "\033[32m", "\033[33m", "\033[2m", "\033[0m"};

// "  NAT binding: alive after 15 s idle, gone after 30 s → keep-alives or re-register every 12 s"
void write_nat_lifetime(std::ostream& out, const nat_lifetime_record& n) {
  out << "  NAT binding: ";
  const bool learned = n.alive_after_s > 0 || n.dead_after_s;
  if (!learned) {
    out << "lifetime not measured";
  } else {
    if (n.alive_after_s > 0) out << "alive after " << n.alive_after_s << " s idle";
    else out << "not alive after any idle tried";
    if (n.dead_after_s) out << ", gone after " << *n.dead_after_s << " s";
    else if (n.complete) out << " (the longest tried, --max-idle)";
    else out << ", not yet seen gone";
    if (n.alive_after_s > 0) out << " → keep-alives or re-register every " << n.recommended_keepalive_s << " s";
  }
  if (!n.stopped.empty()) out << " (" << printable(n.stopped) << ")";
  out << "\n";
}

}  // namespace

std::string ms_number(double ms) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 1);
  return std::string(buf, r.ec == std::errc() ? r.ptr : buf);
}

color_mode resolve_color(const std::string& option, bool stdout_is_tty) {
  if (option == "always") return color_mode::always;
  if (option == "never") return color_mode::never;
  // https://no-color.org: any non-empty NO_COLOR disables colour in auto mode.
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return color_mode::never;
  return stdout_is_tty ? color_mode::always : color_mode::never;
}

void write_text(std::ostream& out, const report& r, color_mode color) {
  const palette& c = color == color_mode::always ? ansi : plain;

  if (!r.transactions.empty()) {
    for (const auto& t : r.transactions) {
      out << "  " << printable(t.request) << " (CSeq " << t.cseq << ") → " << printable(t.remote) << " "
          << printable(t.transport);
      if (!t.note.empty()) out << c.dim << "  [" << printable(t.note) << "]" << c.reset;
      if (t.retransmissions > 0) out << c.dim << "  (" << t.retransmissions << " retransmissions)" << c.reset;
      out << "\n";
      if (static_cast<std::size_t>(t.provisional_count) > t.provisional.size() && t.provisional.size() == 2) {
        // Many: the first and the last, with the count (probe/reach/transaction.hpp keep_provisional).
        const auto of = std::to_string(t.provisional_count);
        out << "  ← " << t.provisional.front() << c.dim << " (provisional, the first of " << of << ")" << c.reset << "\n";
        out << "  ← " << t.provisional.back() << c.dim << " (provisional, the last of " << of << ")" << c.reset << "\n";
      } else {
        for (int p : t.provisional) out << "  ← " << p << c.dim << " (provisional)" << c.reset << "\n";
      }
      if (t.status > 0) {
        const auto& colour = t.status < 300 ? c.green : (t.status == 401 || t.status == 407 ? c.yellow : c.red);
        out << "  ← " << colour << t.status << " " << printable(t.reason) << c.reset;
        if (t.rtt_ms >= 0) out << c.dim << "  " << ms_text(t.rtt_ms) << c.reset;
        out << "\n";
      } else {
        out << "  ✗ " << c.red << (t.reason.empty() ? "no response" : printable(t.reason)) << c.reset << "\n";
      }
    }
    out << "\n";
  }

  const auto& e = describe(r.primary.code);
  const bool ok = is_success(r.primary.code);
  out << c.bold << (ok ? c.green : c.red) << (ok ? "✔ " : "✘ ") << e.code << c.reset << c.bold << ": " << e.title << c.reset
      << "\n";
  out << "  " << e.explanation << "\n";
  if (!r.primary.evidence.empty()) {
    out << "  Evidence:\n";
    for (const auto& ev : r.primary.evidence) out << "    - " << printable(ev) << "\n";
  }
  if (r.registration) {
    const auto& reg = *r.registration;
    if (reg.expires >= 0) {
      out << "  Granted expiry: " << reg.expires << " s";
      if (reg.requested_expires >= 0) out << " (requested " << reg.requested_expires << " s)";
      out << "\n";
    }
    for (const auto& b : reg.bindings)
      out << "  Binding: " << printable(b.contact) << (b.expires >= 0 ? ";expires=" + std::to_string(b.expires) : "")
          << (b.ours ? "  (ours)" : "") << "\n";
    if (reg.removed) out << "  Our binding was removed afterwards (use --keep to leave it).\n";
    if (reg.kept) out << "  Our binding was kept (--keep).\n";
  }
  if (r.tls) {
    const auto& t = *r.tls;
    out << "  TLS: the certificate of " << t.endpoint << " was checked against \""
        << (t.checked_name.empty() ? "no name" : t.checked_name) << "\": " << t.verdict;
    if (!t.reason.empty()) out << " (" << t.reason << ")";
    if (t.verification_skipped) out << ", not enforced (--insecure)";
    out << "\n";
  }
  if (r.inbound) {
    const auto& in = *r.inbound;
    out << "  Inbound: " << in.result;
    if (in.status != 0) out << " (" << in.status << ")";
    if (in.result != "skipped") out << " in " << ms_text(in.elapsed_ms);
    out << "\n";
  }
  if (r.nat_lifetime) write_nat_lifetime(out, *r.nat_lifetime);
  if (!ok && !e.fixes.empty()) {
    out << "  What to fix:\n";
    int n = 1;
    for (auto f : e.fixes) out << "    " << n++ << ". " << f << "\n";
  }
  if (!r.findings.empty()) {
    out << "\n" << c.bold << "Findings" << c.reset << "\n";
    for (const auto& f : r.findings) {
      const auto& fe = describe(f.code);
      out << "  " << c.yellow << "• " << fe.code << c.reset << ": " << fe.title << "\n";
      if (!f.detail.empty()) out << "    " << printable(f.detail) << "\n";
      for (auto fix : fe.fixes) out << "    → " << fix << "\n";
    }
  }
  out << c.dim << "\nTotal " << ms_text(r.elapsed_ms) << c.reset << "\n";
}

}  // namespace probe
