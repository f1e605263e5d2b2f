// One known secret through every way it can be given (--password, SIPPROBE_PASSWORD,
// --password-env, --password-file, --password-stdin, a CSV password column) and every
// error path we can drive — usage errors of each subcommand, bad CSV rows and headers,
// bad files, unreachable peers, TLS errors, digest errors, DNS failures — against the lab
// Kamailio and dnsmasq: the secret must appear nowhere in stdout, stderr or JSON.
//
// Each case also checks its exit status and a phrase of its outcome, so a case that no
// longer reaches its error path fails instead of passing for the wrong reason.
#include <ostream>
#include <doctest/doctest.h>

#include "support/capture.hpp"
#include "support/lab.hpp"
#include "support/process.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using test_support::lab_service;
using test_support::shell_quote;

namespace {

// zed's password in the lab (EXTRA_USERS_FILE), and the secret every case carries.
const std::string secret = "Zq9-s3cret-7Wx";

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

struct secret_case {
  std::string name;
  std::string command;  // after the binary; may start with VAR=… assignments via `env`
  int exit_code;
  std::string says;  // a phrase the output must hold (the path was really taken)
};

void run_cases(const std::vector<secret_case>& cases) {
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto r = test_support::run("{ " + c.command + "; } 2>&1");
    INFO(r.out);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.out.find(c.says) != std::string::npos);
    CHECK(r.out.find(secret) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("secrets: no error path prints the password, however it was given") {
  const std::string dir = test_support::make_temp_dir("secrets");
  const auto users = write_file(dir + "/users.cfg", "$sht(users=>zed) = \"" + secret + "\";\n");
  lab_service kam("kamailio", {{"EXTRA_USERS_FILE", users}});
  lab_service dns("dnsmasq", {{"SIP_PORT", kam.get("SIP_PORT")}, {"TLS_PORT", kam.get("TLS_PORT")}});
  const std::string bin = shell_quote(SIPPROBE_BINARY);
  const std::string env = "env SIPPROBE_PASSWORD=" + shell_quote(secret) + " ZED_PW=" + shell_quote(secret) + " ";
  const std::string lab = "--registrar 127.0.0.1:" + kam.get("SIP_PORT");
  const std::string pw_file = write_file(dir + "/pw", secret + "\n");
  const std::string big_file = write_file(dir + "/big", secret + std::string(2000, 'x') + "\n");
  const std::string closed = "--registrar 127.0.0.1:9 --transport udp";

  std::vector<secret_case> cases = {
      // Usage errors, each subcommand, the secret on the command line where accepted.
      {"dns takes no --password", bin + " dns sip.test --password " + secret, 2, "unexpected arguments for dns"},
      {"dns --password=", bin + " dns sip.test --password=" + secret, 2, "unexpected argument for dns: --password"},
      {"reach takes no --password", bin + " reach sip.test --password " + secret, 2, "unexpected arguments for reach"},
      {"batch takes no --password", bin + " batch x.csv --password " + secret, 2, "unexpected arguments for batch"},
      {"register: bad --expires", bin + " register sip:zed@sip.test --password " + secret + " --expires abc", 2, "not a number"},
      {"register: --timeout nan", bin + " register sip:zed@sip.test --password " + secret + " --timeout nan", 2, "not a number"},
      {"register: two sources", bin + " register sip:zed@sip.test --password " + secret + " --password-file " + pw_file, 2,
       "one way only"},
      {"register: --header without a colon", env + bin + " register sip:zed@sip.test --header " + shell_quote("X-Pw " + secret),
       2, "--header"},
      {"register: AOR with the password", bin + " register " + shell_quote("sip:zed:" + secret + "@sip.test"), 2,
       "carries a password"},
      {"register: unparseable AOR with the password", bin + " register " + shell_quote("sip:zed:" + secret + "@"), 2,
       "not a SIP URI"},
      {"register: password file too big", bin + " register sip:zed@sip.test --password-file " + big_file, 2, "more than 1024"},
      {"register: --nagios with --json", env + bin + " register sip:zed@sip.test --nagios --json", 3, "exclude each other"},
      {"diagnose: bad --transport", bin + " diagnose sip:zed@sip.test --password " + secret + " --transport sctp", 2,
       "must be one of"},
      {"analyze: missing file", bin + " analyze " + shell_quote(dir + "/missing.pcap") + " --password " + secret, 2,
       "missing.pcap"},
      // Runtime failures with the secret in use.
      {"register: closed port", env + bin + " register sip:zed@sip.test " + closed + " --timeout 2", 1, "port_unreachable"},
      {"register: closed port, JSON", env + bin + " register sip:zed@sip.test " + closed + " --timeout 2 --json", 1,
       "port_unreachable"},
      {"register: closed port, nagios", env + bin + " register sip:zed@sip.test " + closed + " --timeout 2 --nagios", 2,
       "CRITICAL"},
      {"register: the secret as alice's wrong password",
       bin + " register sip:alice@sip.test " + lab + " --password " + secret + " --json", 1, "auth_failed"},
      {"register: wrong password, --trace", env + bin + " register sip:alice@sip.test " + lab + " --trace", 1, "Authorization"},
      {"register: unknown realm expected", env + bin + " register sip:zed@sip.test " + lab + " --realm other.test --json", 0,
       "realm"},
      {"register: --password-env, TLS without the CA",
       "ZED_PW=" + shell_quote(secret) + " " + bin +
           " register sip:zed@sip.test --password-env ZED_PW --transport tls --registrar 127.0.0.1:" + kam.get("TLS_PORT"),
       1, "tls"},
      {"register: --password-file, TLS name mismatch",
       bin + " register sip:zed@sip.test --password-file " + pw_file + " --transport tls --ca-file " +
           shell_quote(kam.get("CA_FILE")) + " --registrar 127.0.0.1:" + kam.get("TLS_BADNAME_PORT"),
       1, "tls"},
      {"register: --password-stdin, unknown user",
       "printf '%s\\n' " + shell_quote(secret) + " | " + bin + " register sip:nobody@sip.test --password-stdin " + lab +
           " --json",
       1, "not_found"},
      {"register: DNS failure", env + bin + " register sip:zed@nosuch.test --dns-server " + dns.get("DNS_SERVER") + " --json", 1,
       "dns_failure"},
      {"diagnose: wrong transport",
       env + bin + " diagnose sip:zed@sip.test --transport udp --timeout 3 --registrar 127.0.0.1:" + kam.get("TCP_ONLY_PORT"), 1,
       "wrong_transport"},
      {"diagnose: wrong password, JSON", bin + " diagnose sip:alice@sip.test " + lab + " --password " + secret + " --json", 1,
       "auth_failed"},
      {"register: stdout is full", env + bin + " register sip:zed@sip.test " + lab + " --json >/dev/full", 3,
       "cannot write the output"},
  };
  run_cases(cases);

  // analyze: a capture of the secret used as alice's (wrong) password, checked with it.
  std::string pcap;
  {
    test_support::capture cap(dir, kam.get("SIP_PORT"));
    auto r = test_support::run(env + bin + " register sip:alice@sip.test " + lab + " 2>&1");
    CHECK(r.exit_code == 1);
    pcap = cap.stop();
  }
  run_cases({
      {"analyze: the digest checked with the secret", bin + " analyze " + shell_quote(pcap) + " --password " + secret, 1,
       "auth_failed"},
      {"analyze: the same, JSON", env + bin + " analyze " + shell_quote(pcap) + " --json", 1, "produces the response"},
      {"analyze: --call-id matching nothing", env + bin + " analyze " + shell_quote(pcap) + " --call-id nothing", 2,
       "no REGISTER traffic"},
  });

  // batch: the secret in the password column of good rows and of every kind of bad row.
  const std::string csv_rows =
      "aor,password,label,transport,expires\n"
      "sip:zed@sip.test," +
      secret +
      ",good,,\n"
      "sip:alice@sip.test," +
      secret +
      ",wrong password,,\n"
      "sip:zed@sip.test," +
      secret +
      ",bad transport,sctp,\n"
      "sip:zed@sip.test," +
      secret + ",bad expires,,-1\n" + secret +
      ",sip:zed@sip.test,swapped columns,,\n"
      "sip:zed@sip.test," +
      secret +
      ",too,many,fields,here\n"
      "sip:zed@sip.test,\"" +
      secret +
      ",never closed,,\n"
      "sip:zed@sip.test,other-" +
      secret +
      ",duplicate,,\n"
      "sip:zed:" +
      secret + "@sip.test,x,password in the aor,,\n";
  const auto csv = write_file(dir + "/rows.csv", csv_rows);
  const auto no_header = write_file(dir + "/noheader.csv", secret + ",sip:zed@sip.test\n");
  const auto misspelt = write_file(dir + "/misspelt.csv", "aor,pasword\nsip:zed@sip.test," + secret + "\n");
  const auto cr_only = write_file(dir + "/cr.csv", "password,aor\r" + secret + ",sip:zed@sip.test\r");
  const auto env_column = write_file(dir + "/env.csv", "aor,password_env\nsip:zed@sip.test,ZED_PW\nsip:zed@sip.test,UNSET_PW\n");
  const std::string batch = bin + " batch ";
  run_cases({
      {"batch: rows, JSON lines and summary", batch + shell_quote(csv) + " " + lab + " --summary --timeout 3", 1, "row_error"},
      {"batch: rows, CSV", batch + shell_quote(csv) + " " + lab + " --output csv --timeout 3", 1, "row_error"},
      {"batch: rows to a closed port", batch + shell_quote(csv) + " " + closed + " --timeout 2", 1, "port_unreachable"},
      {"batch: no header row", batch + shell_quote(no_header) + " " + lab, 2, "column 1 of the header"},
      {"batch: misspelt column", batch + shell_quote(misspelt) + " " + lab, 2, "column 2 of the header"},
      {"batch: CR-only line ends", batch + shell_quote(cr_only) + " " + lab, 0, "registered"},
      {"batch: password_env column", env + batch + shell_quote(env_column) + " " + lab, 1, "not set"},
      {"batch: --out cannot be written", batch + shell_quote(csv) + " " + lab + " --out /dev/full --timeout 3", 3, "/dev/full"},
  });
  std::filesystem::remove_all(dir);
}
