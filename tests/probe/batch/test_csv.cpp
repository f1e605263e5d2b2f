// `sipprobe batch` input: the streaming RFC 4180 reader, the header, each row_error
// reason and duplicate detection — table-driven.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/batch/csv.hpp"
#include "probe/core/errors.hpp"

#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace probe;
using namespace probe::batch;

namespace {

std::vector<csv_record> read_all(const std::string& text) {
  std::istringstream in(text);
  csv_reader reader(in);
  std::vector<csv_record> out;
  csv_record r;
  while (reader.next(r)) out.push_back(r);
  return out;
}

using fields = std::vector<std::string>;

}  // namespace

TEST_CASE("batch csv: records, quoting, line ends, BOM") {
  struct row {
    const char* name;
    std::string input;
    std::vector<fields> expected;
    std::vector<std::size_t> numbers;
  };
  const std::vector<row> table = {
      {"plain LF", "a,b\n1,2\n", {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"CRLF", "a,b\r\n1,2\r\n", {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"no final line end", "a,b\n1,2", {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"no final line end after CR", "a,b\r\n1,2\r", {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"BOM",
       "\xEF\xBB\xBF"
       "aor,password\nx,y\n",
       {{"aor", "password"}, {"x", "y"}},
       {1, 2}},
      {"quoted comma", "a,b\n\"x,y\",z\n", {{"a", "b"}, {"x,y", "z"}}, {1, 2}},
      {"doubled quotes", "a\n\"say \"\"hi\"\"\"\n", {{"a"}, {"say \"hi\""}}, {1, 2}},
      {"quoted line break", "a,b\n\"l1\r\nl2\",z\n", {{"a", "b"}, {"l1\r\nl2", "z"}}, {1, 2}},
      {"empty fields", "a,b,c\n,,\n", {{"a", "b", "c"}, {"", "", ""}}, {1, 2}},
      {"empty quoted field", "a,b\n\"\",x\n", {{"a", "b"}, {"", "x"}}, {1, 2}},
      {"blank lines skipped, still counted", "a\n\n\r\nb\n", {{"a"}, {"b"}}, {1, 4}},
      {"CR-only line ends", "a,b\r1,2\r\r3,4", {{"a", "b"}, {"1", "2"}, {"3", "4"}}, {1, 2, 4}},
      {"quoted line break in a record that fits the header",
       "a,b\n\"l1\nl2\",z\nn,r\n",
       {{"a", "b"}, {"l1\nl2", "z"}, {"n", "r"}},
       {1, 2, 3}},
      {"empty input", "", {}, {}},
  };
  for (const auto& t : table) {
    CAPTURE(t.name);
    auto recs = read_all(t.input);
    REQUIRE(recs.size() == t.expected.size());
    for (std::size_t i = 0; i < recs.size(); ++i) {
      CHECK_FALSE(recs[i].error);
      CHECK(recs[i].fields == t.expected[i]);
      CHECK(recs[i].number == t.numbers[i]);
    }
  }
}

TEST_CASE("batch csv: malformed records are reported and reading goes on") {
  struct row {
    const char* name;
    std::string bad;
    std::string error_contains;
  };
  const std::vector<row> table = {
      {"too long", std::string(max_record_bytes + 10, 'x'), "longer than 8192"},
      {"too many fields", std::string(max_fields + 5, ','), "more than 64 fields"},
      {"stray quote", "ab\"c,d", "quote inside an unquoted field"},
      {"text after closing quote", "\"ab\"c,d", "text after the closing quote"},
  };
  for (const auto& t : table) {
    CAPTURE(t.name);
    auto recs = read_all("h1,h2\n" + t.bad + "\nnext,row\n");
    REQUIRE(recs.size() == 3);
    REQUIRE(recs[1].error);
    CHECK(recs[1].error->find(t.error_contains) != std::string::npos);
    CHECK(recs[1].fields.empty());
    CHECK_FALSE(recs[2].error);
    CHECK(recs[2].fields == fields{"next", "row"});
    CHECK(recs[2].number == 3);
  }
  auto recs = read_all("h\nlast,\"never closed");
  REQUIRE(recs.size() == 2);
  CHECK(recs[1].error == "unterminated quoted field");
}

TEST_CASE("batch csv: a quote that runs into later lines and breaks there leaves every line a row") {
  struct row {
    std::string name;
    std::string input;
    std::vector<fields> expected;     // {} for an error record
    std::vector<std::string> errors;  // what each error record's text contains, in order
  };
  const std::vector<row> table = {
      {"never closed",
       "h1,h2\n\"open,x\nmore,x\nlast,y\n",
       {{"h1", "h2"}, {}, {"more", "x"}, {"last", "y"}},
       {"unbalanced quote: a quoted field opened in this row never closes"}},
      {"never closed, CR-only lines",
       "h1,h2\r\"open,x\rmore,x\rlast,y",
       {{"h1", "h2"}, {}, {"more", "x"}, {"last", "y"}},
       {"unbalanced quote: a quoted field opened in this row never closes"}},
      {"closed, but more fields than the header",
       "a,b\n\"x\ny\",z,w\nn,r\n",
       {{"a", "b"}, {}, {}, {"n", "r"}},
       {"unbalanced quote: a quoted field opened in this row runs into the lines after it (the record has 3 fields, the header 2)",
        "quote inside an unquoted field"}},
      {"closed, then text after the quote",
       "a,b\n\"x\ny\"q,z\nn,r\n",
       {{"a", "b"}, {}, {}, {"n", "r"}},
       {"runs into the lines after it (text after the closing quote", "quote inside an unquoted field"}},
      {"two broken rows, the second inside what is read again",
       "a,b\n\"p\nq,1\n\"r\ns,2\n",
       {{"a", "b"}, {}, {"q", "1"}, {}, {"s", "2"}},
       {"text after the closing quote", "opened in this row never closes"}},
  };
  for (const auto& t : table) {
    CAPTURE(t.name);
    auto recs = read_all(t.input);
    REQUIRE(recs.size() == t.expected.size());
    std::size_t e = 0;
    for (std::size_t i = 0; i < recs.size(); ++i) {
      CAPTURE(i);
      CHECK(recs[i].number == i + 1);  // one record per line
      CHECK(recs[i].fields == t.expected[i]);
      if (!t.expected[i].empty()) {
        CHECK_FALSE(recs[i].error);
        continue;
      }
      REQUIRE(e < t.errors.size());
      REQUIRE(recs[i].error);
      CHECK(recs[i].error->find(t.errors[e]) != std::string::npos);
      ++e;
    }
  }
  // Past the size limit the rest is read again too: 4,200 lines, all of them rows.
  std::string big = "a,b\n\"open";
  for (int i = 0; i < 4200; ++i) big += "\nx" + std::to_string(i);
  big += "\nend,row\n";
  auto recs = read_all(big);
  REQUIRE(recs.size() == 4203);
  REQUIRE(recs[1].error);
  CHECK(recs[1].error->find("record longer than 8192 bytes") != std::string::npos);
  CHECK(recs[2].fields == fields{"x0"});
  CHECK(recs[4201].fields == fields{"x4199"});
  CHECK(recs[4202].fields == fields{"end", "row"});
  CHECK(recs[4202].number == 4203);
}

TEST_CASE("batch csv: the header") {
  CHECK(parse_header({"aor", "password"}).password == 1u);
  CHECK(parse_header({" AOR ", "password_env", "label"}).label == 2u);
  CHECK(parse_header({"label", "aor", "ha1"}).aor == 1u);
  const std::vector<std::pair<fields, std::string>> bad = {
      {{"password"}, "no 'aor' column"},
      {{"aor", "label"}, "none of the columns"},
      {{"aor", "password", "pasword"}, "column 3 of the header is not a column name"},
      {{"sip:alice@sip.test", "S3cret"}, "column 1 of the header is not a column name"},  // no header row
      {{"aor", "password", "aor"}, "appears twice"},
  };
  for (const auto& [header, why] : bad) {
    CAPTURE(why);
    try {
      parse_header(header);
      FAIL("no usage_error");
    } catch (const usage_error& e) {
      CHECK(std::string(e.what()).find(why) != std::string::npos);
      for (const auto& name : header)
        CHECK((name == "aor" || name == "password" || std::string(e.what()).find(name) == std::string::npos));
    }
  }
}

TEST_CASE("batch csv: each row_error reason") {
  const auto cols = parse_header({"aor", "password", "password_env", "ha1", "username", "transport", "expires", "label"});
  const std::map<std::string, std::string> env = {{"PW_SET", "s3cret"}};
  auto getenv = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  struct row {
    fields f;
    std::string error;  // empty: valid
  };
  const std::string ha1(32, 'a');
  const std::vector<row> table = {
      {{"sip:alice@sip.test", "pw", "", "", "", "", "", "l"}, ""},
      {{"alice@sip.test", "", "PW_SET", "", "", "tcp", "60", ""}, ""},
      {{"sip:alice@sip.test", "", "", ha1, "1001", "TLS", "0", ""}, ""},
      {{"not an aor", "pw", "", "", "", "", "", ""}, "bad aor"},
      {{"sip:sip.test", "pw", "", "", "", "", "", ""}, "bad aor"},
      {{"sip:alice:hunter2@sip.test", "pw", "", "", "", "", "", ""}, "carries a password"},
      {{"", "pw", "", "", "", "", "", ""}, "empty aor"},
      {{"sip:alice@sip.test", "", "", "", "", "", "", ""}, "missing password"},
      {{"sip:alice@sip.test", "", "PW_UNSET", "", "", "", "", ""},
       "the environment variable named in column 3 (password_env) is not set"},
      {{"sip:alice@sip.test", "pw", "PW_SET", "", "", "", "", ""}, "more than one of"},
      {{"sip:alice@sip.test", "", "", "xyz", "", "", "", ""}, "bad ha1"},
      {{"sip:alice@sip.test", "pw", "", "", "", "sctp", "", ""}, "unknown transport in column 6 (transport)"},
      {{"sip:alice@sip.test", "pw", "", "", "", "", "-1", ""}, "bad expires in column 7 (expires)"},
      {{"sip:alice@sip.test", "pw", "", "", "", "", "60s", ""}, "bad expires"},
      {{"sip:alice@sip.test", "pw", "", "", "", "", "4294967296", ""}, "bad expires"},
      {{"sip:alice@sip.test", "pw"}, ""},  // trailing optional columns left out
      {{"sip:alice@sip.test"}, "missing password"},
      {{"sip:alice@sip.test", "pw", "", "", "", "", "", "l", "extra"}, "expected 8 fields as in the header, got 9"},
      {{}, "expected 8 fields as in the header, got 0"},
      {{"sip:alice@sip.test", "pw", "", "", "bob\r\nX: y", "", "", ""}, "control character in column 5 (username)"},
      {{"notsecret-pass", "sip:alice@sip.test", "", "", "", "", "", ""}, "bad aor in column 1 (aor)"},  // swapped columns
  };
  for (const auto& t : table) {
    CAPTURE(t.error);
    csv_record rec;
    rec.fields = t.f;
    rec.number = 7;
    auto v = validate_row(cols, rec, getenv);
    if (t.error.empty()) {
      REQUIRE(v.has_value());
      CHECK(v->number == 7);
    } else {
      REQUIRE_FALSE(v.has_value());
      const auto& e = v.error();
      CHECK(e.reason.find(t.error) != std::string::npos);
      CHECK(e.reason.find("pw") == std::string::npos);  // never the password
      CHECK(e.reason.find("hunter2") == std::string::npos);
      CHECK(e.aor.find("hunter2") == std::string::npos);
      // No field is echoed: any of them may be a secret in the wrong column.
      for (const auto& f : t.f)
        if (f.size() >= 4) CHECK(e.reason.find(f) == std::string::npos);
      if (!e.aor.empty()) CHECK(e.aor == t.f[0]);  // the result line names the AOR only when it is one
    }
  }
  csv_record rec;
  rec.fields = {"sip:alice@sip.test", "", "PW_SET", "", "bob", "udp", "120", "front desk"};
  auto v = validate_row(cols, rec, getenv);
  REQUIRE(v);
  CHECK(v->acct.credentials.password == "s3cret");
  CHECK(v->acct.auth_user == "bob");
  CHECK(v->transport == netcheck::transport::udp);
  CHECK(v->expires == 120u);
  CHECK(v->label == "front desk");

  // The registrar column is checked like --registrar, the label may be left out.
  const auto routed = parse_header({"aor", "password", "registrar", "label"});
  rec.fields = {"sip:alice@sip.test", "pw", "bad host!"};
  v = validate_row(routed, rec, getenv);
  REQUIRE_FALSE(v);
  CHECK(v.error().reason.find("bad registrar in column 3 (registrar)") == 0);
  CHECK(v.error().reason.find("bad host") == std::string::npos);
  rec.fields = {"sip:alice@sip.test", "pw", "127.0.0.1:5060"};
  v = validate_row(routed, rec, getenv);
  REQUIRE(v);
  CHECK(v->registrar == "127.0.0.1:5060");
  CHECK(v->label == "");

  csv_record broken;
  broken.error = "record longer than 8192 bytes";
  const auto refused = validate_row(cols, broken, getenv);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().reason == "record longer than 8192 bytes");
}

TEST_CASE("batch csv: the same AOR with a second, different password is a duplicate") {
  const auto cols = parse_header({"aor", "password"});
  duplicate_guard guard;
  struct row {
    std::string aor, password;
    bool duplicate;
  };
  const std::vector<row> table = {
      {"sip:alice@sip.test", "one", false},  {"sip:bob@sip.test", "one", false},
      {"sip:alice@sip.test", "one", false},  // same password again: a repeat, not a duplicate
      {"alice@SIP.TEST", "two", true},       // host case does not matter
      {"sip:alice@sip.test", "three", true}, {"sip:alice@sip.test", "one", false},
  };
  std::size_t n = 1;
  for (const auto& t : table) {
    CAPTURE(n);
    csv_record rec;
    rec.fields = {t.aor, t.password};
    rec.number = ++n;
    auto v = validate_row(cols, rec, nullptr);
    REQUIRE(v);
    auto fresh = guard.check(*v);
    CHECK(fresh.has_value() == !t.duplicate);
    if (t.duplicate) {
      REQUIRE_FALSE(fresh);
      CHECK(fresh.error().find("row 2") != std::string::npos);
      CHECK(fresh.error().find(t.password) == std::string::npos);
    }
  }
}
