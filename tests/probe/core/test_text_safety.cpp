// Text from the network made safe to print: escapes for terminals, U+FFFD for JSON.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/text_safety.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using probe::printable;
using probe::printable_lines;

TEST_CASE("text safety: printable escapes what a terminal would act on, keeps UTF-8 text") {
  struct row {
    std::string in, out;
  };
  const std::vector<row> table = {
      {"plain ASCII, 200 OK", "plain ASCII, 200 OK"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e"},  // é € 📞 stay
      {"403 Acc\xe8s refus\xe9", "403 Acc\\xe8s refus\\xe9"},                                      // Latin-1
      {"\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07"},                                   // ESC, BEL
      {"a\r\nb\tc", "a\\r\\nb\\tc"},
      {std::string("nul\0del\x7f", 8), "nul\\x00del\\x7f"},
      {"csi \xc2\x9b"
       "2J",
       "csi \\u009b2J"},  // C1 CSI as UTF-8
      {"raw csi \x9b"
       "2J",
       "raw csi \\x9b2J"},  // lone C1 byte
      {"evil \xe2\x80\xae"
       "txt.exe",
       "evil \\u202etxt.exe"},  // RLO
      {"isolate \xe2\x81\xa6x\xe2\x81\xa9", "isolate \\u2066x\\u2069"},
      {"overlong \xc0\xaf surrogate \xed\xa0\x80 cut \xe2\x82", "overlong \\xc0\\xaf surrogate \\xed\\xa0\\x80 cut \\xe2\\x82"},
      {"too big \xf4\x90\x80\x80", "too big \\xf4\\x90\\x80\\x80"},
      {"", ""},
  };
  for (const auto& t : table) {
    CAPTURE(t.in);
    CHECK(printable(t.in) == t.out);
    CHECK(probe::is_printable(t.in) == (t.in == t.out));
    // Escaped text has nothing left to escape (no byte below 0x20 or not UTF-8).
    CHECK(probe::is_printable(printable(t.in)));
  }
}

TEST_CASE("text safety: printable_lines keeps line breaks and tabs, escapes the rest") {
  CHECK(printable_lines("REGISTER sip:x SIP/2.0\r\nVia: a\r\n\tb\r\n\r\n") == "REGISTER sip:x SIP/2.0\r\nVia: a\r\n\tb\r\n\r\n");
  CHECK(printable_lines("lone\rcr\nesc\x1b[31m") == "lone\\rcr\nesc\\x1b[31m");
  CHECK(printable_lines("end\r") == "end\\r");
}

TEST_CASE("text safety: utf8_sequence_length at the RFC 3629 boundaries") {
  struct row {
    std::string s;
    std::size_t len;
  };
  const std::vector<row> table = {
      {"A", 1},
      {"\x7f", 1},
      {"\xc2\x80", 2},
      {"\xdf\xbf", 2},
      {"\xc1\xbf", 0},
      {"\xe0\xa0\x80", 3},
      {"\xe0\x9f\xbf", 0},
      {"\xed\x9f\xbf", 3},
      {"\xed\xa0\x80", 0},
      {"\xef\xbf\xbf", 3},
      {"\xf0\x90\x80\x80", 4},
      {"\xf0\x8f\xbf\xbf", 0},
      {"\xf4\x8f\xbf\xbf", 4},
      {"\xf4\x90\x80\x80", 0},
      {"\xf5\x80\x80\x80", 0},
      {"\x80", 0},
      {"\xc3", 0},
      {"\xe2\x82", 0},
      {"\xc3\x28", 0},
  };
  for (const auto& t : table) {
    CAPTURE(t.s);
    CHECK(probe::utf8_sequence_length(t.s, 0) == t.len);
  }
}

TEST_CASE("text safety: json_text replaces bytes that are not UTF-8 instead of throwing") {
  nlohmann::json j;
  j["reason"] = "Acc\xe8s refus\xe9";
  j["ok"] = "caf\xc3\xa9";
  j["esc"] = "\x1b[2J";
  CHECK_THROWS(j.dump());  // what every writer did before
  const auto text = probe::json_text(j);
  const auto back = nlohmann::json::parse(text);
  CHECK(back["reason"] == "Acc\xef\xbf\xbds refus\xef\xbf\xbd");
  CHECK(back["ok"] == "caf\xc3\xa9");
  CHECK(back["esc"] == "\x1b[2J");
  CHECK(text.find('\x1b') == std::string::npos);  // written as \u001b
}
