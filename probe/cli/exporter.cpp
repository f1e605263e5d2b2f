// `sipprobe exporter`: a Prometheus exporter that runs a probe per scrape (probe/exporter/).
#include "probe/cli/app.hpp"
#include "probe/core/errors.hpp"
#include "probe/core/secret.hpp"
#include "probe/exporter/config.hpp"
#include "probe/exporter/server.hpp"
#include "probe/registration/interrupt.hpp"

#include <iostream>
#include <memory>

namespace probe::cli {
namespace {

struct exporter_cli {
  std::string config_path;
  std::vector<std::string> listen;
  std::string site;
  bool check_config = false;
  std::size_t max_in_flight = 32;
  std::size_t max_per_registrar = 4;
  std::string log_level = "warn";
};

exporter::log_level level_of(const std::string& s) {
  if (s == "error") return exporter::log_level::error;
  if (s == "info") return exporter::log_level::info;
  if (s == "debug") return exporter::log_level::debug;
  return exporter::log_level::warn;
}

int run_exporter(const exporter_cli& o) {
  const auto env = exporter::process_config_env();
  auto cfg = exporter::load_config(o.config_path, env);
  if (!cfg) throw usage_error(cfg.error());
  if (o.check_config) {
    std::cout << o.config_path << ": " << cfg->modules.size() << (cfg->modules.size() == 1 ? " module" : " modules") << ", OK\n";
    return exit_ok;
  }
  protect_process_memory();  // it holds the modules' secrets for as long as it runs
  exporter::server_settings s;
  if (!o.listen.empty()) s.listen = o.listen;
  for (const auto& l : s.listen)
    if (auto a = exporter::parse_listen(l); !a) throw usage_error(a.error());
  s.config_path = o.config_path;
  s.site = o.site;
  s.max_in_flight = o.max_in_flight;
  s.max_per_registrar = o.max_per_registrar;
  s.level = level_of(o.log_level);
  boost::asio::io_context io;
  exporter::server srv(io, s, std::move(*cfg), env);
  if (auto why = srv.start()) throw usage_error(*why);
  int signals_seen = 0;
  registration::signal_watch signals(io, [&](const std::string& name) {
    if (name == "SIGHUP") return srv.reload();
    if (name == "SIGPIPE") return;  // a client went away: its write fails, nothing else
    // SIGTERM, SIGINT: let the probes in flight finish (their bindings are removed), then
    // exit; a second signal exits at once.
    if (++signals_seen > 1) return io.stop();
    srv.shutdown(std::chrono::seconds(310), [&] {
      signals.cancel();
      io.stop();
    });
  });
  io.run();
  return exit_ok;
}

}  // namespace

void setup_exporter(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand("exporter", "Prometheus exporter: GET /probe?module=NAME&target=AOR runs one probe");
  auto o = std::make_shared<exporter_cli>();
  cmd->add_option("--config", o->config_path, "The modules file (YAML): what each module probes, and with which secret")
      ->required();
  cmd->add_option("--listen", o->listen, "ADDR:PORT or [IPv6]:PORT to serve HTTP on (repeatable; default 127.0.0.1:9260)");
  cmd->add_option("--site", o->site, "A site=NAME label on every probe metric (which vantage point saw it)")->check(sip_text());
  cmd->add_flag("--check-config", o->check_config, "Load and check the modules file, then exit (0: it loads)");
  cmd->add_option("--max-in-flight", o->max_in_flight, "Probes running at once")
      ->check(whole_number_in(1, 10000))
      ->capture_default_str();
  cmd->add_option("--max-per-registrar", o->max_per_registrar, "Probes running at once towards one registrar")
      ->check(whole_number_in(1, 10000))
      ->capture_default_str();
  cmd->add_option("--log-level", o->log_level, "error, warn (probe failures), info (every probe) or debug")
      ->check(one_of({"error", "warn", "info", "debug"}))
      ->capture_default_str();
  cmd->callback([&selected, o] { selected = [o] { return run_exporter(*o); }; });
}

}  // namespace probe::cli
