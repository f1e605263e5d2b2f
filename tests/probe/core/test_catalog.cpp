#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/catalog.hpp"

#include <set>
#include <string>
#include <vector>

using probe::diagnosis_code;

TEST_CASE("catalog: every code is unique, described, and round-trips") {
  std::set<std::string_view> codes;
  for (auto c : probe::all_diagnoses()) {
    const auto& e = probe::describe(c);
    CAPTURE(e.code);
    CHECK(codes.insert(e.code).second);
    CHECK_FALSE(e.title.empty());
    CHECK(e.explanation.size() > 20);
    CHECK(probe::diagnosis_from_string(e.code) == c);
    // Every failure tells the user what to do.
    CHECK_FALSE(e.fixes.empty());
  }
  CHECK(codes.size() == 25);
  for (auto c : probe::all_findings()) {
    const auto& e = probe::describe(c);
    CAPTURE(e.code);
    CHECK(codes.insert(e.code).second);
    CHECK(probe::finding_from_string(e.code) == c);
  }
  CHECK_FALSE(probe::diagnosis_from_string("no_such_code").has_value());
}

TEST_CASE("catalog: stable code strings") {
  // These strings are a public contract (JSON, docs): renaming one breaks users.
  CHECK(probe::describe(diagnosis_code::auth_failed).code == "auth_failed");
  CHECK(probe::describe(diagnosis_code::interval_too_brief).code == "interval_too_brief");
  CHECK(probe::describe(diagnosis_code::malformed_response).code == "malformed_response");
  CHECK(probe::describe(probe::finding_code::nat_private_contact).code == "nat_private_contact");
  CHECK(probe::describe(probe::finding_code::auth_user_looks_like_extension).code == "auth_user_looks_like_extension");
}

TEST_CASE("catalog: final responses map to diagnoses") {
  struct row {
    int status;
    bool auth, proxy_auth, stale;
    diagnosis_code expected;
  };
  const row rows[] = {
      {200, true, false, false, diagnosis_code::registered},
      {202, false, false, false, diagnosis_code::registered},
      {401, true, false, false, diagnosis_code::auth_failed},          // the 401 loop
      {401, false, false, false, diagnosis_code::auth_not_attempted},  // challenge never answered
      {401, true, false, true, diagnosis_code::unexpected_response},   // stale, not wrong password
      {407, false, true, false, diagnosis_code::proxy_auth_failed},
      {407, true, false, false, diagnosis_code::auth_not_attempted},  // proxy never answered
      {403, true, false, false, diagnosis_code::forbidden},
      {404, false, false, false, diagnosis_code::not_found},
      {423, false, false, false, diagnosis_code::interval_too_brief},
      {480, true, false, false, diagnosis_code::temporarily_unavailable},
      {503, false, false, false, diagnosis_code::service_unavailable},
      {500, false, false, false, diagnosis_code::server_error},
      {504, false, false, false, diagnosis_code::server_error},
      {599, false, false, false, diagnosis_code::server_error},
      {301, false, false, false, diagnosis_code::redirected},
      {302, false, false, false, diagnosis_code::redirected},
      {400, false, false, false, diagnosis_code::unexpected_response},
      {488, false, false, false, diagnosis_code::unexpected_response},
      {603, false, false, false, diagnosis_code::unexpected_response},
      {0, false, false, false, diagnosis_code::no_response},
  };
  for (const auto& r : rows) {
    CAPTURE(r.status);
    probe::response_outcome o;
    o.status = r.status;
    o.sent_authorization = r.auth;
    o.sent_proxy_authorization = r.proxy_auth;
    o.stale = r.stale;
    CHECK(probe::describe(probe::classify_response(o)).code == probe::describe(r.expected).code);
  }
}

TEST_CASE("catalog: network-level reasoning") {
  struct row {
    const char* what;
    probe::network_outcome n;
    diagnosis_code expected;
  };
  const row rows[] = {
      {"dns failed", {false, false, false, false, false}, diagnosis_code::dns_failure},
      {"dns failed wins over everything", {false, true, true, true, true}, diagnosis_code::dns_failure},
      {"tls failed", {true, true, false, false, false}, diagnosis_code::tls_failure},
      {"garbage came back", {true, false, true, false, false}, diagnosis_code::malformed_response},
      {"refused, other transport answers", {true, false, false, true, true}, diagnosis_code::wrong_transport},
      {"silent, other transport answers", {true, false, false, false, true}, diagnosis_code::wrong_transport},
      {"refused", {true, false, false, true, false}, diagnosis_code::port_unreachable},
      {"silence", {true, false, false, false, false}, diagnosis_code::no_response},
      {"no route", {true, false, false, false, false, true}, diagnosis_code::network_unreachable},
      {"refused somewhere wins over no route", {true, false, false, true, false, true}, diagnosis_code::port_unreachable},
      {"another transport answering wins over no route",
       {true, false, false, false, true, true},
       diagnosis_code::wrong_transport},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    CHECK(probe::describe(probe::classify_network(r.n)).code == probe::describe(r.expected).code);
  }
}

TEST_CASE("catalog: a finding is listed once, with every detail that led to it") {
  using probe::finding_code;
  std::vector<probe::finding> fs;
  probe::add_finding(fs, {finding_code::sip_alg_suspected, "Via sent-by rewritten"});
  probe::add_finding(fs, {finding_code::expires_reduced, "asked for 3600 s, granted 600 s"});
  probe::add_finding(fs, {finding_code::sip_alg_suspected, "the 200 OK does not list the Contact"});
  probe::add_finding(fs, {finding_code::sip_alg_suspected, "Via sent-by rewritten"});  // said already
  probe::add_finding(fs, {finding_code::sip_alg_suspected, ""});
  REQUIRE(fs.size() == 2);
  CHECK(fs[0].code == finding_code::sip_alg_suspected);
  CHECK(fs[0].detail == "Via sent-by rewritten; the 200 OK does not list the Contact");
  CHECK(fs[1].code == finding_code::expires_reduced);
  CHECK(fs[1].detail == "asked for 3600 s, granted 600 s");
  std::vector<probe::finding> empty_first{{finding_code::stale_nonce, ""}};
  probe::add_finding(empty_first, {finding_code::stale_nonce, "retried with the new nonce"});
  REQUIRE(empty_first.size() == 1);
  CHECK(empty_first[0].detail == "retried with the new nonce");
}

TEST_CASE("catalog: a 2xx to a removal or a query is not a registration") {
  probe::response_outcome o;
  o.status = 200;
  o.sent_authorization = true;
  CHECK(probe::classify_response(o) == diagnosis_code::registered);
  o.removal = true;
  CHECK(probe::classify_response(o) == diagnosis_code::unregistered);
  o.removal = false;
  o.query = true;
  CHECK(probe::classify_response(o) == diagnosis_code::credentials_valid);
  o.status = 401;  // a failure stays a failure, whatever was asked
  CHECK(probe::classify_response(o) == diagnosis_code::auth_failed);
}

TEST_CASE("catalog: success codes exit 0 and name themselves as the verdict") {
  for (auto c : probe::all_diagnoses()) {
    CAPTURE(probe::describe(c).code);
    const bool success = c == diagnosis_code::registered || c == diagnosis_code::unregistered ||
                         c == diagnosis_code::credentials_valid;
    CHECK(probe::is_success(c) == success);
    CHECK(probe::exit_status_for(c) == (success ? 0 : 1));
    CHECK(probe::verdict_for(c) == (success ? probe::describe(c).code : std::string_view("failed")));
    CHECK_FALSE(probe::describe(c).trigger.empty());
  }
  for (auto c : probe::all_findings()) CHECK_FALSE(probe::describe(c).trigger.empty());
}
