// `register`, `diagnose` and `reach` over TLS against the lab Kamailio, located through
// the lab DNS: whose name the certificate must hold (RFC 5922 §4: the SIP domain, not the
// SRV target), and what --insecure skipped, said in the report.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>

using test_support::finding_detail;
using test_support::has_finding;
using test_support::lab_service;
using test_support::sipprobe;

namespace {

bool mentions(const nlohmann::json& j, const std::string& part) { return j.dump().find(part) != std::string::npos; }

}  // namespace

TEST_CASE("register: the TLS certificate is checked against the SIP domain, not the SRV target") {
  lab_service kam("kamailio");
  // secure.test: NAPTR → _sips._tcp SRV → pbx1.secure.test, whose certificate names only
  // secure.test. impostor.test: the same server under a name the certificate lacks.
  lab_service dns("dnsmasq", {{"SIP_PORT", kam.get("SIP_PORT")}, {"DOMAIN_TLS_PORT", kam.get("TLS_DOMAIN_PORT")}});
  const std::string lab = " --timeout 5 --dns-server " + dns.get("DNS_SERVER") + " --ca-file " + kam.get("CA_FILE");

  auto ok = sipprobe("register sip:alice@secure.test" + lab, "alice-secret");
  INFO(ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.report["diagnosis"]["code"] == "registered");
  REQUIRE(ok.report["targets"].size() == 1);
  CHECK(ok.report["targets"][0]["host"] == "pbx1.secure.test");
  CHECK(ok.report["transactions"][0]["transport"] == "tls");
  CHECK(ok.report["tls"]["checked_name"] == "secure.test");
  CHECK(ok.report["tls"]["verdict"] == "ok");
  CHECK(ok.report["findings"].empty());  // no failover, nothing skipped
  auto text = sipprobe("register sip:alice@secure.test" + lab, "alice-secret", false);
  CHECK(text.out.find("TLS: the certificate of 127.0.0.1:" + kam.get("TLS_DOMAIN_PORT") +
                      " was checked against \"secure.test\": ok") != std::string::npos);

  // A domain the certificate does not name still fails, and says which name was checked.
  auto impostor = sipprobe("register sip:alice@impostor.test" + lab, "alice-secret");
  INFO(impostor.out);
  CHECK(impostor.exit_code == 1);
  CHECK(impostor.report["diagnosis"]["code"] == "tls_failure");
  CHECK(mentions(impostor.report["diagnosis"]["evidence"], "checked against \\\"impostor.test\\\""));
  CHECK(impostor.report["tls"]["checked_name"] == "impostor.test");
  CHECK(impostor.report["tls"]["verdict"] == "name_mismatch");

  // --registrar names the host the user asked for: the domain is checked; the SRV target
  // given as registrar is checked as itself, and fails.
  auto by_domain = sipprobe("register sip:alice@secure.test --registrar secure.test" + lab, "alice-secret");
  INFO(by_domain.out);
  CHECK(by_domain.report["diagnosis"]["code"] == "registered");
  CHECK(by_domain.report["tls"]["checked_name"] == "secure.test");
  auto by_target = sipprobe(
      "register sip:alice@secure.test --transport tls --registrar pbx1.secure.test:" + kam.get("TLS_DOMAIN_PORT") + lab,
      "alice-secret");
  INFO(by_target.out);
  CHECK(by_target.report["diagnosis"]["code"] == "tls_failure");
  CHECK(by_target.report["tls"]["checked_name"] == "pbx1.secure.test");

  // reach and diagnose check the same name.
  auto reach = sipprobe("reach secure.test" + lab);
  INFO(reach.out);
  CHECK(reach.exit_code == 0);
  REQUIRE(reach.report["checks"].size() == 1);
  CHECK(reach.report["checks"][0]["verdict"] == "ok");
  CHECK(reach.report["checks"][0]["tls"]["checked_name"] == "secure.test");
  auto diag = sipprobe("diagnose sip:alice@secure.test" + lab, "alice-secret");
  INFO(diag.out);
  CHECK(diag.exit_code == 0);
  CHECK(diag.report["diagnosis"]["code"] == "registered");
  REQUIRE(diag.report["checks"].size() == 1);
  CHECK(diag.report["checks"][0]["tls"]["checked_name"] == "secure.test");
  CHECK(diag.report["checks"][0]["verdict"] == "ok");
}

TEST_CASE("register: --insecure goes on, and reports the certificate check it skipped") {
  lab_service kam("kamailio");
  struct row {
    const char* port_key;
    bool with_ca;
    const char* verdict;
  };
  const row rows[] = {{"TLS_PORT", false, "untrusted"},
                      {"TLS_BADNAME_PORT", true, "name_mismatch"},
                      {"TLS_EXPIRED_PORT", true, "expired"},
                      {"TLS_SELFSIGNED_PORT", true, "self_signed"}};
  for (const auto& r : rows) {
    CAPTURE(r.port_key);
    const std::string endpoint = "127.0.0.1:" + kam.get(r.port_key);
    const std::string args = "sip:alice@sip.test --transport tls --insecure --timeout 5 --registrar " + endpoint +
                             (r.with_ca ? " --ca-file " + kam.get("CA_FILE") : "");
    for (const std::string command : {"register", "diagnose"}) {
      CAPTURE(command);
      auto p = sipprobe(command + " " + args, "alice-secret");
      INFO(p.out);
      CHECK(p.exit_code == 0);
      CHECK(p.report["diagnosis"]["code"] == "registered");
      REQUIRE(has_finding(p.report, "tls_certificate_unverified"));
      const auto detail = finding_detail(p.report, "tls_certificate_unverified");
      CHECK(detail.find(endpoint) != std::string::npos);
      CHECK(detail.find(r.verdict) != std::string::npos);
      CHECK(detail.find("--insecure") != std::string::npos);
      CHECK(p.report["tls"]["verdict"] == r.verdict);
      CHECK(p.report["tls"]["verification_skipped"] == true);
    }
    auto text = sipprobe("register " + args, "alice-secret", false);
    CHECK(text.out.find("tls_certificate_unverified") != std::string::npos);
    if (std::string(r.verdict) == "expired") {
      // The past is named, not counted in floored days ("in -1 days" was printed once).
      CHECK(text.out.find("tls_certificate_expiring") != std::string::npos);
      CHECK(text.out.find(") expired 20") != std::string::npos);
      CHECK(text.out.find(" -1 day") == std::string::npos);
      auto reach = sipprobe("reach " + endpoint + " --transport tls --insecure --ca-file " + kam.get("CA_FILE"), "", false);
      INFO(reach.out);
      CHECK(reach.out.find(" (expired); verify: expired") != std::string::npos);
    }
    auto nagios = sipprobe("register " + args + " --nagios", "alice-secret", false);
    CHECK(nagios.exit_code == 1);  // WARNING: registered, but nothing proved who answered
    CHECK(nagios.out.rfind("SIPPROBE WARNING - registered", 0) == 0);
    CHECK(nagios.out.find("tls_certificate_unverified") != std::string::npos);
  }
  // A certificate that verifies makes no such finding, --insecure or not.
  auto good = sipprobe("register sip:alice@sip.test --transport tls --insecure --registrar 127.0.0.1:" + kam.get("TLS_PORT") +
                           " --ca-file " + kam.get("CA_FILE"),
                       "alice-secret");
  CHECK(good.report["diagnosis"]["code"] == "registered");
  CHECK_FALSE(has_finding(good.report, "tls_certificate_unverified"));
  CHECK(good.report["tls"]["verdict"] == "ok");
  CHECK(good.report["tls"]["verification_skipped"] == false);  // nothing was skipped
}

TEST_CASE("--ca-file problems are one clear line, without OpenSSL's codes") {
  const std::string dir = test_support::make_temp_dir("cafile");
  auto write = [&dir](const std::string& name, const std::string& text) {
    test_support::run("printf '%s' " + test_support::shell_quote(text) + " > " + test_support::shell_quote(dir + "/" + name));
    return dir + "/" + name;
  };
  const std::string key_only = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
  struct row {
    std::string file;
    std::string says;
  };
  const row rows[] = {
      {dir + "/missing.pem", "does not exist"},
      {dir, "is a directory, not a file"},
      {write("empty.pem", ""), "is empty"},
      {write("text.pem", "hello\n"), "is not a PEM file"},
      {write("key.pem", key_only), "holds no certificate (its PEM blocks: PRIVATE KEY)"},
      {write("cut.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"), "a certificate in it does not decode (bad end line)"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.file);
    const std::pair<std::string, std::string> commands[] = {
        {"reach 127.0.0.1:9 --transport tls", ""},  // reach takes no password
        {"register sip:a@sip.test --registrar 127.0.0.1:9 --transport tls", "x"}};
    for (const auto& [command, password] : commands) {
      CAPTURE(command);
      auto p = sipprobe(command + " --ca-file " + test_support::shell_quote(r.file), password, false);
      CHECK(p.exit_code == 2);
      CHECK(p.out.rfind("sipprobe: --ca-file " + r.file + ": " + r.says, 0) == 0);
      CHECK(std::count(p.out.begin(), p.out.end(), '\n') == 1);
      CHECK(p.out.find("error:") == std::string::npos);
    }
  }
  // Unreadable: run as nobody (root reads every file).
  const auto locked = write("locked.pem", key_only);
  auto p = test_support::run("chmod 600 " + test_support::shell_quote(locked) + " && chmod 755 " +
                             test_support::shell_quote(dir) + " && setpriv --reuid=65534 --regid=65534 --clear-groups " +
                             test_support::shell_quote(SIPPROBE_BINARY) + " reach 127.0.0.1:9 --transport tls --ca-file " +
                             test_support::shell_quote(locked) + " 2>&1");
  CHECK(p.exit_code == 2);
  CHECK(p.out == "sipprobe: --ca-file " + locked + ": cannot be read: Permission denied\n");
  std::filesystem::remove_all(dir);
}
