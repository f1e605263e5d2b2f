// probe/exporter/config.hpp — the exporter's modules file (YAML). A module names a prober
// and how to reach and authenticate; a scrape picks one (`/probe?module=NAME&target=AOR`).
//
//   modules:
//     reg:   {prober: register, registrar: "pbx.example.com:5060", transport: udp, timeout: 5s, password_env: PBX_PW}
//     query: {prober: query, transport: tls, timeout: 5s, accounts_csv: /etc/sipprobe/accounts.csv}
//     opt:   {prober: options, transport: udp, timeout: 3s}
//     in:    {prober: inbound, registrar: "pbx.example.com", password_file: /etc/sipprobe/in.pw}
//
// Checked when loaded, with precise errors ("FILE:LINE:COL: modules.reg.timeout: …"): an
// unknown key, a wrong type or value, a secret source that does not resolve. Secrets are
// read when the file is loaded (again on reload) and never appear in an error.
#pragma once

#include "netcheck/transport.hpp"
#include "probe/batch/csv.hpp"
#include "probe/core/expected.hpp"
#include "probe/core/secret.hpp"
#include "probe/registration/run.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probe::exporter {

// What a module does for one target:
//   register  full registration and removal of our binding (target: an AOR)
//   query     authenticated REGISTER without Contact: credentials only (target: an AOR)
//   options   OPTIONS on the transports of the target, no credentials (target: an AOR, a host[:port] or a SIP URI)
//   inbound   register, then the inbound check (target: an AOR)
enum class prober { register_, query, options, inbound };
std::string_view to_string(prober p) noexcept;  // "register", "query", "options", "inbound"

struct module {
  std::string name;
  prober kind = prober::register_;
  // registrar, outbound_proxy, transport, dns_servers, ca_file, insecure, bind: as the
  // options of `register` ("" / none: RFC 3263 from the target's domain, the system store…).
  registration::route_options route;
  std::chrono::milliseconds timeout{5000};  // 0.1 s to 300 s; a scrape's own timeout may lower it
  std::uint32_t expires = 300;              // register/inbound: the interval asked for
  std::string user;                         // digest username, when not the AOR's user
  std::string realm;                        // expected realm
  // One secret for every target (password_env, password_file or ha1_env), or per target
  // from accounts_csv (the batch format: the target AOR picks the row). options has none.
  std::optional<secret> credentials;
  std::string accounts_csv;                            // the path, for messages
  std::map<std::string, batch::account_row> accounts;  // key: the AOR as sip:user@host (lower-case host)
};

struct config {
  std::vector<module> modules;  // in file order
  const module* find(std::string_view name) const noexcept;
};

// Limits on what loading reads: the modules file, and an accounts_csv (about 100,000 rows).
inline constexpr std::size_t max_config_bytes = std::size_t{1} << 20;
inline constexpr std::size_t max_accounts_csv_bytes = std::size_t{16} << 20;

// What loading reads from outside: the environment and files (tests replace them).
struct config_env {
  std::function<const char*(const char*)> getenv;
  std::function<std::optional<std::string>(const std::string& path)> read_file;  // nullopt: cannot read
};
// std::getenv, and regular files read whole up to max_accounts_csv_bytes + 1 bytes (the
// caller sees a file above its own limit); anything else (a directory, a FIFO) cannot be read.
config_env process_config_env();

// Parses and checks a modules file's text; `source` names it in errors (its path).
// The error is one line: "SOURCE:LINE:COL: modules.NAME.KEY: what is wrong".
expected<config, std::string> parse_config(std::string_view text, std::string_view source, const config_env& env);
// Reads the file at `path`, then parse_config.
expected<config, std::string> load_config(const std::string& path, const config_env& env);

// The account a target names in a module with accounts_csv (nullptr: none), the key
// normalised as in module::accounts; "alice@example.com" without a scheme is sip:.
const batch::account_row* account_for(const module& m, std::string_view target_aor);

}  // namespace probe::exporter
