// probe/core/report.hpp — what one run found, as data: the single structure that register,
// diagnose, batch and analyze fill and that the text and JSON writers render.
#pragma once

#include "probe/core/catalog.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace probe {

// One request/response exchange as it appears in the ladder.
struct transaction_record {
  std::string request;  // method, e.g. "REGISTER"
  std::uint32_t cseq = 0;
  std::string transport;         // "udp", "tcp", "tls"
  std::string local;             // our address:port
  std::string remote;            // their address:port
  std::string note;              // e.g. "Digest SHA-256 (preferred over MD5, RFC 8760)"
  int status = 0;                // final status; 0 when none arrived
  std::string reason;            // reason phrase, or what happened instead ("timeout")
  double rtt_ms = -1;            // request to final response; <0 when none
  int retransmissions = 0;       // UDP retransmissions sent (RFC 3261 Timer E)
  std::vector<int> provisional;  // 1xx statuses kept: all, or the first and the last of many
  int provisional_count = 0;     // 1xx responses seen (more than provisional.size() when many)
};

// A target a phone would try (RFC 3263), and what happened there.
struct target_record {
  std::string transport;
  std::string host;
  std::string address;
  std::uint16_t port = 0;
  std::string found_by;  // netcheck::found_by: "naptr", "srv", "a", "literal" (JSON "via")
  std::string result;    // empty when not tried
};

struct binding_record {
  std::string contact;
  std::int64_t expires = -1;
  bool ours = false;
};

struct registration_record {
  std::int64_t requested_expires = -1;
  std::int64_t expires = -1;  // granted for our binding
  std::vector<binding_record> bindings;
  bool removed = false;  // our binding was removed afterwards
  bool kept = false;     // --keep
};

// The certificate of the last TLS target that sent one: the name it was checked against
// (RFC 5922 §4: the SIP domain the user asked for, not the SRV target) and how the check
// went.
struct tls_record {
  std::string endpoint;               // "127.0.0.1:5061"
  std::string checked_name;           // "example.com", an IP literal, or "" when none was checked
  std::string verdict;                // netcheck::tls_verdict: "ok", "untrusted", "name_mismatch", …
  std::string reason;                 // OpenSSL's verification reason ("" when ok)
  bool verification_skipped = false;  // the check failed and --insecure went on regardless
  std::string not_after;              // the certificate's notAfter, ISO 8601 UTC ("" when none was seen)
};

// How long one step of a run took (the exporter's sipprobe_phase_duration_seconds): "dns",
// "connect", "tls", "challenge" (the first REGISTER to its 401/407), "register" (the
// REGISTER that got the final answer), "inbound".
struct phase_record {
  std::string name;
  double seconds = 0;
};

// --inbound (and diagnose after a registration): whether a request to the AOR, sent
// through the registrar from a second socket, reached the registered flow.
struct inbound_record {
  std::string result;  // "reached", "not_reached", "rejected", "skipped"
  int status = 0;      // final status of the OPTIONS; 0 when none arrived (JSON null)
  double elapsed_ms = 0;
};

// --nat-lifetime: how long the NAT in front of us keeps an idle UDP binding. Each probe
// is one binding of our own, silent for `idle_s` after its 200 OK, then asked for with an
// OPTIONS through the registrar.
struct nat_lifetime_probe {
  long idle_s = 0;
  std::string result;  // "alive", "gone", "failed" (the probe could not be made), "skipped" (not needed)
  std::string detail;  // what failed, or what else arrived on the binding
};
struct nat_lifetime_record {
  long alive_after_s = 0;            // longest idle a binding survived (0: none)
  std::optional<long> dead_after_s;  // shortest idle one did not; none: outlived max_idle_s
  long recommended_keepalive_s = 0;  // 0 when nothing was learned
  long max_idle_s = 0;
  std::string method;     // "gruu": one binding at a time (RFC 5627); "aor": one after another
  bool complete = false;  // false: interrupted or failed before the bracket was found
  std::string stopped;    // why it is not complete ("" when it is)
  std::vector<nat_lifetime_probe> probes;
  double elapsed_s = 0;
};

struct report {
  std::string aor;
  diagnosis primary;
  std::vector<finding> findings;
  std::vector<target_record> targets;
  std::vector<transaction_record> transactions;
  std::optional<registration_record> registration;
  std::optional<tls_record> tls;
  std::optional<inbound_record> inbound;            // only when the check was asked for
  std::optional<nat_lifetime_record> nat_lifetime;  // only with --nat-lifetime, once it ran
  std::vector<phase_record> phases;                 // the steps that ran, in order (not in the JSON)
  double elapsed_ms = 0;
};

// The JSON document (schema "sipprobe.report/1", documented in docs/json.md).
nlohmann::json to_json(const report& r);

enum class color_mode { never, always };

// The human report: a ladder of what happened, the diagnosis with its fixes, findings.
void write_text(std::ostream& out, const report& r, color_mode color);

// The monitoring-plugin line and status (OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3) of
// --nagios: thresholds on the run's total time in ms (0: none).
struct nagios_result {
  int status = 3;
  std::string line;
};
nagios_result nagios_line(const report& r, double warning_ms, double critical_ms);

// --color auto|always|never plus NO_COLOR and whether stdout is a terminal.
color_mode resolve_color(const std::string& option, bool stdout_is_tty);

// Milliseconds as every report writes them: "12.3" (one decimal, rounded from the binary
// value as printf's "%.1f" does, without printf), and with its unit, "12.3 ms".
std::string ms_number(double ms);
inline std::string ms_text(double ms) { return ms_number(ms) + " ms"; }

}  // namespace probe
