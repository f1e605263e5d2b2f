// The exporter's modules file: every key, every class of error with its line and column,
// secrets never in an error, accounts from a batch CSV, and hostile input that must end
// in one error line.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/exporter/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace probe;
using namespace probe::exporter;

namespace {

// The secrets of the fake world: none may appear in an error.
const std::vector<std::string> secrets = {"S3cretPW", "0123456789abcdef0123456789abcdef", "F1leSecret", "CsvSecretA",
                                          "CsvSecretB"};

struct fake_world {
  std::map<std::string, std::string> vars = {
      {"PBX_PW", "S3cretPW"}, {"PBX_HA1", "0123456789abcdef0123456789abcdef"}, {"EMPTY", ""}};
  std::map<std::string, std::string> files = {
      {"/etc/ca.pem", "-----BEGIN CERTIFICATE-----\n"},
      {"/etc/in.pw", "F1leSecret\n"},
      {"/etc/accounts.csv",
       "aor,password,registrar,label\nsip:alice@Example.COM,CsvSecretA,,a\nbob@example.com:5070,CsvSecretB,"
       "pbx.example.com,b\n"},
  };
  config_env env() const {
    config_env e;
    e.getenv = [this](const char* n) -> const char* {
      auto it = vars.find(n);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
    e.read_file = [this](const std::string& p) -> std::optional<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
    return e;
  }
};

const std::string valid_file = R"(# every key of every prober
modules:
  reg:
    prober: register
    registrar: "pbx.example.com:5060"
    outbound_proxy: "sip:proxy.example.com;transport=tcp"
    transport: udp
    timeout: 5s
    expires: 600
    user: alice-auth
    realm: example.com
    dns_servers: [192.0.2.53, "[2001:db8::53]:53"]
    ca_file: /etc/ca.pem
    insecure: true
    bind: "127.0.0.1:5099"
    password_env: PBX_PW
  query: {prober: query, transport: tls, timeout: 1.5s, accounts_csv: /etc/accounts.csv}
  opt: {prober: options, transport: tcp, timeout: 500ms}
  in: {prober: inbound, registrar: pbx.example.com, password_file: /etc/in.pw, expires: 120}
  ha: {prober: query, ha1_env: PBX_HA1, timeout: 2m}
)";

std::string parse_error(const std::string& text, const fake_world& w = fake_world{}) {
  auto c = parse_config(text, "m.yml", w.env());
  REQUIRE_MESSAGE(!c, "accepted: " << text);
  return c.error();
}

void check_secret_free(const std::string& error) {
  for (const auto& s : secrets) CHECK_MESSAGE(error.find(s) == std::string::npos, error);
  CHECK_MESSAGE(error.find('\n') == std::string::npos, error);
}

}  // namespace

TEST_CASE("exporter config: a file with every prober and every key") {
  const fake_world w;
  auto c = parse_config(valid_file, "m.yml", w.env());
  REQUIRE_MESSAGE(c, (c ? "" : c.error()));
  REQUIRE(c->modules.size() == 5);
  const module& reg = c->modules[0];
  CHECK(reg.name == "reg");
  CHECK(reg.kind == prober::register_);
  CHECK(reg.route.registrar == "pbx.example.com:5060");
  CHECK(reg.route.outbound_proxy == "sip:proxy.example.com;transport=tcp");
  CHECK(reg.route.transport == netcheck::transport::udp);
  CHECK(reg.timeout == std::chrono::milliseconds(5000));
  CHECK(reg.expires == 600);
  CHECK(reg.user == "alice-auth");
  CHECK(reg.realm == "example.com");
  CHECK(reg.route.dns_servers == std::vector<std::string>{"192.0.2.53", "[2001:db8::53]:53"});
  CHECK(reg.route.ca_file == "/etc/ca.pem");
  CHECK(reg.route.insecure);
  CHECK(reg.route.bind == "127.0.0.1:5099");
  REQUIRE(reg.credentials);
  CHECK(reg.credentials->password == "S3cretPW");
  CHECK(reg.credentials->source == "environment variable PBX_PW");
  CHECK(reg.accounts.empty());

  const module* query = c->find("query");
  REQUIRE(query != nullptr);
  CHECK(query->kind == prober::query);
  CHECK(query->route.transport == netcheck::transport::tls);
  CHECK(query->timeout == std::chrono::milliseconds(1500));
  CHECK(!query->credentials);
  CHECK(query->accounts_csv == "/etc/accounts.csv");
  CHECK(query->accounts.size() == 2);

  const module* opt = c->find("opt");
  REQUIRE(opt != nullptr);
  CHECK(opt->kind == prober::options);
  CHECK(!opt->credentials);
  CHECK(opt->timeout == std::chrono::milliseconds(500));
  CHECK(opt->expires == 300);

  const module* in = c->find("in");
  REQUIRE(in != nullptr);
  CHECK(in->kind == prober::inbound);
  CHECK(in->expires == 120);
  CHECK(!in->route.transport);
  REQUIRE(in->credentials);
  CHECK(in->credentials->password == "F1leSecret");
  CHECK(in->credentials->source == "file /etc/in.pw");

  const module* ha = c->find("ha");
  REQUIRE(ha != nullptr);
  REQUIRE(ha->credentials);
  CHECK(ha->credentials->password.empty());
  CHECK(ha->credentials->ha1 == "0123456789abcdef0123456789abcdef");
  CHECK(ha->credentials->source == "HA1 from environment variable PBX_HA1");
  CHECK(ha->timeout == std::chrono::milliseconds(120000));

  CHECK(c->find("nope") == nullptr);
  CHECK(to_string(prober::register_) == "register");
  CHECK(to_string(prober::query) == "query");
  CHECK(to_string(prober::options) == "options");
  CHECK(to_string(prober::inbound) == "inbound");
}

TEST_CASE("exporter config: each error, one line with its line and column") {
  struct row {
    const char* name;
    std::string text;
    std::string error;
  };
  const std::vector<row> table = {
      {"empty file", "", "m.yml: empty file: it needs a modules map"},
      {"only a comment", "# nothing\n", "m.yml: empty file: it needs a modules map"},
      {"not a map", "- a\n- b\n", "m.yml:1:1: expected a map with the key modules"},
      {"no modules key", "other: 1\n", "m.yml:1:1: other: unknown key: the file has only modules"},
      {"unknown top-level key", "modules:\n  o: {prober: options}\nextra: 1\n",
       "m.yml:3:1: extra: unknown key: the file has only modules"},
      {"modules twice", "modules:\n  o: {prober: options}\nmodules:\n  p: {prober: options}\n",
       "m.yml:3:1: modules: given twice (first at line 1)"},
      {"modules empty", "modules: {}\n", "m.yml:1:10: modules: no modules"},
      {"modules null", "modules:\n", "m.yml:1:1: modules: no modules"},
      {"modules a list", "modules: [a]\n", "m.yml:1:10: modules: expected a map of module names to modules"},
      {"bad module name", "modules:\n  a.b: {prober: options}\n",
       "m.yml:2:3: modules: a module name is 1 to 64 letters, digits, '_' or '-'"},
      {"module name too long", "modules:\n  " + std::string(65, 'x') + ": {prober: options}\n",
       "m.yml:2:3: modules: a module name is 1 to 64 letters, digits, '_' or '-'"},
      {"duplicate module", "modules:\n  o: {prober: options}\n  p: {prober: options}\n  o: {prober: options}\n",
       "m.yml:4:3: modules.o: given twice (first at line 2)"},
      {"duplicate key", "modules:\n  o:\n    prober: options\n    timeout: 1s\n    timeout: 2s\n",
       "m.yml:5:5: modules.o.timeout: given twice (first at line 4)"},
      {"module null", "modules:\n  o:\n", "m.yml:2:3: modules.o: empty module: it needs at least a prober"},
      {"module a scalar", "modules:\n  o: options\n", "m.yml:2:6: modules.o: expected a map of settings (prober: …)"},
      {"no prober", "modules:\n  o: {transport: udp}\n",
       "m.yml:2:3: modules.o: no prober: add prober: register, query, options or inbound"},
      {"unknown prober", "modules:\n  o: {prober: ping}\n",
       "m.yml:2:15: modules.o.prober: unknown prober: expected register, query, options or inbound"},
      {"unknown key with suggestion", "modules:\n  o: {prober: options, timeuot: 1s}\n",
       "m.yml:2:24: modules.o.timeuot: unknown key (did you mean timeout?)"},
      {"unknown key, case", "modules:\n  o: {prober: options, Transport: udp}\n",
       "m.yml:2:24: modules.o.Transport: unknown key (did you mean transport?)"},
      {"unknown key without suggestion", "modules:\n  o: {prober: options, colour: red}\n",
       "m.yml:2:24: modules.o.colour: unknown key"},
      {"unknown key not a name", "modules:\n  o: {prober: options, \"a b\": 1}\n",
       "m.yml:2:24: modules.o.(a key that is not a name): unknown key"},
      {"a password in the file", "modules:\n  r: {prober: register, password: S3cretPW}\n",
       "m.yml:2:25: modules.r.password: a secret is not written in the file: use password_env, password_file, ha1_env or "
       "accounts_csv"},
      {"a list as key", "modules:\n  o: {prober: options, [a]: 1}\n",
       "m.yml:2:24: modules.o: a key must be a name, not a list, a map or empty"},
      {"a list where text belongs", "modules:\n  o: {prober: options, registrar: [a, b]}\n",
       "m.yml:2:35: modules.o.registrar: expected HOST[:PORT] or a SIP URI, not a list"},
      {"a map where text belongs", "modules:\n  o: {prober: options, user: {a: b}}\n",
       "m.yml:2:30: modules.o.user: expected a text, not a map"},
      {"no value", "modules:\n  o:\n    prober: options\n    realm:\n", "m.yml:4:5: modules.o.realm: no value: expected a text"},
      {"empty text", "modules:\n  o: {prober: options, realm: \"\"}\n",
       "m.yml:2:31: modules.o.realm: empty value: expected a text"},
      {"control character", "modules:\n  o: {prober: options, user: \"a\\x1bb\"}\n",
       "m.yml:2:30: modules.o.user: control character or invalid UTF-8 in the value"},
      {"bad registrar", "modules:\n  o: {prober: options, registrar: \"pbx.example.com:\"}\n",
       "m.yml:2:35: modules.o.registrar: cannot use the value: empty port after ':'"},
      {"bad outbound proxy", "modules:\n  o: {prober: options, outbound_proxy: \"pb$x\"}\n",
       "m.yml:2:40: modules.o.outbound_proxy: cannot use the value: character '$' not allowed in a host name"},
      {"bad transport", "modules:\n  o: {prober: options, transport: sctp}\n",
       "m.yml:2:35: modules.o.transport: expected udp, tcp or tls"},
      {"bad timeout", "modules:\n  o: {prober: options, timeout: soon}\n",
       "m.yml:2:33: modules.o.timeout: not a duration: write 5s, 500ms, 1.5s, 2m or a number of seconds"},
      {"timeout too long", "modules:\n  o: {prober: options, timeout: 6m}\n",
       "m.yml:2:33: modules.o.timeout: out of range: from 0.1s to 300s"},
      {"expires zero", "modules:\n  r: {prober: register, password_env: PBX_PW, expires: 0}\n",
       "m.yml:2:56: modules.r.expires: expected whole seconds from 1 to 4294967295"},
      {"expires too big", "modules:\n  r: {prober: register, password_env: PBX_PW, expires: 4294967296}\n",
       "m.yml:2:56: modules.r.expires: expected whole seconds from 1 to 4294967295"},
      {"expires for query", "modules:\n  q: {prober: query, password_env: PBX_PW, expires: 60}\n",
       "m.yml:2:44: modules.q.expires: only the register and inbound probers register a binding"},
      {"dns_servers not a list", "modules:\n  o: {prober: options, dns_servers: 192.0.2.53}\n",
       "m.yml:2:37: modules.o.dns_servers: expected a list of IP[:PORT], e.g. [192.0.2.53, \"[2001:db8::53]:53\"]"},
      {"dns_servers with a name", "modules:\n  o: {prober: options, dns_servers: [192.0.2.53, ns.example.com]}\n",
       "m.yml:2:50: modules.o.dns_servers[1]: DNS server must be IPv4[:port] or [IPv6]:port"},
      {"insecure not a bool", "modules:\n  o: {prober: options, insecure: maybe}\n",
       "m.yml:2:34: modules.o.insecure: expected true or false"},
      {"bind a name", "modules:\n  o: {prober: options, bind: host.example.com}\n",
       "m.yml:2:30: modules.o.bind: expected ADDR[:PORT] with ADDR an IP address"},
      {"ca_file unreadable", "modules:\n  o: {prober: options, ca_file: /nope.pem}\n",
       "m.yml:2:33: modules.o.ca_file: cannot read the file /nope.pem"},
      {"options with a secret", "modules:\n  o: {prober: options, password_env: PBX_PW}\n",
       "m.yml:2:24: modules.o.password_env: options sends no credentials"},
      {"register without a secret", "modules:\n  r: {prober: register}\n",
       "m.yml:2:3: modules.r: register needs a secret: password_env, password_file, ha1_env or accounts_csv"},
      {"two secrets", "modules:\n  r: {prober: query, password_env: PBX_PW, password_file: /etc/in.pw}\n",
       "m.yml:2:44: modules.r.password_file: one secret source only, and password_env is given"},
      {"variable not set", "modules:\n  r: {prober: query, password_env: NOT_SET}\n",
       "m.yml:2:36: modules.r.password_env: environment variable NOT_SET is not set"},
      {"variable empty", "modules:\n  r: {prober: query, password_env: EMPTY}\n",
       "m.yml:2:36: modules.r.password_env: environment variable EMPTY is empty"},
      {"not a variable name", "modules:\n  r: {prober: query, password_env: \"PBX PW\"}\n",
       "m.yml:2:36: modules.r.password_env: not an environment variable name (letters, digits and '_')"},
      {"ha1 not hex", "modules:\n  r: {prober: query, ha1_env: PBX_PW}\n",
       "m.yml:2:31: modules.r.ha1_env: environment variable PBX_PW is not an HA1 (32 or 64 hex digits)"},
      {"password file missing", "modules:\n  r: {prober: query, password_file: /nope}\n",
       "m.yml:2:37: modules.r.password_file: cannot read the file /nope"},
      {"password file two lines", "modules:\n  r: {prober: query, password_file: /two}\n",
       "m.yml:2:37: modules.r.password_file: the file /two holds more than one line: a password is one line"},
      {"password file too long", "modules:\n  r: {prober: query, password_file: /long}\n",
       "m.yml:2:37: modules.r.password_file: the file /long holds more than 1024 bytes: a password is one line"},
      {"password file empty", "modules:\n  r: {prober: query, password_file: /empty}\n",
       "m.yml:2:37: modules.r.password_file: the file /empty is empty"},
      {"two documents", "modules:\n  o: {prober: options}\n---\nmodules:\n  p: {prober: options}\n",
       "m.yml:4:1: a second YAML document: the file holds one"},
      {"not YAML", "modules: {o: [}\n", "m.yml:1:15: not valid YAML: illegal flow end"},
      {"bad escape: no piece of the document", "modules:\n  o: {prober: options, user: \"S3cretPW\\q\"}\n",
       "m.yml:2:41: not valid YAML: unknown escape character"},
      {"bad directive: no piece of it", "%YAML S3cretPW\n---\nmodules: {}\n", "m.yml:1:1: not valid YAML: bad YAML version"},
      {"undefined alias", "modules:\n  o: *nope\n", "m.yml:2:6: not valid YAML: the referenced anchor is not defined"},
  };
  fake_world w;
  w.files["/two"] = "F1leSecret\nmore\n";
  w.files["/long"] = std::string(1025, 'x') + "\n";
  w.files["/empty"] = "\n";
  for (const auto& r : table) {
    CAPTURE(r.name);
    const std::string error = parse_error(r.text, w);
    CHECK(error == r.error);
    check_secret_free(error);
  }
}

TEST_CASE("exporter config: a password file ends in one line end, LF or CRLF") {
  for (const char* content : {"F1leSecret", "F1leSecret\n", "F1leSecret\r\n"}) {
    fake_world w;
    w.files["/pw"] = content;
    auto c = parse_config("modules:\n  r: {prober: query, password_file: /pw}\n", "m.yml", w.env());
    REQUIRE_MESSAGE(c, (c ? "" : c.error()));
    CHECK(c->modules[0].credentials->password == "F1leSecret");
  }
}

TEST_CASE("exporter config: timeout durations") {
  struct row {
    const char* text;
    std::optional<long> ms;  // nullopt: refused
  };
  const std::vector<row> table = {
      {"5s", 5000},
      {"500ms", 500},
      {"1.5s", 1500},
      {"2m", 120000},
      {"5", 5000},
      {"0.1", 100},
      {"0.1s", 100},
      {"100ms", 100},
      {"300s", 300000},
      {"5m", 300000},
      {"\"7s\"", 7000},
      {"99ms", std::nullopt},
      {"0.05s", std::nullopt},
      {"301s", std::nullopt},
      {"6m", std::nullopt},
      {"0", std::nullopt},
      {"-1s", std::nullopt},
      {"1h", std::nullopt},
      {"5 s", std::nullopt},
      {"1.s", std::nullopt},
      {".5s", std::nullopt},
      {"1.2.3s", std::nullopt},
      {"inf", std::nullopt},
      {"nan", std::nullopt},
      {"1e2s", std::nullopt},
      {"5S", std::nullopt},
      {"99999999999999999999999s", std::nullopt},
  };
  const fake_world w;
  for (const auto& r : table) {
    CAPTURE(r.text);
    auto c = parse_config(std::string("modules:\n  o: {prober: options, timeout: ") + r.text + "}\n", "m.yml", w.env());
    if (r.ms) {
      REQUIRE_MESSAGE(c, (c ? "" : c.error()));
      CHECK(c->modules[0].timeout == std::chrono::milliseconds(*r.ms));
    } else {
      REQUIRE(!c);
      CHECK(c.error().starts_with("m.yml:2:33: modules.o.timeout: "));
    }
  }
}

TEST_CASE("exporter config: accounts from a batch CSV, keyed by the normalised AOR") {
  const fake_world w;
  auto c = parse_config("modules:\n  q: {prober: query, accounts_csv: /etc/accounts.csv}\n", "m.yml", w.env());
  REQUIRE_MESSAGE(c, (c ? "" : c.error()));
  const module& q = c->modules[0];
  REQUIRE(q.accounts.size() == 2);
  CHECK(q.accounts.count("sip:alice@example.com") == 1);
  CHECK(q.accounts.count("sip:bob@example.com:5070") == 1);

  const auto* alice = account_for(q, "alice@EXAMPLE.com");
  REQUIRE(alice != nullptr);
  CHECK(alice->acct.credentials.password == "CsvSecretA");
  CHECK(alice->label == "a");
  CHECK(account_for(q, "sip:alice@example.com") == alice);
  CHECK(account_for(q, "sips:alice@example.com") == nullptr);  // the scheme is kept
  CHECK(account_for(q, "sip:alice@example.com:5060") == nullptr);
  CHECK(account_for(q, "carol@example.com") == nullptr);
  CHECK(account_for(q, "not an aor") == nullptr);
  const auto* bob = account_for(q, "sip:bob@example.com:5070");
  REQUIRE(bob != nullptr);
  CHECK(bob->registrar == "pbx.example.com");
  CHECK(account_for(c->modules[0], "") == nullptr);

  module none;
  CHECK(account_for(none, "alice@example.com") == nullptr);
}

TEST_CASE("exporter config: accounts_csv errors name the file and the row, never a secret") {
  struct row {
    const char* name;
    std::string csv;
    std::string error;
  };
  const std::string at = "m.yml:2:36: modules.q.accounts_csv: /a.csv: ";
  const std::vector<row> table = {
      {"empty", "", at + "empty: it needs a header row (aor,password,…)"},
      {"only the header", "aor,password\n", at + "no accounts: only the header"},
      {"no aor column", "user,password\nx,CsvSecretA\n",
       at + "column 1 of the header is not a column name (known: aor, "
            "password, password_env, ha1, username, realm, registrar, "
            "transport, expires, label); the first row must be the header"},
      {"bad expires", "aor,password,expires\nalice@example.com,CsvSecretA,soon\n",
       at + "row 2: bad expires in column 3 (expires) (seconds, 0 to 4294967295)"},
      {"secret in the aor column", "aor,password\nCsvSecretA@,x\n",
       at + "row 2: bad aor in column 1 (aor): the address of "
            "record is not a SIP URI (malformed URI host)"},
      {"missing password", "aor,password\nalice@example.com,\n",
       at + "row 2: missing password (none of password, password_env, ha1 is filled in)"},
      {"same AOR twice", "aor,password\nalice@example.com,CsvSecretA\nsip:alice@EXAMPLE.com,CsvSecretB\n",
       at + "row 3: sip:alice@example.com is already in row 2"},
      {"unterminated quote", "aor,password\nalice@example.com,\"CsvSecretA\n",
       at + "row 2: unbalanced quote: a quoted field "
            "opened in this row never closes; the "
            "lines after it are read as rows"},
  };
  for (const auto& r : table) {
    CAPTURE(r.name);
    fake_world w;
    w.files["/a.csv"] = r.csv;
    const std::string error = parse_error("modules:\n  q: {prober: query, accounts_csv: /a.csv}\n", w);
    CHECK(error == r.error);
    check_secret_free(error);
  }
  const std::string missing = parse_error("modules:\n  q: {prober: query, accounts_csv: /nope.csv}\n");
  CHECK(missing == "m.yml:2:36: modules.q.accounts_csv: /nope.csv: cannot read the file");
}

TEST_CASE("exporter config: load_config reads the file through the environment, bounded") {
  fake_world w;
  w.files["/m.yml"] = "modules:\n  o: {prober: options}\n";
  w.files["/big.yml"] = std::string(max_config_bytes + 1, '#');
  auto ok = load_config("/m.yml", w.env());
  REQUIRE_MESSAGE(ok, (ok ? "" : ok.error()));
  CHECK(ok->modules[0].name == "o");
  auto missing = load_config("/none.yml", w.env());
  REQUIRE(!missing);
  CHECK(missing.error() == "/none.yml: cannot read the file");
  auto big = load_config("/big.yml", w.env());
  REQUIRE(!big);
  CHECK(big.error() == "/big.yml: larger than 1 MiB: not a modules file");
  auto bad = load_config("/m.yml", config_env{});  // no reader at all
  REQUIRE(!bad);
  CHECK(bad.error() == "/m.yml: cannot read the file");
  // Errors inside name the path as the source.
  w.files["/e.yml"] = "modules: {}\n";
  auto empty = load_config("/e.yml", w.env());
  REQUIRE(!empty);
  CHECK(empty.error() == "/e.yml:1:10: modules: no modules");
}

TEST_CASE("exporter config: the process environment reads regular files only") {
  char dir[] = "/tmp/sipprobe-config-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string base = dir;
  const std::string yml = base + "/m.yml", pw = base + "/pw", fifo = base + "/fifo";
  std::ofstream(yml) << "modules:\n  r: {prober: register, password_file: " << pw << "}\n";
  std::ofstream(pw) << "F1leSecret\n";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const config_env env = process_config_env();
  auto c = load_config(yml, env);
  CHECK_MESSAGE(c, (c ? "" : c.error()));
  if (c) CHECK(c->modules[0].credentials->password == "F1leSecret");
  auto from_dir = load_config(base, env);
  CHECK((!from_dir && from_dir.error() == base + ": cannot read the file"));
  auto from_fifo = load_config(fifo, env);  // would block if opened
  CHECK((!from_fifo && from_fifo.error() == fifo + ": cannot read the file"));
  ::setenv("SIPPROBE_TEST_CONFIG_VAR", "x", 1);
  CHECK(std::string(env.getenv("SIPPROBE_TEST_CONFIG_VAR")) == "x");
  ::unsetenv("SIPPROBE_TEST_CONFIG_VAR");
  std::remove(yml.c_str());
  std::remove(pw.c_str());
  std::remove(fifo.c_str());
  ::rmdir(dir);
}

TEST_CASE("exporter config: hostile input ends in one error line, never an exception") {
  const fake_world w;
  auto one_line = [&](const std::string& text) {
    expected<config, std::string> c = config{};
    CHECK_NOTHROW(c = parse_config(text, "m.yml", w.env()));
    if (!c) {
      CHECK_MESSAGE(c.error().starts_with("m.yml"), c.error());
      check_secret_free(c.error());
    }
    return c;
  };
  std::size_t refused = 0;
  for (std::size_t n = 0; n <= valid_file.size(); ++n)
    if (!one_line(valid_file.substr(0, n))) ++refused;
  CHECK(refused > valid_file.size() / 2);  // most prefixes are incomplete files

  CHECK(!one_line(std::string(100000, '[')));
  CHECK(!one_line(std::string(100000, '{')));
  std::string nested_blocks = "modules:\n";
  for (int i = 0; i < 3000; ++i) nested_blocks += std::string(static_cast<std::size_t>(2 + i), ' ') + "- \n";
  CHECK(!one_line(nested_blocks));
  CHECK(!one_line("modules: &m {o: *m}\n"));                                        // a module that is the modules map
  CHECK(!one_line("modules:\n  o: &o {prober: options, dns_servers: &d [*d]}\n"));  // a list inside itself
  CHECK(!one_line("a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nmodules: *c\n"));  // laughs
  CHECK(!one_line(std::string("\x00\x01\xff\xfe\x80garbage\x1b[2J", 16)));
  CHECK(!one_line("\xef\xbb\xbf\xff\xfe\x00m\x00o\x00"));
  CHECK(!one_line(std::string(max_config_bytes + 1, 'a')));
  std::string many_keys = "modules:\n  o:\n    prober: options\n";
  for (int i = 0; i < 20000; ++i) many_keys += "    k" + std::to_string(i) + ": 1\n";
  CHECK(!one_line(many_keys));
  // Every single byte changed in the valid file: still one line or a config.
  std::string mutated = valid_file;
  for (std::size_t i = 0; i < mutated.size(); ++i) {
    const char saved = mutated[i];
    for (char ch : {'\0', ':', '{', '[', '&', '*', '"', '\n', '\x7f'}) {
      mutated[i] = ch;
      one_line(mutated);
    }
    mutated[i] = saved;
  }
}
