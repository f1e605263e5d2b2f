// The writers' fuzz target (tests/fuzz/fuzz_writers.cpp) replayed in the unit tests on
// generated inputs, so every build checks it: the target aborts on JSON that does not
// parse back or on text a terminal would act on.
#include <ostream>
#include <doctest/doctest.h>

#include "fuzz/fuzz_writers.cpp"

#include <array>
#include <random>
#include <string>
#include <vector>

TEST_CASE("writers fuzz target: 3,000 generated inputs of hostile bytes") {
  // Pieces a hostile peer would send: terminal escapes, Latin-1, broken and valid UTF-8,
  // bidi controls, JSON and CSV syntax, NUL.
  const std::vector<std::string> pieces = {"\x1b[2J",
                                           "\x1b]0;owned\x07",
                                           "\x1b"
                                           "c",
                                           "Acc\xe8s refus\xe9",
                                           "\xc3\xa9",
                                           "\xe2\x80\xae",
                                           "\xc2\x9b",
                                           "\xed\xa0\x80",
                                           "\xf4\x90\x80\x80",
                                           "\xe2\x82",
                                           "\"",
                                           "\\",
                                           ",",
                                           "\r\n",
                                           "\n",
                                           std::string(1, '\0'),
                                           "\t",
                                           "\x7f",
                                           "sip:alice@sip.test",
                                           "403",
                                           "{}",
                                           "\xff\xfe"};
  std::mt19937 rng(13);
  std::size_t total = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string input;
    const int parts = static_cast<int>(rng() % 40);
    for (int p = 0; p < parts; ++p) {
      if (rng() % 3 == 0) input += static_cast<char>(rng() % 256);  // a length byte or a random one
      else input += pieces[rng() % pieces.size()];
    }
    total += input.size();
    CHECK(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size()) == 0);
  }
  CHECK(total > 100000);
}
