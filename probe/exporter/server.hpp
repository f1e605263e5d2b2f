// probe/exporter/server.hpp — `sipprobe exporter`: an HTTP server (Boost.Beast, one thread,
// no thread per connection) that runs a probe per scrape, blackbox_exporter style:
//   GET /probe?module=NAME&target=T   the probe's metrics (metrics.hpp)
//   GET /metrics                      the exporter's own metrics
//   GET /                             a short HTML page: modules and recent probes
// Probes are bounded (in flight at all, per registrar, waiting), a scrape for a probe
// already in flight joins it, X-Prometheus-Scrape-Timeout-Seconds bounds the probe, and
// hostile clients meet header size and time limits.
#pragma once

#include "probe/exporter/config.hpp"
#include "probe/exporter/metrics.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace probe::exporter {

enum class log_level { error, warn, info, debug };

struct server_settings {
  std::vector<std::string> listen{"127.0.0.1:9260"};  // ADDR:PORT, [IPv6]:PORT
  std::string config_path;                            // reloaded on reload()
  std::string site;                                   // --site: a label on every probe metric
  std::size_t max_in_flight = 32;                     // probes running at once
  std::size_t max_per_registrar = 4;                  // of which towards one registrar
  std::size_t max_waiting = 256;                      // probes waiting for a slot (beyond: 503)
  std::size_t max_connections = 512;                  // open HTTP connections (beyond: closed at once)
  std::chrono::milliseconds read_timeout{10000};      // to receive a request's header
  log_level level = log_level::warn;
  std::function<void(const std::string&)> log;  // one logfmt line (default: stderr)
};

class server_impl;

class server {
 public:
  server(boost::asio::io_context& io, server_settings settings, config initial, config_env env);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds every listen address; one line on why not (address in use, not an address).
  std::optional<std::string> start();
  // The ports bound (for tests that listen on port 0), in listen order.
  std::vector<unsigned short> ports() const;
  // Loads the config file again; a file that does not load keeps the old one (logged).
  void reload();
  // Stops accepting, lets the probes in flight finish (at most `bound`), then calls done.
  void shutdown(std::chrono::milliseconds bound, std::function<void()> done);

 private:
  std::shared_ptr<server_impl> impl_;
};

// "127.0.0.1:9260", "[::1]:9260": the address and port, or one line on why not.
struct listen_address {
  std::string address;
  unsigned short port = 0;
};
expected<listen_address, std::string> parse_listen(const std::string& text);

}  // namespace probe::exporter
