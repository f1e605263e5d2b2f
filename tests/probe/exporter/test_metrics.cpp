// What a scrape gets (probe/exporter/metrics.cpp): the metrics of one probe and of the
// exporter, in the Prometheus text format and in OpenMetrics, checked line for line and by
// Prometheus's own linter (promtool check metrics).
#include <doctest/doctest.h>

#include "probe/exporter/metrics.hpp"
#include "support/process.hpp"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace {

using probe::diagnosis_code;
using probe::finding_code;
using probe::exporter::exposition;
using probe::exporter::probe_outcome;
using probe::exporter::render_probe;

// The HELP and TYPE lines of each family of a probe's answer.
std::string head(const std::string& name, const std::string& help) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge";
}
const std::string success_head = head("probe_success", "Whether the probe succeeded.");
const std::string duration_head = head("probe_duration_seconds", "How long the probe took, in seconds.");
const std::string diagnosis_head = head("sipprobe_diagnosis_info", "The diagnosis of the probe, from the sipprobe catalog.");
const std::string phase_head = head("sipprobe_phase_duration_seconds", "How long each step of the probe took.");
const std::string expires_head = head("sipprobe_registration_expires_seconds", "The registration expiry the registrar granted.");
const std::string status_head = head("sipprobe_response_status", "The last final SIP status received (0: none).");
const std::string not_after_head = head(
    "sipprobe_tls_cert_not_after_timestamp_seconds",
    "When the registrar's TLS certificate expires (its notAfter), in seconds since the epoch.");
const std::string findings_head = head("sipprobe_findings_info", "Findings of the probe, from the sipprobe catalog.");
const std::string up_head = head("sipprobe_options_up", "Whether a SIP server answered OPTIONS on that transport.");

// The lines of an answer, each ended by a line feed.
std::string lines(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p + "\n";
  return out;
}

// An outcome of `prober` with nothing in it yet.
probe_outcome outcome_of(const char* prober, bool success, double duration_s) {
  probe_outcome o;
  o.prober = prober;
  o.success = success;
  o.duration_s = duration_s;
  return o;
}

probe::transaction_record register_answered(int status) {
  probe::transaction_record t;
  t.request = "REGISTER";
  t.status = status;
  return t;
}

// alice registered over TLS: challenged, then granted 3600 s.
probe_outcome registered_over_tls() {
  probe_outcome o = outcome_of("register", true, 0.0675);
  probe::report r;
  r.aor = "sip:alice@sip.test";
  r.primary.code = diagnosis_code::registered;
  r.phases = {{"dns", 0.004}, {"connect", 0.001}, {"tls", 0.012}, {"challenge", 0.02}, {"register", 0.025}};
  r.transactions = {register_answered(401), register_answered(200)};
  r.registration = probe::registration_record{};
  r.registration->requested_expires = 3600;
  r.registration->expires = 3600;
  r.tls = probe::tls_record{};
  r.tls->verdict = "ok";
  r.tls->not_after = "2027-01-31T12:00:00Z";
  o.registration = r;
  return o;
}

// bob's password is refused; two findings, one of them noted twice.
probe_outcome auth_failed_with_findings() {
  probe_outcome o = outcome_of("query", false, 0.5);
  probe::report r;
  r.primary.code = diagnosis_code::auth_failed;
  r.findings = {{finding_code::realm_mismatch, "realm \"a\""},
                {finding_code::auth_user_looks_like_extension, ""},
                {finding_code::realm_mismatch, "again"}};
  r.phases = {{"dns", 0.25}, {"challenge", 0.125}, {"register", 0.125}};
  r.transactions = {register_answered(401), register_answered(401)};
  r.registration = probe::registration_record{};  // nothing granted: no expiry metric
  r.tls = probe::tls_record{};                    // a certificate without a notAfter: no metric
  o.registration = r;
  return o;
}

probe::reach::target_check check_of(netcheck::transport t, netcheck::probe_verdict v, int status) {
  probe::reach::target_check c;
  c.target.t = t;
  c.target.address = "127.0.0.1";
  c.verdict = v;
  c.status = status;
  return c;
}

// OPTIONS: the first UDP target silent, the second answering; TCP refused.
probe_outcome options_udp_up_tcp_down() {
  probe_outcome o = outcome_of("options", true, 3);
  o.checks.push_back(check_of(netcheck::transport::udp, netcheck::probe_verdict::no_answer, 0));
  auto answered = check_of(netcheck::transport::udp, netcheck::probe_verdict::ok, 200);
  answered.rtt_ms = 2;
  o.checks.push_back(answered);
  auto refused = check_of(netcheck::transport::tcp, netcheck::probe_verdict::refused, 0);
  refused.connect_ms = 0.5;
  o.checks.push_back(refused);
  return o;
}

// The account could not be probed at all; its report, if any, is not shown.
probe_outcome error_outcome() {
  probe_outcome o = auth_failed_with_findings();
  o.error = "no account for sip:carol@sip.test in accounts.csv\nsecond line";
  o.duration_s = 0.001;
  return o;
}

std::string without_process_metrics(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("process_", 0) == 0 || line.rfind("# HELP process_", 0) == 0 || line.rfind("# TYPE process_", 0) == 0)
      continue;
    out += line + "\n";
  }
  return out;
}

// Runs `promtool check metrics` on `text`; what it printed, and its exit status.
test_support::run_result promtool_check(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("sipprobe-metrics-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  auto r = test_support::run("promtool check metrics < " + test_support::shell_quote(path.string()) + " 2>&1");
  std::filesystem::remove(path);
  return r;
}

}  // namespace

TEST_CASE("exporter metrics: a registration over TLS, in the Prometheus text format") {
  CHECK(render_probe(registered_over_tls(), exposition::prometheus_text) ==
        lines({
            success_head,
            "probe_success 1",
            duration_head,
            "probe_duration_seconds 0.0675",
            diagnosis_head,
            "sipprobe_diagnosis_info{code=\"registered\",verdict=\"registered\"} 1",
            phase_head,
            "sipprobe_phase_duration_seconds{phase=\"dns\"} 0.004",
            "sipprobe_phase_duration_seconds{phase=\"connect\"} 0.001",
            "sipprobe_phase_duration_seconds{phase=\"tls\"} 0.012",
            "sipprobe_phase_duration_seconds{phase=\"challenge\"} 0.02",
            "sipprobe_phase_duration_seconds{phase=\"register\"} 0.025",
            expires_head,
            "sipprobe_registration_expires_seconds 3600",
            status_head,
            "sipprobe_response_status 200",
            not_after_head,
            "sipprobe_tls_cert_not_after_timestamp_seconds 1801396800",
        }));
}

TEST_CASE("exporter metrics: a registration with a site, in OpenMetrics") {
  auto o = registered_over_tls();
  o.site = "paris";
  o.registration->phases = {{"connect", 0.5}, {"connect", 0.25}};  // one series per phase: their total
  o.registration->tls.reset();
  CHECK(render_probe(o, exposition::openmetrics) ==
        lines({
            success_head,
            "probe_success{site=\"paris\"} 1",
            duration_head,
            "probe_duration_seconds{site=\"paris\"} 0.0675",
            diagnosis_head,
            "sipprobe_diagnosis_info{site=\"paris\",code=\"registered\",verdict=\"registered\"} 1",
            phase_head,
            "sipprobe_phase_duration_seconds{site=\"paris\",phase=\"connect\"} 0.75",
            expires_head,
            "sipprobe_registration_expires_seconds{site=\"paris\"} 3600",
            status_head,
            "sipprobe_response_status{site=\"paris\"} 200",
            "# EOF",
        }));
}

TEST_CASE("exporter metrics: auth_failed with findings, each finding once, no expiry nor certificate") {
  const std::string body = lines({
      success_head,
      "probe_success 0",
      duration_head,
      "probe_duration_seconds 0.5",
      diagnosis_head,
      "sipprobe_diagnosis_info{code=\"auth_failed\",verdict=\"failed\"} 1",
      phase_head,
      "sipprobe_phase_duration_seconds{phase=\"dns\"} 0.25",
      "sipprobe_phase_duration_seconds{phase=\"challenge\"} 0.125",
      "sipprobe_phase_duration_seconds{phase=\"register\"} 0.125",
      status_head,
      "sipprobe_response_status 401",
      findings_head,
      "sipprobe_findings_info{code=\"realm_mismatch\"} 1",
      "sipprobe_findings_info{code=\"auth_user_looks_like_extension\"} 1",
  });
  CHECK(render_probe(auth_failed_with_findings(), exposition::prometheus_text) == body);
  CHECK(render_probe(auth_failed_with_findings(), exposition::openmetrics) == body + "# EOF\n");
}

TEST_CASE("exporter metrics: a registered verdict without a granted expiry has no expiry metric") {
  auto o = registered_over_tls();
  o.registration->registration->expires = -1;
  CHECK(render_probe(o, exposition::prometheus_text).find("sipprobe_registration_expires_seconds") == std::string::npos);
  o = registered_over_tls();
  o.registration->registration->expires = 0;
  o.registration->primary.code = diagnosis_code::unregistered;
  CHECK(render_probe(o, exposition::prometheus_text).find("sipprobe_registration_expires_seconds") == std::string::npos);
  o = registered_over_tls();
  o.registration->transactions.clear();
  CHECK(render_probe(o, exposition::prometheus_text).find("sipprobe_response_status 0\n") != std::string::npos);
}

TEST_CASE("exporter metrics: options, UDP answering on one of its targets, TCP refused") {
  const std::string body = lines({
      success_head,
      "probe_success{site=\"lyon\"} 1",
      duration_head,
      "probe_duration_seconds{site=\"lyon\"} 3",
      status_head,
      "sipprobe_response_status{site=\"lyon\"} 200",
      up_head,
      "sipprobe_options_up{site=\"lyon\",transport=\"udp\"} 1",
      "sipprobe_options_up{site=\"lyon\",transport=\"tcp\"} 0",
  });
  auto o = options_udp_up_tcp_down();
  o.site = "lyon";
  CHECK(render_probe(o, exposition::prometheus_text) == body);
  CHECK(render_probe(o, exposition::openmetrics) == body + "# EOF\n");
}

TEST_CASE("exporter metrics: options over TLS give the connect and handshake times and the notAfter") {
  probe_outcome o = outcome_of("options", true, 0.25);
  auto tls = check_of(netcheck::transport::tls, netcheck::probe_verdict::ok, 404);
  tls.connect_ms = 1.5;
  tls.handshake_ms = 12;
  tls.tls = netcheck::tls_report{};
  tls.tls->not_after = "2024-12-31T23:59:59Z";
  o.checks.push_back(tls);
  const std::string expected = lines({
      success_head,
      "probe_success 1",
      duration_head,
      "probe_duration_seconds 0.25",
      phase_head,
      "sipprobe_phase_duration_seconds{phase=\"connect\"} 0.0015",
      "sipprobe_phase_duration_seconds{phase=\"tls\"} 0.012",
      status_head,
      "sipprobe_response_status 404",
      not_after_head,
      "sipprobe_tls_cert_not_after_timestamp_seconds 1735689599",
      up_head,
      "sipprobe_options_up{transport=\"tls\"} 1",
  });
  CHECK(render_probe(o, exposition::prometheus_text) == expected);
}

TEST_CASE("exporter metrics: a probe that could not run fails without a diagnosis, and its error is no label") {
  const std::string body = lines({success_head, "probe_success 0", duration_head, "probe_duration_seconds 0.001"});
  auto o = error_outcome();
  o.success = true;  // an error wins over a success flag set by mistake
  CHECK(render_probe(o, exposition::prometheus_text) == body);
  CHECK(render_probe(o, exposition::openmetrics) == body + "# EOF\n");
}

TEST_CASE("exporter metrics: numbers that are not finite are never written") {
  auto o = registered_over_tls();
  o.duration_s = std::numeric_limits<double>::quiet_NaN();
  o.registration->phases = {{"dns", std::numeric_limits<double>::infinity()}, {"connect", 0.5}};
  const auto text = render_probe(o, exposition::prometheus_text);
  CHECK(text.find("probe_duration_seconds 0\n") != std::string::npos);
  CHECK(text.find("phase=\"dns\"") == std::string::npos);
  CHECK(text.find("sipprobe_phase_duration_seconds{phase=\"connect\"} 0.5\n") != std::string::npos);
  for (const char* word : {" nan", " -nan", " inf", " -inf", "NaN", "Inf"}) {
    CAPTURE(word);
    CHECK(text.find(word) == std::string::npos);
  }
}

TEST_CASE("exporter metrics: a hostile site label is escaped, bytes that are not UTF-8 replaced") {
  probe_outcome o;
  o.site =
      "a\"b\\c\nd\xff"
      "é";
  for (auto e : {exposition::prometheus_text, exposition::openmetrics}) {
    const auto text = render_probe(o, e);
    CHECK(text.find("probe_success{site=\"a\\\"b\\\\c\\nd\xEF\xBF\xBD"
                    "é\"} 0\n") != std::string::npos);
    CHECK(text.find('\xff') == std::string::npos);
  }
}

TEST_CASE("exporter metrics: the Accept header decides the format") {
  using probe::exporter::negotiate;
  struct row {
    const char* accept;
    exposition expected;
  };
  const row rows[] = {
      // Prometheus 2.42's own scrape header.
      {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
       "q=0.5,*/*;q=0.1",
       exposition::openmetrics},
      {"text/plain", exposition::prometheus_text},
      {"", exposition::prometheus_text},
      {"*/*", exposition::prometheus_text},
      {"application/openmetrics-text", exposition::openmetrics},
      {"Application/OpenMetrics-Text; Version=1.0.0", exposition::openmetrics},
      {"application/openmetrics-text;q=0", exposition::prometheus_text},
      {"application/openmetrics-text; q=0.000, text/plain", exposition::prometheus_text},
      {"application/openmetrics-text;q=0.3,text/plain;q=0.9", exposition::prometheus_text},
      {"text/plain;q=0.5, application/openmetrics-text;q=0.5", exposition::openmetrics},
      {"application/openmetrics-text;version=2.0.0", exposition::prometheus_text},
      {"application/openmetrics-text;q=2", exposition::prometheus_text},
      {"application/openmetrics-text;q=abc", exposition::prometheus_text},
      {"application/json, application/openmetrics-text ; q=0.1", exposition::openmetrics},
      {",,;;=,application/openmetrics-text;=;q", exposition::openmetrics},
  };
  for (const auto& r : rows) {
    CAPTURE(r.accept);
    CHECK(negotiate(r.accept) == r.expected);
  }
  CHECK(probe::exporter::content_type(exposition::prometheus_text) == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(probe::exporter::content_type(exposition::openmetrics) == "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

TEST_CASE("exporter metrics: notAfter times read as seconds since the epoch, strictly") {
  using probe::exporter::unix_time_of;
  struct row {
    const char* text;
    std::optional<std::int64_t> expected;
  };
  const row rows[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2027-01-31T12:00:00Z", 1801396800},
      {"2000-02-29T23:59:59Z", 951868799},
      {"1969-12-31T23:59:59Z", -1},
      {"2038-01-19T03:14:08Z", 2147483648},
      {"9999-12-31T23:59:59Z", 253402300799},
      {"", std::nullopt},
      {"2027-01-31T12:00:00", std::nullopt},
      {"2027-01-31 12:00:00Z", std::nullopt},
      {"2027-01-31T12:00:00+01:00", std::nullopt},
      {"2027-01-31T12:00:00.5Z", std::nullopt},
      {"2027-1-31T12:00:00Z", std::nullopt},
      {"2027-13-01T00:00:00Z", std::nullopt},
      {"2027-00-01T00:00:00Z", std::nullopt},
      {"2027-02-29T00:00:00Z", std::nullopt},
      {"1900-02-29T00:00:00Z", std::nullopt},
      {"2027-04-31T00:00:00Z", std::nullopt},
      {"2027-01-00T00:00:00Z", std::nullopt},
      {"2027-01-31T24:00:00Z", std::nullopt},
      {"2027-01-31T12:60:00Z", std::nullopt},
      {"2027-01-31T12:00:60Z", std::nullopt},
      {"2027-01-31T12:00:0aZ", std::nullopt},
      {"+027-01-31T12:00:00Z", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(unix_time_of(r.text) == r.expected);
  }
}

TEST_CASE("exporter metrics: the exporter's own, after some probes") {
  probe::exporter::exporter_metrics m;
  m.probe_started("reg");
  m.probe_started("reg");
  m.probe_finished("reg", true, 0.02);
  m.probe_joined("reg");
  m.probe_started("opt");
  m.probe_finished("opt", false, 75);
  m.probe_started("opt");
  m.probe_finished("opt", true, 1);
  m.request_refused("bad_module");
  m.request_refused("bad_module");
  m.request_refused("too_many");
  m.config_loaded(true, 1700000000);
  m.config_loaded(false, 1700000100);
  const std::string histogram_reg =
      "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"0.005\"} 0\n"
      "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"0.01\"} 0\n"
      "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"0.025\"} 1\n"
      "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"0.05\"} 1\n"
      "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"0.1\"} 1\n"
      "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"0.25\"} 1\n"
      "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"0.5\"} 1\n";
  const auto expected = [&](exposition e) {
    const bool om = e == exposition::openmetrics;
    const std::string total = om ? "" : "_total";
    const auto le = [&](const char* v) { return std::string(v) + (om ? ".0" : ""); };
    std::string s;
    s += "# HELP sipprobe_exporter_probes" + total + " Probes run, by module and result.\n";
    s += "# TYPE sipprobe_exporter_probes" + total + " counter\n";
    s += "sipprobe_exporter_probes_total{module=\"opt\",result=\"success\"} 1\n";
    s += "sipprobe_exporter_probes_total{module=\"opt\",result=\"failure\"} 1\n";
    s += "sipprobe_exporter_probes_total{module=\"reg\",result=\"success\"} 1\n";
    s += "sipprobe_exporter_probes_total{module=\"reg\",result=\"failure\"} 0\n";
    s += "# HELP sipprobe_exporter_probes_joined" + total +
         " Scrapes that joined a probe of the same module and target already in flight.\n";
    s += "# TYPE sipprobe_exporter_probes_joined" + total + " counter\n";
    s += "sipprobe_exporter_probes_joined_total{module=\"opt\"} 0\n";
    s += "sipprobe_exporter_probes_joined_total{module=\"reg\"} 1\n";
    s += "# HELP sipprobe_exporter_probes_in_flight Probes running now.\n";
    s += "# TYPE sipprobe_exporter_probes_in_flight gauge\n";
    s += "sipprobe_exporter_probes_in_flight{module=\"opt\"} 0\n";
    s += "sipprobe_exporter_probes_in_flight{module=\"reg\"} 1\n";
    s += "# HELP sipprobe_exporter_probe_duration_seconds How long probes took, in seconds.\n";
    s += "# TYPE sipprobe_exporter_probe_duration_seconds histogram\n";
    const char* low[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5"};
    for (const char* b : low)
      s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"opt\",le=\"" + std::string(b) + "\"} 0\n";
    s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"opt\",le=\"" + le("1") + "\"} 1\n";
    s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"opt\",le=\"2.5\"} 1\n";
    for (const char* b : {"5", "10", "60"})
      s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"opt\",le=\"" + le(b) + "\"} 1\n";
    s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"opt\",le=\"+Inf\"} 2\n";
    s += "sipprobe_exporter_probe_duration_seconds_sum{module=\"opt\"} 76\n";
    s += "sipprobe_exporter_probe_duration_seconds_count{module=\"opt\"} 2\n";
    s += histogram_reg;
    s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"" + le("1") + "\"} 1\n";
    s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"2.5\"} 1\n";
    for (const char* b : {"5", "10", "60"})
      s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"" + le(b) + "\"} 1\n";
    s += "sipprobe_exporter_probe_duration_seconds_bucket{module=\"reg\",le=\"+Inf\"} 1\n";
    s += "sipprobe_exporter_probe_duration_seconds_sum{module=\"reg\"} 0.02\n";
    s += "sipprobe_exporter_probe_duration_seconds_count{module=\"reg\"} 1\n";
    s += "# HELP sipprobe_exporter_requests_refused" + total + " Requests refused, by reason.\n";
    s += "# TYPE sipprobe_exporter_requests_refused" + total + " counter\n";
    s += "sipprobe_exporter_requests_refused_total{reason=\"bad_module\"} 2\n";
    s += "sipprobe_exporter_requests_refused_total{reason=\"too_many\"} 1\n";
    s += "# HELP sipprobe_exporter_config_last_reload_successful Whether the last configuration load succeeded.\n";
    s += "# TYPE sipprobe_exporter_config_last_reload_successful gauge\n";
    s += "sipprobe_exporter_config_last_reload_successful 0\n";
    s += "# HELP sipprobe_exporter_config_last_reload_success_timestamp_seconds When the configuration was last loaded "
         "successfully, in seconds since the epoch.\n";
    s += "# TYPE sipprobe_exporter_config_last_reload_success_timestamp_seconds gauge\n";
    s += "sipprobe_exporter_config_last_reload_success_timestamp_seconds 1700000000\n";
    if (om) s += "# EOF\n";
    return s;
  };
  for (auto e : {exposition::prometheus_text, exposition::openmetrics}) {
    CAPTURE(e == exposition::openmetrics);
    const auto text = m.render(e);
    CHECK(without_process_metrics(text) == expected(e));
  }
}

TEST_CASE("exporter metrics: the process metrics of Linux") {
  const auto text = probe::exporter::exporter_metrics{}.render(exposition::prometheus_text);
  // A value of the sample named `name`, or a negative one when there is none.
  const auto value = [&](const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1.0;
    return std::stod(text.substr(at + name.size() + 2));
  };
  CHECK(text.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
  CHECK(value("process_cpu_seconds_total") >= 0);
  CHECK(value("process_resident_memory_bytes") > 1e5);
  CHECK(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
  CHECK(value("process_open_fds") >= 3);
  CHECK(value("process_max_fds") >= value("process_open_fds"));
  const double now = static_cast<double>(std::time(nullptr));
  CHECK(value("process_start_time_seconds") > now - 24 * 3600);
  CHECK(value("process_start_time_seconds") <= now + 1);
  const auto om = probe::exporter::exporter_metrics{}.render(exposition::openmetrics);
  CHECK(om.find("# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total ") != std::string::npos);
}

TEST_CASE("exporter metrics: promtool check metrics passes on every answer") {
  REQUIRE_MESSAGE(test_support::run("command -v promtool").exit_code == 0,
                  "promtool is not installed (Debian: prometheus; scripts/setup installs it)");
  std::vector<probe_outcome> outcomes = {registered_over_tls(), auth_failed_with_findings(), options_udp_up_tcp_down(),
                                         error_outcome()};
  auto with_site = registered_over_tls();
  with_site.site = "a\"b\\c\nd";
  outcomes.push_back(with_site);
  for (const auto& o : outcomes) {
    for (auto e : {exposition::prometheus_text, exposition::openmetrics}) {
      const auto text = render_probe(o, e);
      CAPTURE(text);
      const auto r = promtool_check(text);
      CHECK(r.exit_code == 0);
      CHECK(r.out == "");
    }
  }
  probe::exporter::exporter_metrics m;
  m.probe_started("reg");
  m.probe_finished("reg", true, 0.3);
  m.probe_joined("reg");
  m.request_refused("too_many");
  m.config_loaded(true, 1700000000);
  // promtool 2.42 reads the Prometheus text format only: in OpenMetrics a counter family is
  // named without its _total, which that parser takes for a second family without HELP.
  // The OpenMetrics answer of /metrics is checked line for line above instead.
  const auto text = m.render(exposition::prometheus_text);
  CAPTURE(text);
  const auto r = promtool_check(text);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "");
}
