// `sipprobe exporter` against the lab Kamailio, scraped by curl and by a real Prometheus
// (tests/lab/exporter, tests/lab/prometheus): every prober, the metrics, promtool on every
// answer, the HTTP refusals, reload, and no secret anywhere.
#include "support/lab_checks.hpp"
#include "support/probe_run.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <fstream>

using test_support::lab_service;
using test_support::run;
using test_support::shell_quote;

namespace {

const std::string secret = "alice-secret";

struct http_answer {
  int status = 0;
  std::string body, content_type;
};

// GET with curl (bounded), the status, Content-Type and body.
http_answer get(const std::string& url, const std::string& headers = "") {
  const auto dir = test_support::make_temp_dir("curl");
  auto r = run("curl -s -m 10 " + headers + " -o " + shell_quote(dir + "/body") + " -w '%{http_code} %{content_type}' " +
               shell_quote(url) + " 2>&1");
  http_answer a;
  const auto sp = r.out.find(' ');
  a.status = std::atoi(r.out.substr(0, sp).c_str());
  if (sp != std::string::npos) a.content_type = r.out.substr(sp + 1);
  a.body = test_support::slurp(dir + "/body");
  return a;
}

// promtool check metrics on a scrape's body: no error, no lint complaint.
void check_promtool(const std::string& body) {
  const auto dir = test_support::make_temp_dir("promtool");
  std::ofstream(dir + "/m.txt") << body;
  auto r = run("promtool check metrics < " + shell_quote(dir + "/m.txt") + " 2>&1");
  CHECK_MESSAGE(r.exit_code == 0, "promtool: " << r.out << "\n" << body);
  CHECK_MESSAGE(r.out.empty(), "promtool: " << r.out);
}

std::string write_config(const std::string& dir, const std::string& sip_port, const std::string& extra = "") {
  const std::string reg = "127.0.0.1:" + sip_port;
  std::ofstream(dir + "/modules.yml") << "modules:\n"
                                      << "  reg: {prober: register, registrar: \"" << reg
                                      << "\", transport: udp, timeout: 5s, password_env: EXP_PW}\n"
                                      << "  bad: {prober: register, registrar: \"" << reg
                                      << "\", transport: udp, timeout: 5s, password_env: EXP_BAD}\n"
                                      << "  query: {prober: query, registrar: \"" << reg
                                      << "\", transport: tcp, timeout: 5s, password_env: EXP_PW}\n"
                                      << "  opt: {prober: options, transport: udp, timeout: 3s}\n"
                                      << "  in: {prober: inbound, registrar: \"" << reg
                                      << "\", transport: udp, timeout: 5s, password_env: EXP_PW}\n"
                                      << extra;
  return dir + "/modules.yml";
}

std::map<std::string, std::string> exporter_env(const std::string& config, const std::string& args = "") {
  return {{"SIPPROBE", SIPPROBE_BINARY},
          {"CONFIG", config},
          {"EXP_PW", secret},
          {"EXP_BAD", "wrong-secret"},
          {"EXPORTER_ARGS", args}};
}

std::string probe_url(const lab_service& exp, const std::string& module, const std::string& target) {
  return "http://" + exp.get("EXPORTER") + "/probe?module=" + module + "&target=" + target;
}

bool has_line(const std::string& body, const std::string& line) {
  return ("\n" + body).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("exporter: each prober against the lab registrar, in the Prometheus text format") {
  lab_service kam("kamailio");
  const auto dir = test_support::make_temp_dir("exporter-cfg");
  std::ofstream(dir + "/accounts.csv") << "aor,password\nsip:alice@sip.test,alice-secret\nsip:bob@sip.test,not-bobs\n";
  const std::string extra = "  tls: {prober: query, registrar: \"127.0.0.1:" + kam.get("TLS_PORT") +
                            "\", transport: tls, ca_file: " + kam.get("CA_FILE") + ", password_env: EXP_PW}\n" +
                            "  csv: {prober: query, registrar: \"127.0.0.1:" + kam.get("SIP_PORT") +
                            "\", transport: udp, accounts_csv: " + dir + "/accounts.csv}\n";
  lab_service exp("exporter", exporter_env(write_config(dir, kam.get("SIP_PORT"), extra), "--site lab1"));

  auto reg = get(probe_url(exp, "reg", "sip:alice@sip.test"));
  INFO(reg.body);
  CHECK(reg.status == 200);
  CHECK(reg.content_type.find("text/plain; version=0.0.4") == 0);
  CHECK(has_line(reg.body, "probe_success{site=\"lab1\"} 1"));
  CHECK(has_line(reg.body, "sipprobe_diagnosis_info{site=\"lab1\",code=\"registered\",verdict=\"registered\"} 1"));
  CHECK(reg.body.find("sipprobe_phase_duration_seconds{") != std::string::npos);
  CHECK(reg.body.find("phase=\"register\"") != std::string::npos);
  check_promtool(reg.body);
  CHECK(test_support::bindings(kam, "alice").empty());  // the probe removed its binding

  auto bad = get(probe_url(exp, "bad", "sip:alice@sip.test"));
  INFO(bad.body);
  CHECK(has_line(bad.body, "probe_success{site=\"lab1\"} 0"));
  CHECK(bad.body.find("code=\"auth_failed\"") != std::string::npos);
  check_promtool(bad.body);

  auto query = get(probe_url(exp, "query", "sip%3Aalice%40sip.test"));
  INFO(query.body);
  CHECK(query.body.find("code=\"credentials_valid\"") != std::string::npos);
  CHECK(has_line(query.body, "probe_success{site=\"lab1\"} 1"));

  auto in = get(probe_url(exp, "in", "sip:alice@sip.test"));
  INFO(in.body);
  CHECK(in.body.find("phase=\"inbound\"") != std::string::npos);
  CHECK(has_line(in.body, "probe_success{site=\"lab1\"} 1"));

  // Over TLS: the handshake's phase and the certificate's notAfter.
  auto tls = get(probe_url(exp, "tls", "sip:alice@sip.test"));
  INFO(tls.body);
  CHECK(has_line(tls.body, "probe_success{site=\"lab1\"} 1"));
  CHECK(tls.body.find("sipprobe_phase_duration_seconds{site=\"lab1\",phase=\"tls\"}") != std::string::npos);
  CHECK(tls.body.find("sipprobe_tls_cert_not_after_timestamp_seconds{site=\"lab1\"} 1") != std::string::npos);
  check_promtool(tls.body);

  // Secrets per target from a batch CSV: the target picks the row; one not in it is refused.
  auto csv_alice = get(probe_url(exp, "csv", "sip:alice@sip.test"));
  CHECK(has_line(csv_alice.body, "probe_success{site=\"lab1\"} 1"));
  auto csv_bob = get(probe_url(exp, "csv", "sip:bob@sip.test"));
  CHECK(csv_bob.body.find("code=\"auth_failed\"") != std::string::npos);
  auto csv_carol = get(probe_url(exp, "csv", "sip:carol@sip.test"));
  CHECK(csv_carol.status == 400);
  CHECK(csv_carol.body.find("no account for sip:carol@sip.test") == 0);

  auto opt = get(probe_url(exp, "opt", "127.0.0.1:" + kam.get("SIP_PORT")));
  INFO(opt.body);
  CHECK(has_line(opt.body, "probe_success{site=\"lab1\"} 1"));
  CHECK(opt.body.find("sipprobe_options_up{") != std::string::npos);
  check_promtool(opt.body);

  // OpenMetrics when the scraper asks for it.
  auto om = get(probe_url(exp, "reg", "sip:alice@sip.test"), "-H 'Accept: application/openmetrics-text;version=1.0.0'");
  CHECK(om.content_type.find("application/openmetrics-text") == 0);
  CHECK(om.body.size() > 6);
  CHECK(om.body.substr(om.body.size() - 6) == "# EOF\n");

  // Refusals: one line each, HTTP 400/404/405.
  auto unknown = get(probe_url(exp, "nope", "sip:alice@sip.test"));
  CHECK(unknown.status == 400);
  CHECK(unknown.body.find("unknown module nope (modules: reg, bad, query, opt, in, tls, csv)") == 0);
  auto no_target = get("http://" + exp.get("EXPORTER") + "/probe?module=reg");
  CHECK(no_target.status == 400);
  CHECK(std::count(no_target.body.begin(), no_target.body.end(), '\n') == 1);
  auto broken = get("http://" + exp.get("EXPORTER") + "/probe?module=reg&target=%zz");
  CHECK(broken.status == 400);
  CHECK(get("http://" + exp.get("EXPORTER") + "/nothing").status == 404);
  CHECK(get("http://" + exp.get("EXPORTER") + "/metrics", "-X POST").status == 405);

  // The exporter's own metrics, and the page.
  auto self = get("http://" + exp.get("EXPORTER") + "/metrics");
  INFO(self.body);
  CHECK(self.body.find("sipprobe_exporter_probes_total{module=\"reg\",result=\"success\"}") != std::string::npos);
  CHECK(self.body.find("sipprobe_exporter_requests_refused_total{reason=\"bad_module\"} 1") != std::string::npos);
  CHECK(self.body.find("process_resident_memory_bytes") != std::string::npos);
  check_promtool(self.body);
  auto page = get("http://" + exp.get("EXPORTER") + "/");
  CHECK(page.status == 200);
  CHECK(page.body.find("<code>reg</code>") != std::string::npos);
  CHECK(page.body.find("sip:alice@sip.test") != std::string::npos);

  // No secret anywhere: answers, page, log.
  const auto log = test_support::slurp(exp.dir() + "/exporter.log");
  for (const std::string* text :
       std::vector<const std::string*>{&reg.body, &bad.body, &query.body, &self.body, &page.body, &log}) {
    CHECK(text->find(secret) == std::string::npos);
    CHECK(text->find("wrong-secret") == std::string::npos);
  }
  // A failed probe is logged in logfmt, one line.
  CHECK(log.find("level=warn msg=\"probe failed\" module=bad target=sip:alice@sip.test code=auth_failed") != std::string::npos);
}

TEST_CASE("exporter: a real Prometheus scrapes probe_success through the blackbox relabelling") {
  lab_service kam("kamailio");
  const auto dir = test_support::make_temp_dir("exporter-prom");
  lab_service exp("exporter", exporter_env(write_config(dir, kam.get("SIP_PORT"))));
  lab_service prom("prometheus",
                   {{"EXPORTER", exp.get("EXPORTER")}, {"MODULE", "reg"}, {"TARGETS", "sip:alice@sip.test,sip:nobody@sip.test"}});
  // Scraped every second: both targets appear within a bounded wait.
  std::string seen;
  for (int i = 0; i < 60; ++i) {
    auto a = get(prom.get("PROM_URL") + "/api/v1/query?query=probe_success");
    seen = a.body;
    if (seen.find("sip:alice@sip.test") != std::string::npos && seen.find("sip:nobody@sip.test") != std::string::npos) break;
    test_support::sleep_ms(500);
  }
  INFO(seen);
  auto j = nlohmann::json::parse(seen, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  std::map<std::string, std::string> value;
  for (const auto& r : j["data"]["result"]) value[r["metric"]["instance"]] = r["value"][1];
  CHECK(value["sip:alice@sip.test"] == "1");
  CHECK(value["sip:nobody@sip.test"] == "0");  // 404: an unknown user
  auto info = get(prom.get("PROM_URL") + "/api/v1/query?query=sipprobe_diagnosis_info");
  CHECK(info.body.find("\"code\":\"not_found\"") != std::string::npos);
  // The scrape of the exporter itself worked too.
  http_answer up;
  for (int i = 0; i < 40 && up.body.find("\"1\"]") == std::string::npos; ++i) {
    if (i) test_support::sleep_ms(250);
    up = get(prom.get("PROM_URL") + "/api/v1/query?query=up%7Bjob%3D%22exporter%22%7D");
  }
  INFO(up.body);
  CHECK(up.body.find("\"1\"]") != std::string::npos);
}

TEST_CASE("exporter: --check-config, a bad file, and SIGHUP reload") {
  lab_service kam("kamailio");
  const auto dir = test_support::make_temp_dir("exporter-reload");
  const auto config = write_config(dir, kam.get("SIP_PORT"));
  auto ok = run("EXP_PW=x EXP_BAD=y " + shell_quote(SIPPROBE_BINARY) + " exporter --check-config --config " +
                shell_quote(config) + " 2>&1");
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == config + ": 5 modules, OK\n");
  std::ofstream(dir + "/broken.yml") << "modules:\n  reg: {prober: registr}\n";
  auto broken = run(shell_quote(SIPPROBE_BINARY) + " exporter --check-config --config " + shell_quote(dir + "/broken.yml") +
                    " 2>&1");
  CHECK(broken.exit_code == 2);
  CHECK(broken.out.find("sipprobe: " + dir + "/broken.yml:2:") == 0);
  CHECK(std::count(broken.out.begin(), broken.out.end(), '\n') == 1);

  lab_service exp("exporter", exporter_env(config));
  CHECK(get(probe_url(exp, "later", "sip:alice@sip.test")).status == 400);
  write_config(dir, kam.get("SIP_PORT"),
               "  later: {prober: query, registrar: \"127.0.0.1:" + kam.get("SIP_PORT") +
                   "\", transport: udp, timeout: 5s, password_env: EXP_PW}\n");
  const auto pid = std::stoi(test_support::slurp(exp.dir() + "/exporter.pid"));
  ::kill(pid, SIGHUP);
  http_answer later;
  for (int i = 0; i < 50 && later.status != 200; ++i) {
    test_support::sleep_ms(100);
    later = get(probe_url(exp, "later", "sip:alice@sip.test"));
  }
  INFO(later.body);
  CHECK(later.status == 200);
  CHECK(has_line(later.body, "probe_success 1"));
  // A file that no longer loads keeps the modules that work, and says so.
  std::ofstream(config) << "modules: [\n";
  ::kill(pid, SIGHUP);
  test_support::sleep_ms(300);
  CHECK(get(probe_url(exp, "later", "sip:alice@sip.test")).status == 200);
  auto self = get("http://" + exp.get("EXPORTER") + "/metrics");
  CHECK(has_line(self.body, "sipprobe_exporter_config_last_reload_successful 0"));
  CHECK(test_support::slurp(exp.dir() + "/exporter.log").find("msg=\"config reload failed, keeping the old one\"") !=
        std::string::npos);
}

TEST_CASE("exporter: the scrape's timeout bounds a probe of a silent registrar, and a second scrape joins the first") {
  lab_service sipp("sipp", {{"SCENARIO", "silence"}});
  const auto dir = test_support::make_temp_dir("exporter-silent");
  std::ofstream(dir + "/modules.yml") << "modules:\n  slow: {prober: register, registrar: \"127.0.0.1:" << sipp.get("SIP_PORT")
                                      << "\", transport: udp, timeout: 20s, password_env: EXP_PW}\n";
  lab_service exp("exporter", exporter_env(dir + "/modules.yml"));
  const auto url = probe_url(exp, "slow", "sip:alice@sip.test");
  const std::string header = "-H 'X-Prometheus-Scrape-Timeout-Seconds: 2'";
  // Two scrapes at once: the second joins the probe of the first.
  const auto began = std::chrono::steady_clock::now();
  auto both = run("for i in 1 2; do curl -s -m 10 " + header + " " + shell_quote(url) + " -o " + shell_quote(dir) +
                  "/scrape$i.txt & done; wait");
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  CHECK(took < 3.0);  // 2 s less the margin, not the module's 20 s
  for (const char* f : {"/scrape1.txt", "/scrape2.txt"}) {
    const auto body = test_support::slurp(dir + f);
    INFO(body);
    CHECK(has_line(body, "probe_success 0"));
    CHECK(body.find("sipprobe_diagnosis_info{code=\"no_response\"") != std::string::npos);
  }
  auto self = get("http://" + exp.get("EXPORTER") + "/metrics");
  INFO(self.body);
  CHECK(self.body.find("sipprobe_exporter_probes_joined_total{module=\"slow\"} 1") != std::string::npos);
  CHECK(self.body.find("sipprobe_exporter_probes_total{module=\"slow\",result=\"failure\"} 1") != std::string::npos);
}

TEST_CASE("exporter: IPv6, idle and oversized HTTP clients do not stop it from serving") {
  lab_service kam("kamailio");
  const auto dir = test_support::make_temp_dir("exporter-http");
  auto env = exporter_env(write_config(dir, kam.get("SIP_PORT")));
  env["LISTEN_IPV6"] = "1";
  lab_service exp("exporter", env);
  REQUIRE_FALSE(exp.get("EXPORTER6").empty());
  auto v6 = get("http://" + exp.get("EXPORTER6") + "/probe?module=reg&target=sip:alice@sip.test");
  INFO(v6.body);
  CHECK(v6.status == 200);
  CHECK(has_line(v6.body, "probe_success 1"));
  // 50 connections that never finish their request (held open by a background shell) …
  test_support::background idle("bash -c 'for i in $(seq 1 50); do exec {fd}<>/dev/tcp/127.0.0.1/" + exp.get("EXPORTER_PORT") +
                                "; printf \"GET /metrics HTTP/1.1\\r\\n\" >&$fd; done; sleep 5'");
  test_support::sleep_ms(300);
  // … while a probe still gets its answer at once: no thread or worker per connection.
  const auto began = std::chrono::steady_clock::now();
  auto busy = get(probe_url(exp, "reg", "sip:alice@sip.test"));
  CHECK(busy.status == 200);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count() < 2.0);
  // A header beyond 8 KiB is refused, not read on.
  auto big = get(probe_url(exp, "reg", "sip:alice@sip.test"), "-H 'X-Big: " + std::string(10000, 'a') + "'");
  CHECK(big.status == 400);
  CHECK(big.body.find("bad request") == 0);
  CHECK(get("http://" + exp.get("EXPORTER") + "/metrics").status == 200);
}

TEST_CASE("exporter: SIGTERM lets the probe in flight answer its scrape, then exits") {
  lab_service sipp("sipp", {{"SCENARIO", "silence"}});
  const auto dir = test_support::make_temp_dir("exporter-term");
  std::ofstream(dir + "/modules.yml") << "modules:\n  slow: {prober: register, registrar: \"127.0.0.1:" << sipp.get("SIP_PORT")
                                      << "\", transport: udp, timeout: 2s, password_env: EXP_PW}\n";
  lab_service exp("exporter", exporter_env(dir + "/modules.yml"));
  const auto pid = std::stoi(test_support::slurp(exp.dir() + "/exporter.pid"));
  test_support::background scrape("curl -s -m 10 -o " + shell_quote(dir + "/scrape.txt") + " " +
                                  shell_quote(probe_url(exp, "slow", "sip:alice@sip.test")));
  test_support::sleep_ms(500);  // the probe is waiting for the silent registrar
  ::kill(pid, SIGTERM);
  CHECK(scrape.wait() == 0);
  const auto body = test_support::slurp(dir + "/scrape.txt");
  INFO(body);
  CHECK(has_line(body, "probe_success 0"));
  // The exporter is gone once its probe ended, and said nothing alarming.
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    // Gone, or a zombie nobody reaped yet (its parent, the start script, has exited).
    const auto stat = test_support::slurp("/proc/" + std::to_string(pid) + "/stat");
    gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!gone) test_support::sleep_ms(100);
  }
  CHECK(gone);
  CHECK(get("http://" + exp.get("EXPORTER") + "/metrics").status == 0);  // nobody listens any more
}

TEST_CASE("exporter: --max-per-registrar 1 keeps a second probe of the same registrar waiting, within its scrape's time") {
  lab_service sipp("sipp", {{"SCENARIO", "silence"}});
  const auto dir = test_support::make_temp_dir("exporter-limit");
  std::ofstream(dir + "/modules.yml") << "modules:\n  slow: {prober: register, registrar: \"127.0.0.1:" << sipp.get("SIP_PORT")
                                      << "\", transport: udp, timeout: 20s, password_env: EXP_PW}\n";
  lab_service exp("exporter", exporter_env(dir + "/modules.yml", "--max-per-registrar 1"));
  const std::string header = "-H 'X-Prometheus-Scrape-Timeout-Seconds: 2'";
  // Two targets on one registrar: the first probe takes the only slot for its 1.5 s; the
  // second waits, and when the slot frees its scrape's time is up: it fails without a probe.
  auto both = run("for who in a b; do curl -s -m 10 " + header + " " + shell_quote(probe_url(exp, "slow", "sip:")) +
                  "$who@sip.test -o " + shell_quote(dir) + "/$who.txt & done; wait");
  for (const char* f : {"/a.txt", "/b.txt"}) {
    const auto body = test_support::slurp(dir + f);
    INFO(body);
    CHECK(has_line(body, "probe_success 0"));
  }
  auto self = get("http://" + exp.get("EXPORTER") + "/metrics");
  INFO(self.body);
  CHECK(self.body.find("sipprobe_exporter_probes_total{module=\"slow\",result=\"failure\"} 1") != std::string::npos);
  CHECK(test_support::slurp(exp.dir() + "/exporter.log").find("error=\"no free slot before the scrape's timeout\"") !=
        std::string::npos);
}
