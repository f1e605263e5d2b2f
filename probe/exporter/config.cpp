// probe/exporter/config.cpp — see the header.
//
// The YAML is walked one known level at a time (file, modules, module, a module's
// dns_servers), never recursively: aliases may make the node graph cyclic (`&a [*a]`), and
// yaml-cpp's own parser bounds the nesting depth of what it reads.
#include "probe/exporter/config.hpp"

#include "netcheck/dns.hpp"
#include "probe/core/errors.hpp"
#include "probe/core/text_safety.hpp"
#include "probe/locate/request.hpp"
#include "probe/registration/exchange.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace probe::exporter {
namespace {

// A problem found while checking: parse_config's one-line error. Thrown only in this file
// and caught by parse_config, so the checks read as a sequence rather than a cascade.
struct config_failure {
  std::string line;
};

constexpr std::array<std::string_view, 16> known_keys = {
    "prober",      "registrar", "outbound_proxy", "transport", "timeout",      "expires",       "user",    "realm",
    "dns_servers", "ca_file",   "insecure",       "bind",      "password_env", "password_file", "ha1_env", "accounts_csv"};
constexpr std::array<std::string_view, 4> secret_keys = {"password_env", "password_file", "ha1_env", "accounts_csv"};

constexpr std::size_t max_name_bytes = 64;
constexpr std::size_t max_text_bytes = 4096;  // a path (PATH_MAX) or a host name fits
constexpr std::size_t max_dns_servers = 16;
constexpr std::chrono::milliseconds min_timeout{100}, max_timeout{300'000};

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > max_name_bytes) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
  });
}

bool is_env_name(std::string_view s) {
  return is_name(s) && s.find('-') == std::string_view::npos && !(s.front() >= '0' && s.front() <= '9');
}

// A key as it may be shown: a name, or nothing of it (it may be anything, even a password
// written as a key).
std::string shown_key(const std::string& key) { return is_name(key) ? key : std::string("(a key that is not a name)"); }

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Levenshtein distance; both texts are names of at most max_name_bytes.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Where errors are reported: "SOURCE:LINE:COL: PATH: what" (yaml-cpp marks are 0-based).
class checker {
 public:
  checker(std::string_view source, const config_env& env) : source_(printable(source)), env_(env) {}

  const config_env& env() const noexcept { return env_; }

  std::string line(const YAML::Mark& at, const std::string& path, const std::string& what) const {
    std::string out = source_;
    if (!at.is_null()) out += ":" + std::to_string(at.line + 1) + ":" + std::to_string(at.column + 1);
    out += ": ";
    if (!path.empty()) out += path + ": ";
    return out + what;
  }
  [[noreturn]] void fail(const YAML::Mark& at, const std::string& path, const std::string& what) const {
    throw config_failure{line(at, path, what)};
  }
  [[noreturn]] void fail_file(const std::string& what) const { throw config_failure{source_ + ": " + what}; }

 private:
  std::string source_;
  const config_env& env_;
};

// One key of a map with its nodes. A value left empty (`key:`) is a null whose mark lies
// wherever the parser went next, so problems with it point at the key.
struct entry {
  std::string name;
  YAML::Node key, value;
  std::string path;  // "modules.NAME.KEY"
  YAML::Mark value_mark() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

// The keys of `map` in file order. yaml-cpp keeps a repeated key as a second pair (and
// lookups see only the first), so repeats are found here.
std::vector<entry> entries_of(const checker& c, const YAML::Node& map, const std::string& prefix) {
  std::vector<entry> out;
  std::map<std::string, YAML::Mark> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) c.fail(key.Mark(), prefix, "a key must be a name, not a list, a map or empty");
    entry e{key.Scalar(), key, it->second, {}};
    e.path = (prefix.empty() ? "" : prefix + ".") + shown_key(e.name);
    auto [first, fresh] = seen.try_emplace(e.name, key.Mark());
    if (!fresh) c.fail(key.Mark(), e.path, "given twice (first at line " + std::to_string(first->second.line + 1) + ")");
    out.push_back(std::move(e));
  }
  return out;
}

// The scalar text of a value; a list, a map or nothing is a wrong type.
std::string scalar_of(const checker& c, const entry& e, const char* expected) {
  if (e.value.IsNull()) c.fail(e.key.Mark(), e.path, std::string("no value: expected ") + expected);
  if (e.value.IsSequence()) c.fail(e.value.Mark(), e.path, std::string("expected ") + expected + ", not a list");
  if (e.value.IsMap()) c.fail(e.value.Mark(), e.path, std::string("expected ") + expected + ", not a map");
  return e.value.Scalar();
}

// A text value: not empty, bounded, one printable line. The value is not shown: a
// printable line is what the checks are about.
std::string text_of(const checker& c, const entry& e, const char* expected = "a text") {
  std::string v = scalar_of(c, e, expected);
  if (v.empty()) c.fail(e.value_mark(), e.path, "empty value: expected " + std::string(expected));
  if (v.size() > max_text_bytes) c.fail(e.value_mark(), e.path, "longer than " + std::to_string(max_text_bytes) + " bytes");
  if (!is_printable(v)) c.fail(e.value_mark(), e.path, "control character or invalid UTF-8 in the value");
  return v;
}

// "5s", "500ms", "1.5s", "2m", or a bare number of seconds, in whole milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && ((s[digits] >= '0' && s[digits] <= '9') || s[digits] == '.')) ++digits;
  const std::string_view number = s.substr(0, digits), unit = s.substr(digits);
  if (number.empty() || number.front() == '.' || number.back() == '.' || std::count(number.begin(), number.end(), '.') > 1)
    return std::nullopt;
  double scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s" || unit.empty()) scale = 1000;
  else if (unit == "m") scale = 60'000;
  else return std::nullopt;
  double value = 0;
  if (std::from_chars(number.data(), number.data() + number.size(), value).ec != std::errc()) return std::nullopt;
  const double ms = std::round(value * scale);
  if (!std::isfinite(ms) || ms > 1e12) return std::chrono::milliseconds::max();
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

prober prober_of(const checker& c, const entry& e) {
  const std::string v = scalar_of(c, e, "register, query, options or inbound");
  for (prober p : {prober::register_, prober::query, prober::options, prober::inbound})
    if (v == to_string(p)) return p;
  c.fail(e.value_mark(), e.path, "unknown prober: expected register, query, options or inbound");
}

std::chrono::milliseconds timeout_of(const checker& c, const entry& e) {
  const auto d = parse_duration(scalar_of(c, e, "a duration"));
  if (!d) c.fail(e.value_mark(), e.path, "not a duration: write 5s, 500ms, 1.5s, 2m or a number of seconds");
  if (*d < min_timeout || *d > max_timeout) c.fail(e.value_mark(), e.path, "out of range: from 0.1s to 300s");
  return *d;
}

std::uint32_t expires_of(const checker& c, const entry& e, prober kind) {
  if (kind != prober::register_ && kind != prober::inbound)
    c.fail(e.key.Mark(), e.path, "only the register and inbound probers register a binding");
  const std::string v = scalar_of(c, e, "whole seconds");
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 4294967295u)
    c.fail(e.value_mark(), e.path, "expected whole seconds from 1 to 4294967295");
  return static_cast<std::uint32_t>(n);
}

// A registrar or outbound proxy as the command line takes them (--registrar, --outbound-proxy).
std::string target_of(const checker& c, const entry& e) {
  std::string v = text_of(c, e, "HOST[:PORT] or a SIP URI");
  if (auto t = locate::parse_dns_target(v); !t) c.fail(e.value_mark(), e.path, "cannot use the value: " + t.error().message());
  return v;
}

std::string bind_of(const checker& c, const entry& e) {
  std::string v = text_of(c, e, "ADDR[:PORT]");
  try {
    locate::bind_options(v);
  } catch (const usage_error&) {
    c.fail(e.value_mark(), e.path, "expected ADDR[:PORT] with ADDR an IP address");
  }
  return v;
}

std::vector<std::string> dns_servers_of(const checker& c, const entry& e) {
  if (!e.value.IsSequence()) {
    scalar_of(c, e, "a list of IP[:PORT]");
    c.fail(e.value_mark(), e.path, "expected a list of IP[:PORT], e.g. [192.0.2.53, \"[2001:db8::53]:53\"]");
  }
  if (e.value.size() > max_dns_servers)
    c.fail(e.value.Mark(), e.path, "more than " + std::to_string(max_dns_servers) + " servers");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    const entry item{e.name, e.key, e.value[i], e.path + "[" + std::to_string(i) + "]"};
    std::string v = text_of(c, item, "IP[:PORT]");
    netcheck::server_address parsed;
    if (auto ec = netcheck::parse_server(v, parsed)) c.fail(item.value_mark(), item.path, ec.message());
    out.push_back(std::move(v));
  }
  return out;
}

bool bool_of(const checker& c, const entry& e) {
  scalar_of(c, e, "true or false");
  bool b = false;
  if (!YAML::convert<bool>::decode(e.value, b)) c.fail(e.value_mark(), e.path, "expected true or false");
  return b;
}

// The settings that are not secrets, into `m` (the prober is already known).
void apply_setting(const checker& c, const entry& e, module& m) {
  const std::string& k = e.name;
  if (k == "registrar") m.route.registrar = target_of(c, e);
  else if (k == "outbound_proxy") m.route.outbound_proxy = target_of(c, e);
  else if (k == "transport") {
    m.route.transport = netcheck::transport_from_string(scalar_of(c, e, "udp, tcp or tls"));
    if (!m.route.transport) c.fail(e.value_mark(), e.path, "expected udp, tcp or tls");
  } else if (k == "timeout") m.timeout = timeout_of(c, e);
  else if (k == "expires") m.expires = expires_of(c, e, m.kind);
  else if (k == "user") m.user = text_of(c, e);
  else if (k == "realm") m.realm = text_of(c, e);
  else if (k == "dns_servers") m.route.dns_servers = dns_servers_of(c, e);
  else if (k == "ca_file") {
    m.route.ca_file = text_of(c, e, "a path");
    if (!c.env().read_file || !c.env().read_file(m.route.ca_file))
      c.fail(e.value_mark(), e.path, "cannot read the file " + printable(m.route.ca_file));
  } else if (k == "insecure") m.route.insecure = bool_of(c, e);
  else if (k == "bind") m.route.bind = bind_of(c, e);
}

// An unknown key: its name when it is one, and the known key it may be a typo of.
[[noreturn]] void unknown_key(const checker& c, const entry& e) {
  if (e.name == "password" || e.name == "ha1")
    c.fail(e.key.Mark(), e.path, "a secret is not written in the file: use password_env, password_file, ha1_env or accounts_csv");
  std::string what = "unknown key";
  if (is_name(e.name)) {
    std::string_view best;
    std::size_t best_distance = 3;
    for (auto known : known_keys)
      if (auto d = edit_distance(lower(e.name), known); d < best_distance) best = known, best_distance = d;
    if (!best.empty()) what += " (did you mean " + std::string(best) + "?)";
  }
  c.fail(e.key.Mark(), e.path, what);
}

// password_env / ha1_env: the variable's value; its name only in errors.
secret secret_from_env(const checker& c, const entry& e) {
  const std::string name = text_of(c, e, "an environment variable name");
  if (!is_env_name(name)) c.fail(e.value_mark(), e.path, "not an environment variable name (letters, digits and '_')");
  const char* v = c.env().getenv ? c.env().getenv(name.c_str()) : nullptr;
  if (v == nullptr) c.fail(e.value_mark(), e.path, "environment variable " + name + " is not set");
  if (*v == '\0') c.fail(e.value_mark(), e.path, "environment variable " + name + " is empty");
  if (std::strlen(v) > max_secret_bytes)
    c.fail(e.value_mark(), e.path,
           "environment variable " + name + " holds more than " + std::to_string(max_secret_bytes) + " bytes");
  secret s;
  if (e.name == "password_env") {
    s.password = v;
    s.source = "environment variable " + name;
    return s;
  }
  // RFC 7616 §3.4.2: HA1 is the hex digest, MD5 (32 digits) or SHA-256 (64).
  s.ha1 = v;
  const bool hex = std::all_of(s.ha1.begin(), s.ha1.end(), [](unsigned char ch) { return std::isxdigit(ch) != 0; });
  if (!hex || (s.ha1.size() != 32 && s.ha1.size() != 64))
    c.fail(e.value_mark(), e.path, "environment variable " + name + " is not an HA1 (32 or 64 hex digits)");
  s.source = "HA1 from environment variable " + name;
  return s;
}

// password_file: one line, without its line end.
secret secret_from_file(const checker& c, const entry& e) {
  const std::string path = text_of(c, e, "a path");
  const std::string shown = printable(path);
  auto data = c.env().read_file ? c.env().read_file(path) : std::nullopt;
  if (!data) c.fail(e.value_mark(), e.path, "cannot read the file " + shown);
  secret s;
  s.password = std::move(*data);
  if (s.password.ends_with('\n')) s.password.pop_back();
  if (s.password.ends_with('\r')) s.password.pop_back();
  if (s.password.size() > max_secret_bytes)
    c.fail(e.value_mark(), e.path,
           "the file " + shown + " holds more than " + std::to_string(max_secret_bytes) + " bytes: a password is one line");
  if (s.password.find_first_of("\r\n") != std::string::npos)
    c.fail(e.value_mark(), e.path, "the file " + shown + " holds more than one line: a password is one line");
  if (s.password.empty()) c.fail(e.value_mark(), e.path, "the file " + shown + " is empty");
  s.source = "file " + path;
  return s;
}

// The key of module::accounts for an AOR: scheme, user, lower-case host, port if given.
std::string account_key(const sip::uri& aor) {
  sip::uri where;
  where.host = lower(aor.host);
  where.ipv6 = aor.ipv6;
  where.port = aor.port;
  return aor.scheme + ":" + aor.user + "@" + where.host_port();
}

// accounts_csv: every row of the batch format, validated as `sipprobe batch` does. Errors
// name the file and the row, never a field (row_error's reasons hold none).
void read_accounts(const checker& c, const entry& e, module& m) {
  m.accounts_csv = text_of(c, e, "a path");
  const std::string shown = printable(m.accounts_csv);
  auto fail = [&](const std::string& what) { c.fail(e.value_mark(), e.path, shown + ": " + what); };
  auto data = c.env().read_file ? c.env().read_file(m.accounts_csv) : std::nullopt;
  if (!data) fail("cannot read the file");
  if (data->size() > max_accounts_csv_bytes) fail("larger than " + std::to_string(max_accounts_csv_bytes >> 20) + " MiB");
  std::istringstream in(std::move(*data));
  batch::csv_reader reader(in);
  batch::csv_record rec;
  if (!reader.next(rec)) fail("empty: it needs a header row (aor,password,…)");
  if (rec.error) fail("header row: " + *rec.error);
  batch::columns cols;
  try {
    cols = batch::parse_header(rec.fields);
  } catch (const usage_error& why) {
    std::string_view text = why.what();
    if (text.starts_with("accounts file: ")) text.remove_prefix(15);
    fail(std::string(text));
  }
  while (reader.next(rec)) {
    auto row = batch::validate_row(cols, rec, c.env().getenv);
    if (!row) fail("row " + std::to_string(rec.number) + ": " + row.error().reason);
    std::string key = account_key(row->acct.aor);
    auto [at, fresh] = m.accounts.try_emplace(key, *std::move(row));
    if (!fresh)
      fail("row " + std::to_string(rec.number) + ": " + printable(key) + " is already in row " +
           std::to_string(at->second.number));
  }
  if (m.accounts.empty()) fail("no accounts: only the header");
}

// The one secret source of a module: options has none, the others exactly one.
void read_secret(const checker& c, const entry& where, const std::vector<entry>& entries, module& m) {
  std::vector<const entry*> given;
  for (const auto& e : entries)
    if (std::find(secret_keys.begin(), secret_keys.end(), e.name) != secret_keys.end()) given.push_back(&e);
  if (m.kind == prober::options) {
    if (!given.empty()) c.fail(given[0]->key.Mark(), given[0]->path, "options sends no credentials");
    return;
  }
  if (given.empty())
    c.fail(where.key.Mark(), where.path,
           std::string(to_string(m.kind)) + " needs a secret: password_env, password_file, ha1_env or accounts_csv");
  if (given.size() > 1)
    c.fail(given[1]->key.Mark(), given[1]->path, "one secret source only, and " + given[0]->name + " is given");
  const entry& e = *given[0];
  if (e.name == "password_env" || e.name == "ha1_env") m.credentials = secret_from_env(c, e);
  else if (e.name == "password_file") m.credentials = secret_from_file(c, e);
  else read_accounts(c, e, m);
}

module read_module(const checker& c, const entry& where) {
  if (!is_name(where.name)) c.fail(where.key.Mark(), "modules", "a module name is 1 to 64 letters, digits, '_' or '-'");
  if (where.value.IsNull()) c.fail(where.key.Mark(), where.path, "empty module: it needs at least a prober");
  if (!where.value.IsMap()) c.fail(where.value.Mark(), where.path, "expected a map of settings (prober: …)");
  const auto entries = entries_of(c, where.value, where.path);
  for (const auto& e : entries)
    if (std::find(known_keys.begin(), known_keys.end(), e.name) == known_keys.end()) unknown_key(c, e);
  module m;
  m.name = where.name;
  auto kind = std::find_if(entries.begin(), entries.end(), [](const entry& e) { return e.name == "prober"; });
  if (kind == entries.end()) c.fail(where.key.Mark(), where.path, "no prober: add prober: register, query, options or inbound");
  m.kind = prober_of(c, *kind);
  for (const auto& e : entries) apply_setting(c, e, m);
  read_secret(c, where, entries, m);
  return m;
}

config read_config(const checker& c, const YAML::Node& root) {
  if (!root.IsMap()) c.fail(root.Mark(), "", "expected a map with the key modules");
  const entry* modules = nullptr;
  const auto top = entries_of(c, root, "");
  for (const auto& e : top) {
    if (e.name != "modules") c.fail(e.key.Mark(), e.path, "unknown key: the file has only modules");
    modules = &e;
  }
  if (modules == nullptr) c.fail_file("no modules: the file needs a modules map");
  if (modules->value.IsNull()) c.fail(modules->key.Mark(), "modules", "no modules");
  if (!modules->value.IsMap()) c.fail(modules->value.Mark(), "modules", "expected a map of module names to modules");
  config out;
  for (const auto& e : entries_of(c, modules->value, "modules")) out.modules.push_back(read_module(c, e));
  if (out.modules.empty()) c.fail(modules->value.Mark(), "modules", "no modules");
  return out;
}

}  // namespace

std::string_view to_string(prober p) noexcept {
  switch (p) {
    case prober::register_: return "register";
    case prober::query: return "query";
    case prober::options: return "options";
    case prober::inbound: return "inbound";
  }
  return "register";
}

const module* config::find(std::string_view name) const noexcept {
  for (const auto& m : modules)
    if (m.name == name) return &m;
  return nullptr;
}

config_env process_config_env() {
  config_env env;
  env.getenv = [](const char* name) { return std::getenv(name); };
  env.read_file = [](const std::string& path) -> std::optional<std::string> {
    // A FIFO or a device would block or never end: only regular files are read.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    std::ifstream f(path, std::ios::binary);
    if (!f) return std::nullopt;
    std::string data;
    char buf[16384];
    while (data.size() <= max_accounts_csv_bytes && (f.read(buf, sizeof buf) || f.gcount() > 0))
      data.append(buf, static_cast<std::size_t>(f.gcount()));
    if (f.bad()) return std::nullopt;
    if (data.size() > max_accounts_csv_bytes + 1) data.resize(max_accounts_csv_bytes + 1);
    return data;
  };
  return env;
}

expected<config, std::string> parse_config(std::string_view text, std::string_view source, const config_env& env) {
  const checker c(source, env);
  try {
    if (text.size() > max_config_bytes) c.fail_file("larger than 1 MiB: not a modules file");
    const auto docs = YAML::LoadAll(std::string(text));
    if (docs.empty()) c.fail_file("empty file: it needs a modules map");
    if (docs.size() > 1) c.fail(docs[1].Mark(), "", "a second YAML document: the file holds one");
    return read_config(c, docs[0]);
  } catch (const config_failure& f) {
    return unexpected(f.line);
  } catch (const YAML::DeepRecursion&) {
    return unexpected(c.line(YAML::Mark::null_mark(), "", "not valid YAML: nested too deep"));
  } catch (const YAML::Exception& e) {
    // Some of yaml-cpp's messages end in a piece of the document ("unknown escape
    // character: X", "bad YAML version: …"), which may lie inside a secret: only the fixed part.
    const std::string_view what = std::string_view(e.msg).substr(0, e.msg.find(": "));
    return unexpected(c.line(e.mark, "", "not valid YAML: " + printable(what)));
  } catch (const std::exception& e) {
    return unexpected(c.line(YAML::Mark::null_mark(), "", std::string("cannot be read: ") + e.what()));
  }
}

expected<config, std::string> load_config(const std::string& path, const config_env& env) {
  auto text = env.read_file ? env.read_file(path) : std::nullopt;
  if (!text) return unexpected(printable(path) + ": cannot read the file");
  if (text->size() > max_config_bytes) return unexpected(printable(path) + ": larger than 1 MiB: not a modules file");
  return parse_config(*text, path, env);
}

const batch::account_row* account_for(const module& m, std::string_view target_aor) {
  if (m.accounts.empty()) return nullptr;
  auto aor = registration::parse_aor(std::string(target_aor));
  if (!aor) return nullptr;
  auto it = m.accounts.find(account_key(*aor));
  return it == m.accounts.end() ? nullptr : &it->second;
}

}  // namespace probe::exporter
