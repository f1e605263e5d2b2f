// `sipprobe batch` against the real Kamailio of tests/lab/kamailio, through the real binary:
// one result per row in input order, the rate limit, and SIGINT in the middle of a run.
#include <ostream>
#include <doctest/doctest.h>

#include "support/lab.hpp"
#include "support/lab_checks.hpp"
#include "support/process.hpp"
#include "support/sockets.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using test_support::bindings;
using test_support::jsonl;
using test_support::lab_service;
using test_support::shell_quote;
using test_support::slurp;

namespace {

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// `sipprobe batch CSV ARGS --registrar <lab>` with stderr folded into the output.
test_support::run_result run_batch(const lab_service& kam, const std::string& csv, const std::string& args) {
  return test_support::run(shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(csv) + " " + args +
                           " --registrar 127.0.0.1:" + kam.get("SIP_PORT") + " 2>&1");
}

}  // namespace

TEST_CASE("batch: one result per row, in input order, with the expected code") {
  const std::string dir = test_support::make_temp_dir("batch");
  const auto users = write_file(dir, "users.cfg", "$sht(users=>frank) = \"frank-secret\";\n");
  lab_service kam("kamailio", {{"EXTRA_USERS_FILE", users}});
  const auto csv = write_file(dir, "accounts.csv",
                              "\xEF\xBB\xBF"
                              "aor,password,label,transport\r\n"
                              "sip:alice@sip.test,alice-secret,good alice,\r\n"     // 2
                              "sip:bob@sip.test,bob-secret,\"good, bob\",tcp\r\n"   // 3
                              "sip:frank@sip.test,not-franks,wrong password,\r\n"   // 4
                              "sip:nobody@sip.test,whatever,unknown,\r\n"           // 5
                              "sip:carol@sip.test,carol-secret,disabled,\r\n"       // 6
                              "not an aor,x,bad aor,\r\n"                           // 7
                              "sip:alice@sip.test,other-secret,duplicate,\r\n"      // 8
                              "sip:bob@sip.test,,no password,\r\n"                  // 9
                              "sip:bob@sip.test,bob-secret,too,many,fields\r\n"     // 10
                              "sip:bob@sip.test,bob-secret,bad transport,sctp\r\n"  // 11
                              "sip:dave@sip.test,dave-secret,busy,\r\n");           // 12
  const auto out = dir + "/out.jsonl";
  auto r = test_support::run("PW=unused " + shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(csv) +
                             " --registrar 127.0.0.1:" + kam.get("SIP_PORT") + " --rate 0 --out " + shell_quote(out) +
                             " --summary 2>&1");
  INFO("sipprobe: " << r.out);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("registered") != std::string::npos);  // the summary table
  const std::string text = slurp(out);
  CHECK(text.find("alice-secret") == std::string::npos);
  CHECK(text.find("other-secret") == std::string::npos);
  CHECK(text.find("not-franks") == std::string::npos);
  auto lines = jsonl(text);
  const std::vector<std::pair<int, std::string>> expected = {{2, "registered"},
                                                             {3, "registered"},
                                                             {4, "auth_failed"},
                                                             {5, "not_found"},
                                                             {6, "forbidden"},
                                                             {7, "row_error"},
                                                             {8, "row_error"},
                                                             {9, "row_error"},
                                                             {10, "row_error"},
                                                             {11, "row_error"},
                                                             {12, "temporarily_unavailable"}};
  REQUIRE(lines.size() == expected.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(lines[i].dump());
    CHECK(lines[i]["row"] == expected[i].first);
    CHECK(lines[i]["code"] == expected[i].second);
  }
  CHECK(lines[1]["label"] == "good, bob");
  CHECK(lines[0]["verdict"] == "registered");
  CHECK(lines[2]["verdict"] == "failed");
  CHECK(lines[6]["detail"].get<std::string>().find("duplicate account") != std::string::npos);
  CHECK(lines[6]["label"] == "duplicate");  // a duplicate's result line still names its row
  CHECK(lines[6]["aor"] == "sip:alice@sip.test");
  CHECK(lines[7]["detail"].get<std::string>().find("missing password") != std::string::npos);
  CHECK(lines[8]["detail"].get<std::string>().find("expected 4 fields") != std::string::npos);
  CHECK(lines[9]["detail"].get<std::string>().find("unknown transport") != std::string::npos);
  CHECK(bindings(kam, "alice") == "");
  CHECK(bindings(kam, "bob") == "");

  // The same file as CSV output, and from stdin.
  auto c = test_support::run(shell_quote(SIPPROBE_BINARY) + " batch - --output csv --registrar 127.0.0.1:" + kam.get("SIP_PORT") +
                             " < " + shell_quote(csv) + " 2>/dev/null");
  CHECK(c.exit_code == 1);
  CHECK(c.out.rfind("row,label,aor,code,verdict,detail,evidence,elapsed_ms\n", 0) == 0);
  CHECK(c.out.find("\n3,\"good, bob\",sip:bob@sip.test,registered,registered,") != std::string::npos);
  CHECK(c.out.find("\n12,busy,sip:dave@sip.test,temporarily_unavailable,failed,") != std::string::npos);

  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: every row a success exits 0, usage errors exit 2") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("batch");
  const auto csv = write_file(dir, "ok.csv", "aor,password_env\nsip:alice@sip.test,ALICE_PW\nsip:bob@sip.test,BOB_PW\n");
  auto r = test_support::run("ALICE_PW=alice-secret BOB_PW=bob-secret " + shell_quote(SIPPROBE_BINARY) + " batch " +
                             shell_quote(csv) + " --query --registrar 127.0.0.1:" + kam.get("SIP_PORT") + " 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  auto lines = jsonl(r.out);
  REQUIRE(lines.size() == 2);
  // --query registers nothing: the rows say the credentials were accepted, and count as success.
  CHECK(lines[0]["code"] == "credentials_valid");
  CHECK(lines[0]["verdict"] == "credentials_valid");
  CHECK(lines[1]["code"] == "credentials_valid");
  CHECK(lines[1]["verdict"] == "credentials_valid");

  const auto no_aor = write_file(dir, "bad.csv", "user,password\nalice,x\n");
  CHECK(test_support::run(shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(no_aor) + " 2>&1").exit_code == 2);
  CHECK(test_support::run(shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(dir + "/missing.csv") + " 2>&1").exit_code == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: --rate 20 over 20 rows takes about one second") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("batch");
  std::string text = "aor,password\n";
  for (int i = 0; i < 20; ++i) text += i % 2 ? "sip:alice@sip.test,alice-secret\n" : "sip:bob@sip.test,bob-secret\n";
  const auto csv = write_file(dir, "rate.csv", text);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = test_support::run(shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(csv) +
                             " --rate 20 --registrar 127.0.0.1:" + kam.get("SIP_PORT") + " 2>&1");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(jsonl(r.out).size() == 20);
  // 20 starts 50 ms apart (±10 % jitter, evened out over the run) span 0.95 s: within
  // 10 % of that, plus up to 0.15 s for starting the process and the last registration
  // (~1 ms on loopback) on a loaded machine.
  CHECK(s >= 0.95 * 0.9);
  CHECK(s <= 0.95 * 1.1 + 0.15);
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: SIGINT finishes the rows in flight, writes each once, leaves no binding") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("batch");
  std::string text = "aor,password\n";
  for (int i = 0; i < 40; ++i) text += i % 2 ? "sip:alice@sip.test,alice-secret\n" : "sip:bob@sip.test,bob-secret\n";
  const auto csv = write_file(dir, "slow.csv", text);
  const auto out = dir + "/out.jsonl";
  auto r = test_support::run(shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(csv) +
                             " --rate 4 --registrar 127.0.0.1:" + kam.get("SIP_PORT") + " --out " + shell_quote(out) +
                             " 2>/dev/null & pid=$!; sleep 1.1; kill -INT $pid; wait $pid; echo rc=$?");
  INFO(r.out);
  CHECK(r.out == "rc=1\n");
  const std::string written = slurp(out);
  INFO(written);
  REQUIRE_FALSE(written.empty());
  CHECK(written.back() == '\n');
  auto lines = jsonl(written);
  CHECK(lines.size() >= 3);
  CHECK(lines.size() < 40);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i]["row"] == static_cast<int>(i) + 2);
    CHECK(lines[i]["code"] == "registered");
  }
  CHECK(bindings(kam, "alice") == "");
  CHECK(bindings(kam, "bob") == "");
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: rows share one lookup and one TCP or TLS connection per registrar") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("batch");
  std::string text = "aor,password\n";
  for (int i = 0; i < 30; ++i) text += i % 2 ? "sip:alice@sip.test,alice-secret\n" : "sip:bob@sip.test,bob-secret\n";
  const auto csv = write_file(dir, "tcp.csv", text);
  auto r = run_batch(kam, csv, "--rate 0 --concurrency 30 --transport tcp --summary");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("registered                   30") != std::string::npos);
  // 30 registrations in flight at once, and yet one RFC 3263 answer and one connection.
  CHECK(r.out.find("shared: 1 RFC 3263 lookups, 1 connections/sockets") != std::string::npos);

  // TLS: one handshake carries every row's transactions.
  auto t = test_support::run(shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(csv) +
                             " --rate 0 --concurrency 30 --transport tls --summary --ca-file " + shell_quote(kam.get("CA_FILE")) +
                             " --registrar 127.0.0.1:" + kam.get("TLS_PORT") + " 2>&1");
  INFO(t.out);
  CHECK(t.exit_code == 0);
  CHECK(t.out.find("registered                   30") != std::string::npos);
  CHECK(t.out.find("shared: 1 RFC 3263 lookups, 1 connections/sockets") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: a fixed --bind port carries every row over one UDP socket") {
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("batch");
  const auto csv = write_file(dir, "bind.csv",
                              "aor,password\nsip:alice@sip.test,alice-secret\nsip:bob@sip.test,bob-secret\n"
                              "sip:alice@sip.test,alice-secret\nsip:bob@sip.test,bob-secret\n");
  const int port = test_support::closed_port(SOCK_DGRAM);
  auto r = run_batch(kam, csv, "--rate 0 --concurrency 4 --transport udp --bind 127.0.0.1:" + std::to_string(port));
  INFO(r.out);
  CHECK(r.exit_code == 0);
  auto lines = jsonl(r.out);
  REQUIRE(lines.size() == 4);
  for (const auto& l : lines) CHECK(l["code"] == "registered");
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: each row goes where its own AOR or registrar column says, row after row") {
  // The scheduler remembers the last row's RFC 3263 request for the next row that asks the
  // same: rows alternating between the lab and a closed port must each reach their own.
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("batch");
  const std::string lab = "127.0.0.1:" + kam.get("SIP_PORT");
  const std::string closed = "127.0.0.1:" + std::to_string(test_support::closed_port(SOCK_DGRAM));
  // No --registrar: the AOR's host and port are the target.
  const auto by_aor = write_file(dir, "aor.csv",
                                 "aor,password\nsip:alice@" + lab + ",alice-secret\nsip:bob@" + closed +
                                     ",bob-secret\nsip:dave@" + lab + ",dave-secret\nsip:frank@" + closed + ",x\n");
  auto r = test_support::run(shell_quote(SIPPROBE_BINARY) + " batch " + shell_quote(by_aor) +
                             " --rate 0 --concurrency 1 --transport udp --timeout 2 2>&1");
  INFO(r.out);
  auto lines = jsonl(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]["code"] == "registered");
  CHECK(lines[1]["code"] == "port_unreachable");
  CHECK(lines[2]["code"] == "temporarily_unavailable");
  CHECK(lines[3]["code"] == "port_unreachable");
  // --registrar for every row but those whose registrar column names another.
  const auto by_column = write_file(dir, "column.csv",
                                    "aor,password,registrar\nsip:alice@sip.test,alice-secret,\n"
                                    "sip:bob@sip.test,bob-secret," +
                                        closed + "\nsip:dave@sip.test,dave-secret,\n");
  r = run_batch(kam, by_column, "--rate 0 --concurrency 1 --transport udp --timeout 2");
  INFO(r.out);
  lines = jsonl(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["code"] == "registered");
  CHECK(lines[1]["code"] == "port_unreachable");
  CHECK(lines[2]["code"] == "temporarily_unavailable");
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: a slow pipe does not hold back the registrations in flight") {
  lab_service kam("kamailio");
  // The second row comes 2 s after the first: the first must finish meanwhile, not wait.
  auto r = test_support::run(
      "(printf 'aor,password\\nsip:alice@sip.test,alice-secret\\n'; sleep 2; "
      "printf 'sip:bob@sip.test,bob-secret\\n') | " +
      shell_quote(SIPPROBE_BINARY) + " batch - --rate 0 --registrar 127.0.0.1:" + kam.get("SIP_PORT") + " 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  auto lines = jsonl(r.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["code"] == "registered");
  CHECK(lines[1]["code"] == "registered");
  CHECK(lines[0]["elapsed_ms"].get<double>() < 1000);
  CHECK(lines[1]["row"] == 3);
}

TEST_CASE("batch: broken rows at the start, in the middle and at the end: one result per row") {
  // A quote opened in row 2 and never closed used to swallow the rest of the file: 10
  // data rows gave one result. Each broken row is a row_error and the lines after it are
  // rows again; a row without its trailing label is an ordinary row.
  lab_service kam("kamailio");
  const std::string dir = test_support::make_temp_dir("batch");
  const std::vector<std::string> rows = {
      "aor,password,label",
      "sip:alice@sip.test,\"alice-secret,start",   // 2: a quote that never closes
      "sip:bob@sip.test,bob-secret,b",             // 3
      "sip:alice@sip.test,alice-secret,a",         // 4
      "sip:bob@sip.test,bob-secret",               // 5: no label
      "sip:carol@sip.test,carol\"-secret,middle",  // 6: a quote inside a field
      "sip:dave@sip.test,\"dave-secret,mid",       // 7: another quote that never closes
      "sip:alice@sip.test,alice-secret,a2",        // 8
      "sip:bob@sip.test,bob-secret,b2",            // 9
      "sip:alice@sip.test,alice-secret,a3",        // 10
      "sip:bob@sip.test,\"bob-secret,end",         // 11: the last line opens a quote
  };
  const std::vector<std::pair<int, std::string>> expected = {
      {2, "row_error"}, {3, "registered"}, {4, "registered"}, {5, "registered"},  {6, "row_error"},
      {7, "row_error"}, {8, "registered"}, {9, "registered"}, {10, "registered"}, {11, "row_error"}};
  for (const std::string eol : {"\n", "\r\n", "\r"}) {
    CAPTURE(eol.size());
    std::string text;
    for (const auto& r : rows) text += r + eol;
    const auto csv = write_file(dir, "broken.csv", text);
    auto r = run_batch(kam, csv, "--rate 0 --concurrency 4 --transport udp");
    INFO(r.out);
    CHECK(r.exit_code == 1);
    auto lines = jsonl(r.out);
    REQUIRE(lines.size() == expected.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      CAPTURE(lines[i].dump());
      CHECK(lines[i]["row"] == expected[i].first);
      CHECK(lines[i]["code"] == expected[i].second);
    }
    CHECK(lines[0]["detail"].get<std::string>().find("unbalanced quote: a quoted field opened in this row") == 0);
    CHECK(lines[3]["label"] == "");
    CHECK(r.out.find("secret") == std::string::npos);  // no broken row echoes its password
  }
  CHECK(bindings(kam, "alice") == "");
  CHECK(bindings(kam, "bob") == "");
  std::filesystem::remove_all(dir);
}
