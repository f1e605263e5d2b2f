// probe/exporter/metrics.cpp — see the header.
//
// The two formats differ in little: OpenMetrics names a counter family without its
// `_total` (the sample keeps it), writes histogram bounds as floats (le="1.0") and ends
// with "# EOF"; the Prometheus text format 0.0.4 names the family as its sample.
#include "probe/exporter/metrics.hpp"

#include "probe/core/text_safety.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <sstream>
#include <utility>

namespace probe::exporter {
namespace {

using label = std::pair<std::string_view, std::string_view>;

enum class metric_type { gauge, counter, histogram };

// A number as both parsers read it (std::to_chars, no locale): a whole number as an
// integer ("1700000000", not the shorter "1.7e+09"), any other as the shortest text that
// reads back as the same double. Callers never pass NaN or an infinity.
std::string number(double v) {
  std::array<char, 32> buf{};
  constexpr double exact = 9007199254740992.0;  // 2^53: every integer below is a double
  const auto r = v == std::trunc(v) && std::fabs(v) < exact
                     ? std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<std::int64_t>(v))
                     : std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), r.ptr);
}

// OpenMetrics compares bucket bounds as text: a bound is a float ("1.0"), as Prometheus's
// own client writes them, so every scrape names the same series.
std::string bound_text(double v, exposition e) {
  std::string s = number(v);
  if (e == exposition::openmetrics && s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// A label value per the exposition formats: backslash, double quote and line feed escaped;
// bytes that are not UTF-8 (which Prometheus refuses) become U+FFFD.
void append_label_value(std::string& out, std::string_view v) {
  for (std::size_t i = 0; i < v.size();) {
    const std::size_t len = utf8_sequence_length(v, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    const char c = v[i];
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.append(v.substr(i, len));
    i += len;
  }
}

// Families and samples in the order they are written. The site label, when there is one,
// comes first on every sample.
class writer {
 public:
  writer(exposition e, std::string_view site) : e_(e), site_(site) {}

  // HELP and TYPE of a family; `name` is the counter's name without "_total".
  void family(std::string_view name, metric_type type, std::string_view help) {
    family_ = std::string(name);
    type_ = type;
    std::string shown = family_;
    if (type == metric_type::counter && e_ == exposition::prometheus_text) shown += "_total";
    out_ += "# HELP " + shown + " " + std::string(help) + "\n";
    out_ += "# TYPE " + shown + " " + std::string(type_name()) + "\n";
  }

  // One sample of the current family: `suffix` is "_bucket", "_sum", "_count" for a
  // histogram; counters get their "_total" here. A value that is not finite is not written.
  void sample(std::initializer_list<label> labels, double value, std::string_view suffix = {}) {
    if (!std::isfinite(value)) return;
    out_ += family_;
    out_ += type_ == metric_type::counter ? std::string_view("_total") : suffix;
    bool first = true;
    const auto add = [&](std::string_view name, std::string_view v) {
      out_ += first ? "{" : ",";
      first = false;
      out_.append(name);
      out_ += "=\"";
      append_label_value(out_, v);
      out_ += '"';
    };
    if (!site_.empty()) add("site", site_);
    for (const auto& [name, v] : labels) add(name, v);
    if (!first) out_ += '}';
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
  }

  std::string finish() && {
    if (e_ == exposition::openmetrics) out_ += "# EOF\n";
    return std::move(out_);
  }

 private:
  std::string_view type_name() const noexcept {
    switch (type_) {
      case metric_type::counter: return "counter";
      case metric_type::histogram: return "histogram";
      case metric_type::gauge: break;
    }
    return "gauge";
  }

  exposition e_;
  std::string site_;
  std::string family_;
  metric_type type_ = metric_type::gauge;
  std::string out_;
};

// ---- Accept ----------------------------------------------------------------------------

std::string_view trim(std::string_view s) noexcept {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A qvalue (RFC 9110 §12.4.2): 0 to 1 with at most three decimals; nullopt otherwise.
std::optional<double> qvalue(std::string_view v) {
  v = trim(v);
  if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  double q = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), q, std::chars_format::fixed);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size() || q < 0 || q > 1) return std::nullopt;
  return q;
}

// One media range of an Accept header and what it offers us.
struct media_range {
  bool openmetrics = false;  // application/openmetrics-text, a version we write
  bool text = false;         // text/plain 0.0.4, text/*, */*
  double q = 1;
};

media_range parse_range(std::string_view range) {
  media_range m;
  std::string_view rest = range;
  const auto semi = rest.find(';');
  const std::string type = lower(trim(rest.substr(0, semi)));
  rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
  std::string version;
  bool valid_q = true;
  while (!rest.empty()) {
    const auto next = rest.find(';');
    const std::string_view param = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = lower(trim(param.substr(0, eq)));
    std::string_view value = trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (name == "q") {
      const auto q = qvalue(value);
      valid_q = q.has_value();
      m.q = q.value_or(0);
    } else if (name == "version") {
      version = std::string(value);
    }
  }
  if (!valid_q) return m;
  m.openmetrics = type == "application/openmetrics-text" && (version.empty() || version == "1.0.0");
  m.text = (type == "text/plain" && (version.empty() || version == "0.0.4")) || type == "text/*" || type == "*/*";
  return m;
}

// ---- the probe's metrics ---------------------------------------------------------------

// Phases by name, in the order they first ran; a phase that ran twice counts its total.
std::vector<std::pair<std::string, double>> phase_totals(const std::vector<phase_record>& phases) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& p : phases) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& q) { return q.first == p.name; });
    if (it == out.end()) out.emplace_back(p.name, p.seconds);
    else it->second += p.seconds;
  }
  return out;
}

void write_phases(writer& w, const std::vector<std::pair<std::string, double>>& phases) {
  if (phases.empty()) return;
  w.family("sipprobe_phase_duration_seconds", metric_type::gauge, "How long each step of the probe took.");
  for (const auto& [name, seconds] : phases) w.sample({{"phase", name}}, seconds);
}

void write_status(writer& w, int status) {
  w.family("sipprobe_response_status", metric_type::gauge, "The last final SIP status received (0: none).");
  w.sample({}, status);
}

void write_not_after(writer& w, std::string_view not_after) {
  const auto t = unix_time_of(not_after);
  if (!t) return;
  w.family("sipprobe_tls_cert_not_after_timestamp_seconds", metric_type::gauge,
           "When the registrar's TLS certificate expires (its notAfter), in seconds since the epoch.");
  w.sample({}, static_cast<double>(*t));
}

void write_registration(writer& w, const report& r) {
  const diagnosis_code code = r.primary.code;
  w.family("sipprobe_diagnosis_info", metric_type::gauge, "The diagnosis of the probe, from the sipprobe catalog.");
  w.sample({{"code", describe(code).code}, {"verdict", verdict_for(code)}}, 1);
  write_phases(w, phase_totals(r.phases));
  if (r.registration && r.registration->expires >= 0 && code == diagnosis_code::registered) {
    w.family("sipprobe_registration_expires_seconds", metric_type::gauge, "The registration expiry the registrar granted.");
    w.sample({}, static_cast<double>(r.registration->expires));
  }
  write_status(w, r.transactions.empty() ? 0 : r.transactions.back().status);
  if (r.tls) write_not_after(w, r.tls->not_after);
  std::vector<std::string_view> codes;
  for (const auto& f : r.findings) {
    const auto c = describe(f.code).code;
    if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
  }
  if (codes.empty()) return;
  w.family("sipprobe_findings_info", metric_type::gauge, "Findings of the probe, from the sipprobe catalog.");
  for (auto c : codes) w.sample({{"code", c}}, 1);
}

// The options prober: one answer per transport (any of its targets answering), the first
// status received, the first certificate seen, and how long the first answered check took
// to connect and to shake hands.
void write_checks(writer& w, const std::vector<reach::target_check>& checks) {
  std::vector<std::pair<netcheck::transport, bool>> up;
  for (const auto& c : checks) {
    const bool ok = c.verdict == netcheck::probe_verdict::ok;
    auto it = std::find_if(up.begin(), up.end(), [&](const auto& u) { return u.first == c.target.t; });
    if (it == up.end()) up.emplace_back(c.target.t, ok);
    else it->second = it->second || ok;
  }
  std::vector<std::pair<std::string, double>> phases;
  const auto answered = std::find_if(checks.begin(), checks.end(),
                                     [](const auto& c) { return c.verdict == netcheck::probe_verdict::ok; });
  if (answered != checks.end()) {
    if (answered->connect_ms >= 0) phases.emplace_back("connect", answered->connect_ms / 1000);
    if (answered->handshake_ms >= 0) phases.emplace_back("tls", answered->handshake_ms / 1000);
  }
  write_phases(w, phases);
  const auto with_status = std::find_if(checks.begin(), checks.end(), [](const auto& c) { return c.status != 0; });
  write_status(w, with_status == checks.end() ? 0 : with_status->status);
  const auto with_cert = std::find_if(checks.begin(), checks.end(),
                                      [](const auto& c) { return c.tls && unix_time_of(c.tls->not_after).has_value(); });
  if (with_cert != checks.end()) write_not_after(w, with_cert->tls->not_after);
  if (up.empty()) return;
  w.family("sipprobe_options_up", metric_type::gauge, "Whether a SIP server answered OPTIONS on that transport.");
  for (const auto& [t, ok] : up) w.sample({{"transport", netcheck::to_string(t)}}, ok ? 1 : 0);
}

// ---- process metrics (Linux /proc, as Prometheus's own clients read them) -------------

std::optional<std::string> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return text;
}

// The fields of /proc/self/stat after the command name (which may hold spaces and
// parentheses, so the last ')' ends it): [0] is field 3, the state (proc(5)).
std::vector<std::string> stat_fields() {
  std::vector<std::string> fields;
  const auto text = read_file("/proc/self/stat");
  if (!text) return fields;
  const auto close = text->rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream in(text->substr(close + 1));
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

std::optional<double> stat_number(const std::vector<std::string>& fields, std::size_t field) {
  if (field < 3 || field - 3 >= fields.size()) return std::nullopt;
  const std::string& s = fields[field - 3];
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return static_cast<double>(v);
}

// The value after `key` on the line of `text` that starts with it ("btime 1700000000").
std::optional<double> keyed_number(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream rest(line.substr(key.size()));
    double v = 0;
    if (rest >> v) return v;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec), end;
  if (ec) return std::nullopt;
  double n = 0;
  for (; it != end; it.increment(ec)) {
    if (ec) return std::nullopt;
    ++n;
  }
  return n;
}

// The soft limit of "Max open files" in /proc/self/limits; nullopt when unlimited.
std::optional<double> max_fds() {
  const auto text = read_file("/proc/self/limits");
  if (!text) return std::nullopt;
  return keyed_number(*text, "Max open files");
}

void write_gauge(writer& w, std::string_view name, std::string_view help, std::optional<double> v) {
  if (!v) return;
  w.family(name, metric_type::gauge, help);
  w.sample({}, *v);
}

void write_process(writer& w) {
  const auto fields = stat_fields();
  const long tick = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  const auto utime = stat_number(fields, 14), stime = stat_number(fields, 15);
  if (utime && stime && tick > 0) {
    w.family("process_cpu_seconds", metric_type::counter, "Total user and system CPU time spent in seconds.");
    w.sample({}, (*utime + *stime) / static_cast<double>(tick));
  }
  std::optional<double> vsize, rss;
  if (const auto statm = read_file("/proc/self/statm"); statm && page > 0) {
    std::istringstream in(*statm);
    double pages_size = 0, pages_resident = 0;
    if (in >> pages_size >> pages_resident) {
      vsize = pages_size * static_cast<double>(page);
      rss = pages_resident * static_cast<double>(page);
    }
  }
  write_gauge(w, "process_virtual_memory_bytes", "Virtual memory size in bytes.", vsize);
  write_gauge(w, "process_resident_memory_bytes", "Resident memory size in bytes.", rss);
  write_gauge(w, "process_open_fds", "Number of open file descriptors.", open_fds());
  write_gauge(w, "process_max_fds", "Maximum number of open file descriptors.", max_fds());
  const auto start = stat_number(fields, 22);
  const auto proc_stat = read_file("/proc/stat");
  const auto boot = proc_stat ? keyed_number(*proc_stat, "btime") : std::nullopt;
  if (start && boot && tick > 0)
    write_gauge(w, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                *boot + *start / static_cast<double>(tick));
}

// Histogram bounds of the probe durations, in seconds (le="+Inf" follows them).
constexpr std::array<double, 12> duration_bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60};

}  // namespace

// ---- public ------------------------------------------------------------------------------

exposition negotiate(std::string_view accept_header) {
  // RFC 9110 §12.5.1: the range the client prefers most (highest q) decides; at equal q,
  // OpenMetrics; a range with q=0 is refused. Nothing we write acceptable: the text format.
  double best_openmetrics = 0, best_text = 0;
  while (!accept_header.empty()) {
    const auto comma = accept_header.find(',');
    const media_range m = parse_range(accept_header.substr(0, comma));
    accept_header = comma == std::string_view::npos ? std::string_view{} : accept_header.substr(comma + 1);
    if (m.openmetrics) best_openmetrics = std::max(best_openmetrics, m.q);
    if (m.text) best_text = std::max(best_text, m.q);
  }
  return best_openmetrics > 0 && best_openmetrics >= best_text ? exposition::openmetrics : exposition::prometheus_text;
}

std::string_view content_type(exposition e) noexcept {
  return e == exposition::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                      : "text/plain; version=0.0.4; charset=utf-8";
}

std::string render_probe(const probe_outcome& o, exposition e) {
  writer w(e, o.site);
  const bool failed = !o.error.empty();
  w.family("probe_success", metric_type::gauge, "Whether the probe succeeded.");
  w.sample({}, o.success && !failed ? 1 : 0);
  w.family("probe_duration_seconds", metric_type::gauge, "How long the probe took, in seconds.");
  w.sample({}, std::isfinite(o.duration_s) && o.duration_s > 0 ? o.duration_s : 0);
  if (!failed) {
    if (o.registration) write_registration(w, *o.registration);
    else if (!o.checks.empty()) write_checks(w, o.checks);
  }
  return std::move(w).finish();
}

void exporter_metrics::probe_started(const std::string& module) {
  std::lock_guard lock(mutex_);
  ++modules_[module].in_flight;
}

void exporter_metrics::probe_finished(const std::string& module, bool success, double seconds) {
  std::lock_guard lock(mutex_);
  auto& m = modules_[module];
  if (m.in_flight > 0) --m.in_flight;
  ++(success ? m.success : m.failure);
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  if (m.buckets.empty()) m.buckets.assign(duration_bounds.size(), 0);
  const auto at = std::lower_bound(duration_bounds.begin(), duration_bounds.end(), seconds) - duration_bounds.begin();
  if (static_cast<std::size_t>(at) < m.buckets.size()) ++m.buckets[static_cast<std::size_t>(at)];
  m.sum += seconds;
  ++m.count;
}

void exporter_metrics::probe_joined(const std::string& module) {
  std::lock_guard lock(mutex_);
  ++modules_[module].joined;
}

void exporter_metrics::request_refused(const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++refused_[reason];
}

void exporter_metrics::config_loaded(bool ok, double unix_time) {
  std::lock_guard lock(mutex_);
  last_reload_ok_ = ok;
  if (ok) last_reload_ok_time_ = unix_time;
}

std::string exporter_metrics::render(exposition e) const {
  writer w(e, "");
  {
    std::lock_guard lock(mutex_);
    if (!modules_.empty()) {
      w.family("sipprobe_exporter_probes", metric_type::counter, "Probes run, by module and result.");
      for (const auto& [name, m] : modules_) {
        w.sample({{"module", name}, {"result", "success"}}, static_cast<double>(m.success));
        w.sample({{"module", name}, {"result", "failure"}}, static_cast<double>(m.failure));
      }
      w.family("sipprobe_exporter_probes_joined", metric_type::counter,
               "Scrapes that joined a probe of the same module and target already in flight.");
      for (const auto& [name, m] : modules_) w.sample({{"module", name}}, static_cast<double>(m.joined));
      w.family("sipprobe_exporter_probes_in_flight", metric_type::gauge, "Probes running now.");
      for (const auto& [name, m] : modules_) w.sample({{"module", name}}, static_cast<double>(m.in_flight));
      w.family("sipprobe_exporter_probe_duration_seconds", metric_type::histogram, "How long probes took, in seconds.");
      for (const auto& [name, m] : modules_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < duration_bounds.size(); ++i) {
          cumulative += i < m.buckets.size() ? m.buckets[i] : 0;
          const std::string le = bound_text(duration_bounds[i], e);
          w.sample({{"module", name}, {"le", le}}, static_cast<double>(cumulative), "_bucket");
        }
        w.sample({{"module", name}, {"le", "+Inf"}}, static_cast<double>(m.count), "_bucket");
        w.sample({{"module", name}}, m.sum, "_sum");
        w.sample({{"module", name}}, static_cast<double>(m.count), "_count");
      }
    }
    if (!refused_.empty()) {
      w.family("sipprobe_exporter_requests_refused", metric_type::counter, "Requests refused, by reason.");
      for (const auto& [reason, n] : refused_) w.sample({{"reason", reason}}, static_cast<double>(n));
    }
    w.family("sipprobe_exporter_config_last_reload_successful", metric_type::gauge,
             "Whether the last configuration load succeeded.");
    w.sample({}, last_reload_ok_ ? 1 : 0);
    w.family("sipprobe_exporter_config_last_reload_success_timestamp_seconds", metric_type::gauge,
             "When the configuration was last loaded successfully, in seconds since the epoch.");
    w.sample({}, last_reload_ok_time_);
  }
  write_process(w);
  return std::move(w).finish();
}

std::optional<std::int64_t> unix_time_of(std::string_view s) {
  // Exactly "YYYY-MM-DDTHH:MM:SSZ": the calendar of <chrono> counts the days, so neither
  // the time zone nor timegm() has a say.
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != shape.size()) return std::nullopt;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (shape[i] == 'd' ? !digit : s[i] != shape[i]) return std::nullopt;
  }
  const auto num = [&](std::size_t at, std::size_t len) {
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const std::chrono::year_month_day date{std::chrono::year{num(0, 4)}, std::chrono::month{static_cast<unsigned>(num(5, 2))},
                                         std::chrono::day{static_cast<unsigned>(num(8, 2))}};
  const int hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const auto days = std::chrono::sys_days{date}.time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + hour * 3600 + minute * 60 + second;
}

}  // namespace probe::exporter
