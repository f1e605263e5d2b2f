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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probe::exporter {

enum class exposition { prometheus_text, openmetrics };

// OpenMetrics when the Accept header names application/openmetrics-text (with a q above
// 0), the Prometheus text format otherwise.
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
// with HELP and TYPE lines; OpenMetrics ends with "# EOF".
std::string render_probe(const probe_outcome& o, exposition e);

// The exporter's own metrics (/metrics): probes by module and result, in flight, their
// durations (a histogram), scrapes refused, config reloads, and process metrics.
class exporter_metrics {
 public:
  void probe_started(const std::string& module);
  void probe_finished(const std::string& module, bool success, double seconds);
  void probe_joined(const std::string& module);     // a scrape joined a probe already in flight
  void request_refused(const std::string& reason);  // "bad_module", "bad_target", "too_many", …
  void config_loaded(bool ok, double unix_time);
  std::string render(exposition e) const;

 private:
  struct per_module {
    std::uint64_t success = 0, failure = 0, joined = 0;
    std::int64_t in_flight = 0;
    std::vector<std::uint64_t> buckets;  // cumulative at render time
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::map<std::string, per_module> modules_;
  std::map<std::string, std::uint64_t> refused_;
  std::uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
  double last_reload_ok_time_ = 0;
  bool last_reload_ok_ = true;
};

// Seconds since the epoch of an ISO 8601 UTC time "2025-01-31T12:00:00Z" (as
// netcheck::tls_report writes notAfter); nullopt when it is not one.
std::optional<std::int64_t> unix_time_of(std::string_view iso8601);

}  // namespace probe::exporter
