// probe/exporter/metrics.hpp — what a scrape gets: the metrics of one probe
// (`/probe`) and of the exporter itself (`/metrics`), in the Prometheus text format 0.0.4
// or OpenMetrics 1.0.0 when the scraper asks for it. Names follow Prometheus conventions
// (base units, `_info` for facts as labels, `_total` for counters); no free text is a
// label value, and label values are escaped. Pure: strings in, strings out.
#pragma once

#include "probe/core/report.hpp"
#include "probe/reach/check.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probe::exporter {

enum class exposition { prometheus_text, openmetrics };

// OpenMetrics when the Accept header names application/openmetrics-text (version 1.0.0 or
// none) with a q above 0 and no lower than the best q of the text format (text/plain
// version 0.0.4 or none, text/*, */*): RFC 9110 §12.5.1, OpenMetrics on a tie. The
// Prometheus text format otherwise. Media types and parameter names are case-insensitive;
// a range with a malformed q counts as refused.
exposition negotiate(std::string_view accept_header);
// "text/plain; version=0.0.4; charset=utf-8" or
// "application/openmetrics-text; version=1.0.0; charset=utf-8".
std::string_view content_type(exposition e) noexcept;

// One probe's outcome, as /probe renders it.
struct probe_outcome {
  std::string prober;  // "register", "query", "options", "inbound"
  std::string site;    // --site: a `site` label on every metric ("" = no label)
  bool success = false;
  double duration_s = 0;
  std::optional<report> registration;       // register, query, inbound (its phases, tls, findings…)
  std::vector<reach::target_check> checks;  // options: one per transport tried
  std::string error;                        // a probe that could not run (unknown account…): success 0
};

// The metrics of one probe:
//   probe_success, probe_duration_seconds (gauges, as blackbox_exporter names them)
//   sipprobe_diagnosis_info{code, verdict} 1          register/query/inbound
//   sipprobe_phase_duration_seconds{phase}            dns, connect, tls, challenge, register, inbound (those that ran)
//   sipprobe_registration_expires_seconds             the expiry granted (when registered)
//   sipprobe_response_status                          the last final status (0: none)
//   sipprobe_tls_cert_not_after_timestamp_seconds     the registrar certificate's notAfter (TLS)
//   sipprobe_findings_info{code} 1                    one per finding
//   sipprobe_options_up{transport}                    options: 1 when that transport answered
// with HELP and TYPE lines, in that order; a family without a sample is left out. The
// options prober's phases are connect and tls of the first check that answered; one
// sipprobe_options_up per transport (1 when any of its targets answered). An outcome with
// an error has only the two probe_ gauges. OpenMetrics ends with "# EOF".
std::string render_probe(const probe_outcome& o, exposition e);

// The exporter's own metrics (/metrics): probes by module and result, in flight, their
// durations (a histogram), scrapes refused, config reloads, and process metrics (Linux
// /proc; a metric that cannot be read is left out). Durations are bucketed at 0.005 s to
// 60 s; OpenMetrics writes a whole bound as a float (le="1.0", as Prometheus's clients
// do), the text format as an integer (le="1"). Safe to call from several threads.
class exporter_metrics {
 public:
  void probe_started(const std::string& module);
  void probe_finished(const std::string& module, bool success, double seconds);
  void probe_joined(const std::string& module);     // a scrape joined a probe already in flight
  void request_refused(const std::string& reason);  // "bad_module", "bad_target", "too_many", …
  void config_loaded(bool ok, double unix_time);    // unix_time is kept when ok
  std::string render(exposition e) const;

 private:
  struct per_module {
    std::uint64_t success = 0, failure = 0, joined = 0;
    std::int64_t in_flight = 0;
    std::vector<std::uint64_t> buckets;  // per bound (not cumulative; made so at render time)
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::map<std::string, per_module> modules_;
  std::map<std::string, std::uint64_t> refused_;
  double last_reload_ok_time_ = 0;
  bool last_reload_ok_ = true;
  mutable std::mutex mutex_;
};

// Seconds since the epoch of an ISO 8601 UTC time "2025-01-31T12:00:00Z" (as
// netcheck::tls_report writes notAfter); nullopt when it is not one.
std::optional<std::int64_t> unix_time_of(std::string_view iso8601);

}  // namespace probe::exporter
