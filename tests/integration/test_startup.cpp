// Start-up (issue 15): a run loads only what it uses. Seen from outside with strace: the
// files a run opens, the dynamic loader's included. A run that never makes a TLS
// connection opens no CA store, and no run but `analyze` of a capture libpcap must read
// opens libpcap; a TLS run reads its CA store once, however many TLS connections it makes.
//
// Why strace rather than a test mode that lists /proc/self/maps at exit: the CA bundle is
// read and closed, never mapped, so only the open shows it; and strace needs nothing in
// the binary that production would carry.
//
// The system store is made known: SSL_CERT_FILE names a copy of the lab's CA (OpenSSL's
// default file, as the environment may set it for any program) and SSL_CERT_DIR an empty
// folder, so a run that loads the store opens exactly that file, and a verified handshake
// proves it was loaded.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

using test_support::lab_service;
using test_support::shell_quote;

namespace {

// The prefix that runs a command under strace, which writes every open of it and of its
// children to `trace`. FAILS the test, with the reason, when strace is missing.
std::string strace_prefix(const std::string& trace) {
  REQUIRE_MESSAGE(test_support::run("command -v strace").exit_code == 0, "strace is not installed (scripts/setup installs it)");
  return "strace -f -qq -e trace=openat,open -o " + shell_quote(trace);
}

// A temporary folder, removed with the object (also when a REQUIRE ends the test).
struct temp_folder {
  temp_folder() : dir(test_support::make_temp_dir("startup")) {}
  ~temp_folder() { std::filesystem::remove_all(dir); }
  std::string dir;
};

// A folder with store.pem (the lab's CA, standing in for the system store) and an empty
// certs/ for SSL_CERT_DIR; removed with the object.
struct trust_store {
  explicit trust_store(const lab_service& kam) {
    std::filesystem::copy_file(kam.get("CA_FILE"), file());
    std::filesystem::create_directory(dir + "/certs");
  }
  std::string file() const { return dir + "/store.pem"; }
  // The prefix that runs sipprobe under strace with this store as the default one.
  std::string traced(const std::string& trace) const {
    return "env SSL_CERT_FILE=" + shell_quote(file()) + " SSL_CERT_DIR=" + shell_quote(dir + "/certs") + " " +
           strace_prefix(trace);
  }
  temp_folder folder;
  const std::string& dir = folder.dir;
};

// Every path the traced processes asked to open, in order (opened or not). FAILS the test
// when strace wrote none (it could not trace: `out` is what the command said), so that an
// empty trace never passes for "opened nothing".
std::vector<std::string> opened_paths(const std::string& trace, const std::string& out) {
  std::ifstream in(trace);
  std::vector<std::string> paths;
  static const std::regex open_call(R"re(\bopen(at)?\((AT_FDCWD, )?"([^"]*)")re");
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, open_call)) paths.push_back(m[3]);
  REQUIRE_MESSAGE(!paths.empty(), "strace traced no open in " << trace << "; the command said: " << out);
  return paths;
}

std::size_t count_containing(const std::vector<std::string>& paths, const std::string& part) {
  return static_cast<std::size_t>(
      std::count_if(paths.begin(), paths.end(), [&](const std::string& p) { return p.find(part) != std::string::npos; }));
}

std::string joined(const std::vector<std::string>& paths) {
  std::string out;
  for (const auto& p : paths) out += p + "\n";
  return out;
}

// What the run opened, after running it under strace (exit status and report checked by
// the caller through `run`).
struct traced_run {
  test_support::probe_run run;
  std::vector<std::string> paths;
};

traced_run run_traced(const trust_store& store, const std::string& args, const std::string& password = "") {
  const std::string trace = store.dir + "/trace";
  std::filesystem::remove(trace);
  traced_run t;
  t.run = test_support::sipprobe_prefixed(store.traced(trace), args, password);
  t.paths = opened_paths(trace, t.run.out);
  return t;
}

}  // namespace

TEST_CASE("start-up: register, reach and dns over UDP open no CA store and no libpcap") {
  lab_service kam("kamailio");
  lab_service dns("dnsmasq", {{"SIP_PORT", kam.get("SIP_PORT")}, {"TLS_PORT", kam.get("TLS_PORT")}});
  trust_store store(kam);
  const std::string registrar = "127.0.0.1:" + kam.get("SIP_PORT");
  struct row {
    std::string args, password;
  };
  // Default flags first: RFC 3263 might pick TLS for a name, so a TLS context is needed,
  // but an address with a port means UDP (RFC 3263 §4.1) and no TLS connection is made.
  const row rows[] = {
      {"register sip:alice@sip.test --registrar " + registrar, "alice-secret"},
      {"register sip:alice@sip.test --registrar " + registrar + " --transport udp", "alice-secret"},
      {"reach " + registrar + " --transport udp", ""},
      {"dns sip.test --dns-server " + dns.get("DNS_SERVER"), ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.args);
    auto t = run_traced(store, r.args, r.password);
    INFO(t.run.out);
    INFO("opened:\n" << joined(t.paths));
    CHECK(t.run.exit_code == 0);
    // The trace is read right: the C library was opened by the loader.
    CHECK(count_containing(t.paths, "libc.so") == 1);
    CHECK(count_containing(t.paths, store.file()) == 0);
    CHECK(count_containing(t.paths, store.dir + "/certs") == 0);
    CHECK(count_containing(t.paths, "ca-certificates") == 0);
    CHECK(count_containing(t.paths, "libpcap") == 0);
    // Only a name to resolve starts the resolver (c-ares reads resolv.conf then).
    CHECK(count_containing(t.paths, "/etc/resolv.conf") == (r.args.starts_with("dns ") ? 1u : 0u));
  }
}

TEST_CASE("start-up: a TLS run reads its CA store once, however many TLS connections it makes") {
  lab_service kam("kamailio");
  trust_store store(kam);
  const std::string tls_registrar = "127.0.0.1:" + kam.get("TLS_PORT");

  SUBCASE("register over TLS: the system store") {
    auto t = run_traced(store, "register sip:alice@sip.test --transport tls --registrar " + tls_registrar, "alice-secret");
    INFO(t.run.out);
    INFO("opened:\n" << joined(t.paths));
    CHECK(t.run.report["diagnosis"]["code"] == "registered");
    CHECK(t.run.report["tls"]["verdict"] == "ok");  // the store was loaded, and used
    CHECK(count_containing(t.paths, store.file()) == 1);
    CHECK(count_containing(t.paths, "libpcap") == 0);
  }
  SUBCASE("register over TLS: --ca-file is read once, before any connection") {
    auto t = run_traced(store,
                        "register sip:alice@sip.test --transport tls --registrar " + tls_registrar + " --ca-file " +
                            shell_quote(kam.get("CA_FILE")),
                        "alice-secret");
    INFO(t.run.out);
    INFO("opened:\n" << joined(t.paths));
    CHECK(t.run.report["diagnosis"]["code"] == "registered");
    CHECK(t.run.report["tls"]["verdict"] == "ok");
    CHECK(count_containing(t.paths, kam.get("CA_FILE")) == 1);
    CHECK(count_containing(t.paths, store.file()) == 0);  // the system store is not wanted
  }
  SUBCASE("diagnose: its TLS check and its registration share one store") {
    auto t = run_traced(store, "diagnose sip:alice@sip.test --transport tls --registrar " + tls_registrar, "alice-secret");
    INFO(t.run.out);
    INFO("opened:\n" << joined(t.paths));
    CHECK(t.run.report["diagnosis"]["code"] == "registered");
    REQUIRE(t.run.report["checks"].size() == 1);
    CHECK(t.run.report["checks"][0]["tls"]["verdict"] == "ok");
    CHECK(count_containing(t.paths, store.file()) == 1);
  }
  SUBCASE("batch: rows on two TLS servers share one store") {
    const std::string csv = store.dir + "/accounts.csv";
    std::ofstream(csv) << "aor,password,registrar\n"
                       << "sip:alice@sip.test,alice-secret," << tls_registrar << "\n"
                       << "sip:bob@sip.test,bob-secret,127.0.0.1:" << kam.get("TLS_SELFSIGNED_PORT") << "\n";
    const std::string trace = store.dir + "/trace";
    auto r = test_support::run(store.traced(trace) + " " + shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(csv) +
                               " --transport tls --summary 2>&1");
    const auto paths = opened_paths(trace, r.out);
    INFO(r.out);
    INFO("opened:\n" << joined(paths));
    CHECK(r.out.find("registered                    1") != std::string::npos);
    CHECK(r.out.find("tls_failure                   1") != std::string::npos);  // self-signed: a second handshake
    CHECK(r.out.find("2 connections/sockets") != std::string::npos);
    CHECK(count_containing(paths, store.file()) == 1);
  }
}

TEST_CASE("start-up: analyze opens libpcap only for a capture that needs it, and says in one line when it cannot") {
  const std::string traces = std::string(SIPPROBE_SOURCE_DIR) + "/tests/data/traces";
  const std::string pcapng = traces + "/pcap/registered.pcapng";
  const std::string classic = traces + "/pcap/registered_ether.pcap";
  const temp_folder folder;
  const std::string trace = folder.dir + "/trace";
  auto traced = [&](const std::string& file) {
    std::filesystem::remove(trace);
    auto r = test_support::run(strace_prefix(trace) + " " + shell_quote(SIPPROBE_BINARY) + " analyze --json " +
                               shell_quote(file) + " 2>&1");
    auto paths = opened_paths(trace, r.out);
    return std::make_pair(r, paths);
  };

  // A classic pcap is read without libpcap; pcapng goes through it.
  auto [classic_run, classic_paths] = traced(classic);
  INFO(classic_run.out);
  CHECK(classic_run.exit_code == 0);
  CHECK(count_containing(classic_paths, "libc.so") == 1);
  CHECK(count_containing(classic_paths, "libpcap") == 0);
  auto [ng_run, ng_paths] = traced(pcapng);
  INFO(ng_run.out);
  CHECK(ng_run.exit_code == 0);
  CHECK(ng_run.out.find("\"registered\"") != std::string::npos);
  CHECK(count_containing(ng_paths, "libpcap") == 1);

  // libpcap missing (an empty file over it, in a mount namespace of this command only):
  // pcapng is one clear line and exit status 2; a classic pcap still reads.
  const std::string lib = []() {
    for (const char* d : {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"}) {
      if (!std::filesystem::is_directory(d)) continue;
      for (const auto& e : std::filesystem::directory_iterator(d))
        if (e.path().filename().string().rfind("libpcap.so.", 0) == 0 && !e.is_symlink()) return e.path().string();
    }
    return std::string();
  }();
  REQUIRE_MESSAGE(!lib.empty(), "libpcap's file was not found (libpcap-dev brings it)");
  auto without_libpcap = [&](const std::string& file) {
    return test_support::run("unshare --mount sh -c " +
                             shell_quote("mount --bind /dev/null " + shell_quote(lib) + " && exec " +
                                         shell_quote(SIPPROBE_BINARY) + " analyze " + shell_quote(file)) +
                             " 2>&1");
  };
  auto missing = without_libpcap(pcapng);
  CHECK(missing.exit_code == 2);
  CHECK(missing.out.rfind("sipprobe: " + pcapng + ": reading this capture needs libpcap, which cannot be loaded: ", 0) == 0);
  CHECK(std::count(missing.out.begin(), missing.out.end(), '\n') == 1);
  auto still = without_libpcap(classic);
  INFO(still.out);
  CHECK(still.exit_code == 0);
  CHECK(still.out.find("registered") != std::string::npos);
}
