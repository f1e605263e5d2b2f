// Tests for sip/digest.hpp, parsing side: challenges, credentials, malformed input with
// the expected error, and the choice of challenge.
#include "sip/digest.hpp"

#include <ostream>
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using namespace std::string_literals;
using sip::digest_algorithm;
using sip::digest_errc;
using sip::digest_qop;

namespace {

std::vector<sip::digest_challenge> parsed(std::string_view value) {
  std::vector<sip::digest_challenge> out;
  auto ec = sip::parse_challenges(value, out);
  CHECK_MESSAGE(!ec, ec.message());
  return out;
}

}  // namespace

TEST_CASE("digest: challenge parsing") {
  SUBCASE("several challenges in one header") {
    auto cs = parsed(
        "Digest realm=\"a\", nonce=\"x\", algorithm=SHA-256, Digest realm=\"a\", nonce=\"y\", "
        "algorithm=MD5");
    REQUIRE(cs.size() == 2);
    CHECK(cs[0].nonce == "x");
    CHECK(cs[0].algorithm == digest_algorithm::sha256);
    CHECK(cs[0].algorithm_text == "SHA-256");
    CHECK(cs[1].nonce == "y");
    CHECK(cs[1].algorithm == digest_algorithm::md5);
  }
  SUBCASE("quoted strings, escapes, all fields, unknown params") {
    auto cs = parsed(
        "Digest realm=\"Bob \\\"the\\\" builder, Inc.\", nonce=\"n,1\\\\\", opaque=\"\", "
        "qop=\"auth, auth-int\", stale=TRUE, domain=\"sip:a.example  sip:b.example\", "
        "charset=UTF-8, userhash=FALSE, foo=bar, x-y=\"z,w\"");
    REQUIRE(cs.size() == 1);
    const auto& c = cs[0];
    CHECK(c.is_digest());
    CHECK(c.realm == "Bob \"the\" builder, Inc.");
    CHECK(c.nonce == "n,1\\");
    REQUIRE(c.opaque.has_value());
    CHECK(c.opaque->empty());
    CHECK(c.qop == std::vector<std::string>{"auth", "auth-int"});
    CHECK(c.offers(digest_qop::auth_int));
    CHECK(c.stale);
    CHECK(c.domain == std::vector<std::string>{"sip:a.example", "sip:b.example"});
    CHECK(c.charset == "UTF-8");
    CHECK_FALSE(c.userhash);
    CHECK(c.algorithm == digest_algorithm::md5);  // absent means MD5
    CHECK(c.algorithm_text.empty());
    REQUIRE(c.other.size() == 2);
    CHECK(c.other[0].name == "foo");
    CHECK(c.other[0].value == "bar");
    CHECK(c.other[1].value == "z,w");
    CHECK(c.other[1].quoted);
  }
  SUBCASE("case-insensitive names, stale=false, unknown algorithm kept, folding") {
    auto cs = parsed("digest REALM=\"a\",\r\n\tNonce=b+/=, STALE=false, Algorithm=SHA-1\r\n");
    REQUIRE(cs.size() == 1);
    CHECK(cs[0].nonce == "b+/=");
    CHECK_FALSE(cs[0].stale);
    CHECK(cs[0].algorithm == digest_algorithm::unknown);
    CHECK(cs[0].algorithm_text == "SHA-1");
    CHECK_FALSE(cs[0].opaque.has_value());
  }
  SUBCASE("non-Digest schemes") {
    auto cs = parsed(
        "Basic realm=\"WallyWorld\", Bearer mF_9.B5f-4.1JqM==, Negotiate, "
        "Digest realm=\"a\", nonce=\"n\"");
    REQUIRE(cs.size() == 4);
    CHECK(cs[0].scheme == "Basic");
    CHECK_FALSE(cs[0].is_digest());
    CHECK(cs[0].realm == "WallyWorld");
    CHECK(cs[1].scheme == "Bearer");
    CHECK(cs[1].token68 == "mF_9.B5f-4.1JqM==");
    CHECK(cs[2].scheme == "Negotiate");
    CHECK(cs[3].is_digest());
  }
  SUBCASE("several headers append; an error appends nothing") {
    std::vector<sip::digest_challenge> out;
    CHECK(sip::parse_challenges("Digest realm=\"a\", nonce=\"1\"", out) == std::error_code{});
    CHECK(sip::parse_challenges("Digest realm=\"b\", nonce=\"2\"", out) == std::error_code{});
    CHECK(sip::parse_challenges("Digest realm=\"c\", nonce=\"3\", Digest realm=\"d\"", out) == digest_errc::missing_nonce);
    REQUIRE(out.size() == 2);
    CHECK(out[1].realm == "b");
  }
}

TEST_CASE("digest: malformed challenges") {
  struct bad {
    std::string value;
    digest_errc expected;
  };
  const bad cases[] = {
      {"", digest_errc::empty_value},
      {" , ,\t", digest_errc::empty_value},
      {"Digest realm=\"a\", nonce=\"x", digest_errc::bad_quoted_string},
      {"Digest realm=\"a\\\"", digest_errc::bad_quoted_string},
      {"Digest realm", digest_errc::bad_auth_param},
      {"Digest realm=\"a\" nonce=\"x\"", digest_errc::bad_auth_param},
      {"Digest realm=, nonce=\"x\"", digest_errc::bad_auth_param},
      {"Digest dGVzdA==", digest_errc::bad_auth_param},
      {"Digest nonce=\"x\"", digest_errc::missing_realm},
      {"Digest realm=\"a\"", digest_errc::missing_nonce},
      {"Digest", digest_errc::missing_realm},
      {"Digest realm=\"a\", REALM=\"b\", nonce=\"x\"", digest_errc::duplicate_param},
      {"Digest realm=\"a\", nonce=\"x\", qop=\" , \"", digest_errc::bad_qop},
      {"=Digest realm=\"a\"", digest_errc::bad_scheme},
      {"Digest\"realm\"", digest_errc::bad_scheme},
      {"Digest realm=\"a\", nonce=\"x\", =", digest_errc::bad_scheme},
      {"Digest realm=\"a\",nonce=\"x\",\x01", digest_errc::bad_scheme},
      {"Basic realm=\"a\" junk", digest_errc::bad_auth_param},
      {"\xff\xfe", digest_errc::bad_scheme},
      {std::string(9000, 'a'), digest_errc::value_too_long},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    std::vector<sip::digest_challenge> out;
    CHECK(sip::parse_challenges(c.value, out) == c.expected);
    CHECK(out.empty());
  }
  std::string many;
  for (int i = 0; i < 17; ++i) many += "Basic, ";
  std::vector<sip::digest_challenge> out;
  CHECK(sip::parse_challenges(many, out) == digest_errc::too_many_challenges);
  std::string params = "Digest realm=\"a\", nonce=\"b\"";
  for (int i = 0; i < 40; ++i) params += ", p" + std::to_string(i) + "=1";
  CHECK(sip::parse_challenges(params, out) == digest_errc::too_many_params);

  std::size_t where = 0;
  CHECK(sip::parse_challenges("Digest realm=\"a\" nonce=\"x\"", out, &where) == digest_errc::bad_auth_param);
  CHECK(where == 17);
}

TEST_CASE("digest: choosing the strongest challenge") {
  struct choose_case {
    std::string header;
    bool body_known;
    std::optional<std::size_t> index;
    digest_qop qop;
    std::string reason_part;
  };
  const choose_case cases[] = {
      {"Digest realm=\"a\", nonce=\"x\", algorithm=SHA-256, qop=\"auth\", "
       "Digest realm=\"a\", nonce=\"y\", algorithm=MD5, qop=\"auth\"",
       false, 0, digest_qop::auth, "SHA-256 preferred over MD5 (RFC 8760)"},
      {"Digest realm=\"a\", nonce=\"x\", qop=\"auth\", "
       "Digest realm=\"a\", nonce=\"y\", algorithm=SHA-512-256-sess, qop=\"auth\", "
       "Digest realm=\"a\", nonce=\"z\", algorithm=SHA-256, qop=\"auth\"",
       false, 1, digest_qop::auth, "SHA-512-256-sess preferred over MD5, SHA-256 (RFC 8760)"},
      {"Digest realm=\"a\", nonce=\"x\", qop=\"auth-int\", Digest realm=\"a\", nonce=\"y\", "
       "qop=\"auth\"",
       false, 1, digest_qop::auth, "MD5 with qop=auth preferred over qop=auth-int"},
      {"Digest realm=\"a\", nonce=\"x\", qop=\"auth\", Digest realm=\"a\", nonce=\"y\", "
       "qop=\"auth-int\"",
       true, 1, digest_qop::auth_int, "qop=auth-int preferred over qop=auth"},
      {"Digest realm=\"a\", nonce=\"x\", Digest realm=\"a\", nonce=\"y\", qop=\"auth\"", false, 1, digest_qop::auth,
       "preferred over qop=none"},
      {"Digest realm=\"a\", nonce=\"x\", qop=\"auth-int,auth\"", false, 0, digest_qop::auth,
       "MD5 (only supported challenge); qop=auth (body unknown)"},
      {"Digest realm=\"a\", nonce=\"x\"", false, 0, digest_qop::none, "only supported"},
      {"Digest realm=\"a\", nonce=\"x\", Digest realm=\"a\", nonce=\"y\"", false, 0, digest_qop::none, "first of equally strong"},
      {"Basic realm=\"a\", Digest realm=\"a\", nonce=\"x\", algorithm=SHA-256", false, 1, digest_qop::none, "ignored: Basic"},
      {"Basic realm=\"a\", Digest realm=\"a\", nonce=\"x\", algorithm=SHA-1", false, std::nullopt, digest_qop::none,
       "no supported challenge; offered: Basic, Digest algorithm=SHA-1 (unsupported)"},
      {"Digest realm=\"a\", nonce=\"x\", qop=\"auth-conf\"", false, std::nullopt, digest_qop::none,
       "Digest MD5 qop=auth-conf (no supported qop)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.header);
    auto cs = parsed(c.header);
    auto r = sip::choose_challenge(cs, c.body_known);
    CHECK(r.index == c.index);
    CHECK(r.qop == c.qop);
    CHECK_MESSAGE(r.reason.find(c.reason_part) != std::string::npos, r.reason);
    CHECK(r.offered.size() == cs.size());
  }
  auto none = sip::choose_challenge({});
  CHECK_FALSE(none.index);
  CHECK(none.reason == "no challenge offered");
}

TEST_CASE("digest: credentials parsing") {
  sip::digest_credentials cr;
  REQUIRE(sip::parse_credentials("Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                                 "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
                                 "nc=0000000A, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", "
                                 "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5-sess, x=y",
                                 cr) == std::error_code{});
  CHECK(cr.is_digest());
  CHECK(cr.username == "Mufasa");
  CHECK(cr.realm == "testrealm@host.com");
  CHECK(cr.uri == "/dir/index.html");
  CHECK(cr.qop == digest_qop::auth);
  CHECK(cr.nc == 10);
  CHECK(cr.cnonce == "0a4f113b");
  CHECK(cr.response == "6629fae49393a05397450978507c4ef1");
  CHECK(cr.opaque == "5ccc069c403ebaf9f0171e9517f40e41");
  CHECK(cr.algorithm == digest_algorithm::md5_sess);
  REQUIRE(cr.other.size() == 1);

  REQUIRE(sip::parse_credentials("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"r\", "
                                 "nonce=\"n\", uri=\"sip:a\", response=\"00\"",
                                 cr) == std::error_code{});
  CHECK(cr.username == "J\xc3\xa4s\xc3\xb8n Doe");
  CHECK(cr.username_star);
  CHECK(cr.qop == digest_qop::none);
  REQUIRE(sip::parse_credentials("Digest username*=iso-8859-1'de'J%E4s, realm=\"r\", nonce=\"n\", "
                                 "uri=\"sip:a\", response=\"00\", qop=\"auth-x\", nc=00000001, cnonce=\"c\"",
                                 cr) == std::error_code{});
  CHECK(cr.username == "J\xc3\xa4s");
  CHECK(cr.qop == digest_qop::unknown);
  CHECK(cr.qop_text == "auth-x");

  REQUIRE(sip::parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", cr) == std::error_code{});
  CHECK(cr.scheme == "Basic");
  CHECK(cr.token68 == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST_CASE("digest: malformed credentials") {
  const std::string tail = ", realm=\"r\", nonce=\"n\", uri=\"sip:a\", response=\"00\"";
  struct bad {
    std::string value;
    digest_errc expected;
  };
  const bad cases[] = {
      {"", digest_errc::empty_value},
      {"Digest realm=\"r\", nonce=\"n\", uri=\"sip:a\", response=\"00\"", digest_errc::missing_username},
      {"Digest username=\"u\", nonce=\"n\", uri=\"sip:a\", response=\"00\"", digest_errc::missing_realm},
      {"Digest username=\"u\", realm=\"r\", uri=\"sip:a\", response=\"00\"", digest_errc::missing_nonce},
      {"Digest username=\"u\", realm=\"r\", nonce=\"n\", response=\"00\"", digest_errc::missing_uri},
      {"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:a\"", digest_errc::missing_response},
      {"Digest username=\"u\"" + tail + ", qop=auth, nc=00000001", digest_errc::missing_cnonce},
      {"Digest username=\"u\"" + tail + ", qop=auth, cnonce=\"c\"", digest_errc::missing_nc},
      {"Digest username=\"u\"" + tail + ", qop=auth, cnonce=\"c\", nc=1", digest_errc::bad_nc},
      {"Digest username=\"u\"" + tail + ", qop=auth, cnonce=\"c\", nc=0000000g", digest_errc::bad_nc},
      {"Digest username=\"u\"" + tail + ", qop=\"auth,auth-int\"", digest_errc::bad_qop},
      {"Digest username*=KOI8-R''abc" + tail, digest_errc::bad_username_star},
      {"Digest username*=UTF-8''%C" + tail, digest_errc::bad_username_star},
      {"Digest username*=UTF-8''a b" + tail, digest_errc::bad_auth_param},
      {"Digest username=\"u\", username*=UTF-8''u" + tail, digest_errc::bad_username_star},
      {"Digest username=\"u\"" + tail + ", username=\"v\"", digest_errc::duplicate_param},
      {"Digest username=\"u\"" + tail + ", Digest username=\"v\"" + tail, digest_errc::multiple_credentials},
      {"Basic QWxh, Digest username=\"u\"" + tail, digest_errc::multiple_credentials},
      {"Digest username=\"u\"" + tail + ", cnonce=\"abc", digest_errc::bad_quoted_string},
      {"Digest username=\"u\";" + tail, digest_errc::bad_auth_param},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    sip::digest_credentials cr;
    CHECK(sip::parse_credentials(c.value, cr) == c.expected);
  }
}
