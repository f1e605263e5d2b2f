// The pure decisions of a registration, response by response (RFC 3261 §10.2, RFC 7616).
#include <ostream>
#include <doctest/doctest.h>

#include "probe/registration/decide.hpp"
#include "sip/parse.hpp"

#include <string>

using probe::diagnosis_code;
using probe::registration::next_step;

namespace {

std::string response(const std::string& status_line, const std::string& headers = "") {
  return "SIP/2.0 " + status_line +
         "\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1;rport=5062;received=127.0.0.1\r\n"
         "From: <sip:alice@sip.test>;tag=1\r\nTo: <sip:alice@sip.test>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n" +
         headers + "Content-Length: 0\r\n\r\n";
}

probe::registration::decision decide(const probe::registration::exchange_state& st, const std::string& wire) {
  sip::message_view m;
  auto r = sip::parse(wire, m, sip::framing::datagram);
  REQUIRE_FALSE(r.ec);
  return probe::registration::decide(st, m);
}

const std::string md5 = "WWW-Authenticate: Digest realm=\"sip.test\", nonce=\"n1\", qop=\"auth\"\r\n";

}  // namespace

TEST_CASE("register logic: a first 401 is answered, a second one is the 401 loop") {
  probe::registration::exchange_state st;
  auto d = decide(st, response("401 Unauthorized", md5));
  CHECK(d.step == next_step::answer_challenge);
  REQUIRE(d.challenge);
  CHECK(d.challenge->realm == "sip.test");
  CHECK_FALSE(d.proxy);
  st.sent_authorization = true;
  d = decide(st, response("401 Unauthorized", md5));
  CHECK(d.step == next_step::finished);
  CHECK(d.code == diagnosis_code::auth_failed);
  CHECK(d.evidence[0].find("again after Authorization") != std::string::npos);
}

TEST_CASE("register logic: 407 goes to the proxy slot") {
  probe::registration::exchange_state st;
  auto d = decide(st,
                  response("407 Proxy Authentication Required", "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"p1\"\r\n"));
  CHECK(d.step == next_step::answer_challenge);
  CHECK(d.proxy);
  st.sent_proxy_authorization = true;
  d = decide(st, response("407 Proxy Authentication Required", "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"p2\"\r\n"));
  CHECK(d.code == diagnosis_code::proxy_auth_failed);
}

TEST_CASE("register logic: stale=true is retried once with the new nonce") {
  probe::registration::exchange_state st;
  st.sent_authorization = true;
  const std::string stale = "WWW-Authenticate: Digest realm=\"sip.test\", nonce=\"n2\", stale=true\r\n";
  auto d = decide(st, response("401 Unauthorized", stale));
  CHECK(d.step == next_step::retry_stale);
  CHECK(d.challenge->nonce == "n2");
  st.stale_retried = true;
  d = decide(st, response("401 Unauthorized", stale));
  CHECK(d.code == diagnosis_code::auth_failed);
}

TEST_CASE("register logic: challenges that cannot be answered") {
  probe::registration::exchange_state st;
  auto d = decide(st, response("401 Unauthorized", "WWW-Authenticate: Basic realm=\"x\"\r\n"));
  CHECK(d.code == diagnosis_code::auth_unsupported);
  d = decide(st, response("401 Unauthorized"));
  CHECK(d.code == diagnosis_code::malformed_response);
  d = decide(st, response("401 Unauthorized", "WWW-Authenticate: Digest realm=\"x\"\r\n"));  // no nonce
  CHECK(d.code == diagnosis_code::malformed_response);
}

TEST_CASE("register logic: 423 and Min-Expires") {
  probe::registration::exchange_state st;
  st.expires = 30;
  auto d = decide(st, response("423 Interval Too Brief", "Min-Expires: 300\r\n"));
  CHECK(d.step == next_step::retry_expires);
  CHECK(d.new_expires == 300);
  st.expires_retried = true;
  st.expires = 300;
  d = decide(st, response("423 Interval Too Brief", "Min-Expires: 600\r\n"));
  CHECK(d.code == diagnosis_code::interval_too_brief);
  probe::registration::exchange_state fresh;
  d = decide(fresh, response("423 Interval Too Brief"));
  CHECK(d.code == diagnosis_code::interval_too_brief);
  CHECK(d.evidence[0].find("without a usable Min-Expires") != std::string::npos);
  // Min-Expires not above what was asked: retrying cannot help.
  fresh.expires = 3600;
  d = decide(fresh, response("423 Interval Too Brief", "Min-Expires: 60\r\n"));
  CHECK(d.code == diagnosis_code::interval_too_brief);
}

TEST_CASE("register logic: final responses carry their evidence") {
  probe::registration::exchange_state st;
  auto d = decide(st, response("503 Service Unavailable", "Retry-After: 120\r\n"));
  CHECK(d.code == diagnosis_code::service_unavailable);
  CHECK(d.evidence.at(1) == "Retry-After: 120 s");
  d = decide(st, response("302 Moved Temporarily", "Contact: <sip:other.test:5070>\r\n"));
  CHECK(d.code == diagnosis_code::redirected);
  CHECK(d.evidence.at(1) == "redirected to sip:other.test:5070");
  d = decide(st, response("200 OK"));
  CHECK(d.code == diagnosis_code::registered);
  d = decide(st, response("404 Not Found"));
  CHECK(d.code == diagnosis_code::not_found);
}

TEST_CASE("register logic: bindings of a 200 OK, ours found by URI") {
  sip::message_view m;
  const std::string ok = response("200 OK",
                                  "Contact: <sip:alice@10.0.0.5:5060>;expires=120, <sip:alice@127.0.0.1:5062>;expires=1800\r\n");
  REQUIRE_FALSE(sip::parse(ok, m, sip::framing::datagram).ec);
  auto b = probe::registration::read_bindings(m, "sip:alice@127.0.0.1:5062");
  REQUIRE(b.bindings.size() == 2);
  CHECK_FALSE(b.bindings[0].ours);
  CHECK(b.bindings[1].ours);
  CHECK(b.ours_listed);
  CHECK(b.granted == 1800);
  CHECK_FALSE(probe::registration::read_bindings(m, "sip:alice@127.0.0.1:5063").ours_listed);
}

TEST_CASE("register logic: the pub-gruu of our Contact (RFC 5627 §5.2), unquoted") {
  sip::message_view m;
  const std::string ok = response(
      "200 OK",
      "Contact: <sip:alice@10.0.0.5:5060>;expires=120;pub-gruu=\"sip:alice@example.com;gr=urn:uuid:1\", "
      "<sip:alice@127.0.0.1:5062>;expires=600;+sip.instance=\"<urn:uuid:2>\";pub-gruu=\"sip:alice@example.com;gr=urn:uuid:2\";"
      "temp-gruu=\"sip:tgruu.x@example.com;gr\"\r\n");
  REQUIRE_FALSE(sip::parse(ok, m, sip::framing::datagram).ec);
  auto b = probe::registration::read_bindings(m, "sip:alice@127.0.0.1:5062");
  REQUIRE(b.bindings.size() == 2);
  CHECK(b.bindings[0].gruu == "sip:alice@example.com;gr=urn:uuid:1");
  CHECK(b.our_gruu == "sip:alice@example.com;gr=urn:uuid:2");
  // None given: none read (the run then asks the AOR, one binding at a time). The message
  // views the text: the text must outlive every use of the view.
  const std::string plain = response("200 OK", "Contact: <sip:alice@127.0.0.1:5062>;expires=600\r\n");
  REQUIRE_FALSE(sip::parse(plain, m, sip::framing::datagram).ec);
  CHECK(probe::registration::read_bindings(m, "sip:alice@127.0.0.1:5062").our_gruu.empty());
}

TEST_CASE("register logic: same_contact compares the parts a registrar keeps") {
  CHECK(probe::registration::same_contact("sip:a@h.test", "sip:a@H.TEST:5060"));
  CHECK(probe::registration::same_contact("sip:a@127.0.0.1:5062;transport=tcp", "sip:a@127.0.0.1:5062"));
  CHECK_FALSE(probe::registration::same_contact("sip:a@h.test", "sip:b@h.test"));
  CHECK_FALSE(probe::registration::same_contact("sips:a@h.test", "sip:a@h.test"));
  CHECK_FALSE(probe::registration::same_contact("sip:a@h.test:5061", "sip:a@h.test"));
  CHECK_FALSE(probe::registration::same_contact("garbage", "garbage"));
}

TEST_CASE("register logic: what a 2xx means depends on what the request asked for") {
  // RFC 3261 §10.2.2: Expires 0 removes; §10.2.3: no Contact only lists the bindings.
  struct row {
    std::uint32_t expires;
    bool query;
    diagnosis_code code;
  };
  const row rows[] = {
      {3600, false, diagnosis_code::registered},
      {1, false, diagnosis_code::registered},  // the smallest expiry that still registers
      {0, false, diagnosis_code::unregistered},
      {3600, true, diagnosis_code::credentials_valid},
      {0, true, diagnosis_code::credentials_valid},  // a query sends no Expires at all
  };
  for (const auto& r : rows) {
    CAPTURE(r.expires);
    CAPTURE(r.query);
    probe::registration::exchange_state st;
    st.expires = r.expires;
    st.query = r.query;
    st.sent_authorization = true;
    auto d = decide(st, response("200 OK"));
    CHECK(d.step == next_step::finished);
    CHECK(d.code == r.code);
    CHECK(d.evidence.at(0) == "200 OK");
  }
}

TEST_CASE("register logic: a 423 to a removal is not retried with Min-Expires") {
  // Min-Expires applies to a non-zero expiry (RFC 3261 §10.3 step 7): retrying a removal
  // with it would register the binding the user asked to remove.
  probe::registration::exchange_state st;
  st.expires = 0;
  auto d = decide(st, response("423 Interval Too Brief", "Min-Expires: 60\r\n"));
  CHECK(d.step == next_step::finished);
  CHECK(d.code == diagnosis_code::interval_too_brief);
  CHECK(d.evidence.at(0).find("removal") != std::string::npos);
}

TEST_CASE("register logic: Min-Expires at the exact edge of what was asked") {
  // Equal: the registrar refuses what it says it accepts; retrying cannot help. One
  // above: the retry asks for exactly Min-Expires.
  probe::registration::exchange_state st;
  st.expires = 300;
  auto equal = decide(st, response("423 Interval Too Brief", "Min-Expires: 300\r\n"));
  CHECK(equal.step == next_step::finished);
  CHECK(equal.code == diagnosis_code::interval_too_brief);
  CHECK(equal.evidence.at(0) == "423 with Min-Expires 300 although 300 s was asked for");
  auto above = decide(st, response("423 Interval Too Brief", "Min-Expires: 301\r\n"));
  CHECK(above.step == next_step::retry_expires);
  CHECK(above.new_expires == 301);
  auto below = decide(st, response("423 Interval Too Brief", "Min-Expires: 299\r\n"));
  CHECK(below.step == next_step::finished);
  CHECK(below.code == diagnosis_code::interval_too_brief);
}
