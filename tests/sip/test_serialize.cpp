#include <ostream>
#include <doctest/doctest.h>

#include "sip/error.hpp"
#include "sip/random.hpp"
#include "sip/serialize.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

sip::request_spec sample_register() {
  sip::request_spec s;
  s.request_uri = "sip:example.com";
  s.to_uri = "sip:alice@example.com";
  s.from_uri = "sip:alice@example.com";
  s.from_tag = "a1b2";
  s.call_id = "c0ffee";
  s.cseq = 7;
  s.via.host = "192.0.2.10";
  s.via.port = 5062;
  s.via.branch = "z9hG4bK1234";
  s.contact = "sip:alice@192.0.2.10:5062";
  s.expires = 3600;
  s.user_agent = "test-agent";
  return s;
}

// A source that yields 0, 1, 2, … so identifiers are predictable.
sip::random_source counting_source() {
  auto next = std::make_shared<unsigned char>(0);
  return [next](unsigned char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) p[i] = (*next)++;
    return true;
  };
}

}  // namespace

TEST_CASE("build REGISTER: exact wire form") {
  sip::request req;
  REQUIRE_FALSE(sip::build_request(sample_register(), req));
  std::string wire;
  REQUIRE_FALSE(sip::serialize(req, wire));
  CHECK(wire ==
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bK1234\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@example.com>;tag=a1b2\r\n"
        "To: <sip:alice@example.com>\r\n"
        "Call-ID: c0ffee\r\n"
        "CSeq: 7 REGISTER\r\n"
        "Contact: <sip:alice@192.0.2.10:5062>\r\n"
        "Expires: 3600\r\n"
        "User-Agent: test-agent\r\n"
        "Content-Length: 0\r\n"
        "\r\n");
}

TEST_CASE("build: optional parts") {
  auto s = sample_register();
  s.contact.reset();  // binding query (RFC 3261 §10.2.3)
  s.expires.reset();
  s.user_agent.clear();
  s.via.rport = false;
  s.via.transport = "TLS";
  s.via.host = "2001:db8::1";
  s.via.port = 0;
  s.from_display = "Alice \"A\" Smith";
  s.authorization = sip::header_field{"Authorization", "Digest username=\"alice\""};
  s.extra.push_back({"X-Test", "1"});
  sip::request req;
  REQUIRE_FALSE(sip::build_request(s, req));
  std::string wire;
  REQUIRE_FALSE(sip::serialize(req, wire));
  CHECK(wire.find("Via: SIP/2.0/TLS [2001:db8::1];branch=z9hG4bK1234\r\n") != std::string::npos);
  CHECK(wire.find("Contact:") == std::string::npos);
  CHECK(wire.find("Expires:") == std::string::npos);
  CHECK(wire.find("From: \"Alice \\\"A\\\" Smith\" <sip:alice@example.com>;tag=a1b2\r\n") != std::string::npos);
  CHECK(wire.find("User-Agent: sipprobe/" SIPPROBE_VERSION "\r\n") != std::string::npos);
  CHECK(wire.find("Authorization: Digest username=\"alice\"\r\n") != std::string::npos);
  CHECK(wire.find("X-Test: 1\r\nContent-Length: 0\r\n\r\n") != std::string::npos);
}

TEST_CASE("build: Contact * for remove-all") {
  auto s = sample_register();
  s.contact = "*";
  s.expires = 0;
  sip::request req;
  REQUIRE_FALSE(sip::build_request(s, req));
  std::string wire;
  REQUIRE_FALSE(sip::serialize(req, wire));
  CHECK(wire.find("Contact: *\r\nExpires: 0\r\n") != std::string::npos);
}

TEST_CASE("build: body sets Content-Length") {
  sip::request req{"OPTIONS", "sip:example.com", {{"Content-Type", "text/plain"}}, "hello"};
  std::string wire;
  REQUIRE_FALSE(sip::serialize(req, wire));
  CHECK(wire == "OPTIONS sip:example.com SIP/2.0\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
}

TEST_CASE("build: hostile inputs are rejected, never written") {
  struct row {
    const char* what;
    void (*mutate)(sip::request_spec&);
  };
  const row rows[] = {
      {"CRLF in extra header value",
       [](sip::request_spec& s) {
         s.extra.push_back({"X-A", "1\r\nVia: evil"});
       }},
      {"LF in extra header value",
       [](sip::request_spec& s) {
         s.extra.push_back({"X-A", "1\nB: 2"});
       }},
      {"space in header name",
       [](sip::request_spec& s) {
         s.extra.push_back({"X A", "1"});
       }},
      {"colon in header name",
       [](sip::request_spec& s) {
         s.extra.push_back({"X:A", "1"});
       }},
      {"empty header name",
       [](sip::request_spec& s) {
         s.extra.push_back({"", "1"});
       }},
      {"Content-Length override",
       [](sip::request_spec& s) {
         s.extra.push_back({"content-length", "5"});
       }},
      {"compact Content-Length",
       [](sip::request_spec& s) {
         s.extra.push_back({"l", "5"});
       }},
      {"NUL in display name", [](sip::request_spec& s) { s.from_display = std::string("a\0b", 3); }},
      {"CR in display name", [](sip::request_spec& s) { s.from_display = "a\rb"; }},
      {"branch without cookie", [](sip::request_spec& s) { s.via.branch = "1234"; }},
      {"empty branch", [](sip::request_spec& s) { s.via.branch.clear(); }},
      {"> in To URI", [](sip::request_spec& s) { s.to_uri = "sip:a@b>;x"; }},
      {"space in Request-URI", [](sip::request_spec& s) { s.request_uri = "sip:a b"; }},
      {"empty Request-URI", [](sip::request_spec& s) { s.request_uri.clear(); }},
      {"empty Call-ID", [](sip::request_spec& s) { s.call_id.clear(); }},
      {"space in Call-ID", [](sip::request_spec& s) { s.call_id = "a b"; }},
      {"bad tag", [](sip::request_spec& s) { s.from_tag = "a;b"; }},
      {"bad method", [](sip::request_spec& s) { s.method = "REG ISTER"; }},
      {"CRLF in Contact", [](sip::request_spec& s) { s.contact = "sip:a@b\r\nX: y"; }},
      {"CRLF in authorization",
       [](sip::request_spec& s) {
         s.authorization = sip::header_field{"Authorization", "Digest\r\nX: y"};
       }},
      {"empty Via host", [](sip::request_spec& s) { s.via.host.clear(); }},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    auto s = sample_register();
    r.mutate(s);
    sip::request req;
    CHECK(sip::build_request(s, req) == sip::errc::bad_builder_input);
  }
}

TEST_CASE("id_factory: formats and freshness") {
  sip::id_factory ids(counting_source());
  auto branch = ids.branch();
  CHECK(branch == "z9hG4bK000102030405060708090a0b");
  CHECK(ids.tag() == "0c0d0e0f10111213");
  CHECK(ids.call_id().size() == 32);
  CHECK(ids.cnonce().size() == 24);
  CHECK_FALSE(ids.error());
}

TEST_CASE("id_factory: a +sip.instance is a version 4 UUID URN (RFC 4122 §4.4)") {
  sip::id_factory ids(counting_source());
  CHECK(ids.instance() == "urn:uuid:00010203-0405-4607-8809-0a0b0c0d0e0f");
  sip::id_factory ones([](unsigned char* data, std::size_t size) {
    std::fill(data, data + size, 0xff);
    return true;
  });
  CHECK(ones.instance() == "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff");
  sip::id_factory failing([](unsigned char*, std::size_t) { return false; });
  CHECK(failing.instance().empty());
}

TEST_CASE("id_factory: OpenSSL identifiers do not repeat") {
  sip::id_factory ids(sip::openssl_random());
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(ids.branch());
  CHECK(seen.size() == 1000);
  CHECK_FALSE(ids.error());
}

// ctest runs each test case in a process of its own, so the DRBG is made here; run
// together, the cases before this one make it through openssl_random() too.
TEST_CASE("openssl_random: RAND_bytes runs Hash_DRBG over SHA-256, cheaper to start") {
  auto source = sip::openssl_random();
  unsigned char byte = 0;
  REQUIRE(source(&byte, 1));
  for (EVP_RAND_CTX* drbg : {RAND_get0_primary(nullptr), RAND_get0_public(nullptr), RAND_get0_private(nullptr)}) {
    REQUIRE(drbg != nullptr);
    CHECK(std::string(EVP_RAND_get0_name(EVP_RAND_CTX_get0_rand(drbg))) == "HASH-DRBG");
    CHECK(EVP_RAND_get_strength(drbg) == 256);
  }
}

TEST_CASE("id_factory: a failing generator yields no identifier and an error") {
  sip::id_factory ids([](unsigned char*, std::size_t) { return false; });
  CHECK(ids.branch().empty());
  CHECK(ids.error() == sip::errc::random_failure);
}

TEST_CASE("build_wire: the same bytes as build_request + serialize, and the same refusals") {
  std::vector<sip::request_spec> specs;
  specs.push_back(sample_register());
  auto s = sample_register();
  s.from_display = "Alice \"A\" \\ B";
  s.via.host = "2001:db8::7";
  s.via.port = 0;
  s.via.rport = false;
  s.via.transport = "TLS";
  s.contact = "*";
  s.expires = 0;
  s.cseq = 4294967295u;
  s.user_agent.clear();
  s.authorization = sip::header_field{"Proxy-Authorization", "Digest username=\"a\""};
  s.extra = {{"X-One", "1"}, {"Supported", "path, outbound"}};
  specs.push_back(s);
  s = sample_register();
  s.contact_params = ";+sip.instance=\"<urn:uuid:00000000-0000-4000-8000-000000000001>\"";
  specs.push_back(s);
  s = sample_register();
  s.method = "OPTIONS";
  s.contact.reset();
  s.expires.reset();
  s.via.host = "[2001:db8::8]";
  specs.push_back(s);
  for (const auto& spec : specs) {
    CAPTURE(spec.method);
    sip::request a;
    std::string via_two, via_one;
    REQUIRE_FALSE(sip::build_request(spec, a));
    REQUIRE_FALSE(sip::serialize(a, via_two));
    REQUIRE_FALSE(sip::build_wire(spec, via_one));
    CHECK(via_one == via_two);
  }

  auto check_refused = [](const sip::request_spec& bad) {
    std::string wire = "untouched";
    sip::request req;
    CHECK(sip::build_request(bad, req) == sip::errc::bad_builder_input);
    CHECK(sip::build_wire(bad, wire) == sip::errc::bad_builder_input);
    CHECK(wire == "untouched");
  };
  auto bad = sample_register();
  bad.extra.push_back({"X-Bad", "line\r\nbreak"});
  check_refused(bad);
  bad = sample_register();
  bad.extra.push_back({"Content-Length", "5"});  // ours to write
  check_refused(bad);
  bad = sample_register();
  bad.extra.push_back({"l", "5"});  // its compact form
  check_refused(bad);
  bad = sample_register();
  bad.authorization = sip::header_field{"Authorization", "Digest\nX: y"};
  check_refused(bad);
  bad = sample_register();
  bad.user_agent = "agent\r\nX-Injected: 1";
  check_refused(bad);
  bad = sample_register();
  bad.method = "REG ISTER";
  check_refused(bad);
  bad = sample_register();
  bad.request_uri = "sip:example.com>";
  check_refused(bad);
  // Contact header parameters: only after a real Contact, each ";…", on one line.
  for (std::string params : {";+sip.instance=\"<urn:uuid:1>\"\r\nX: y", "+sip.instance=1", "; q=1"}) {
    bad = sample_register();
    bad.contact_params = params;
    check_refused(bad);
  }
  bad = sample_register();
  bad.contact = "*";
  bad.contact_params = ";q=1";
  check_refused(bad);
}

TEST_CASE("build_wire: Contact header parameters follow the URI's closing bracket") {
  auto s = sample_register();
  s.contact_params = ";+sip.instance=\"<urn:uuid:1>\";reg-id=1";
  std::string wire;
  REQUIRE_FALSE(sip::build_wire(s, wire));
  CHECK(wire.find("Contact: <" + *s.contact + ">;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n") != std::string::npos);
}
