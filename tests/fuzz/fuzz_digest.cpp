// libFuzzer target for sip/digest: arbitrary bytes as a WWW-Authenticate value and as an
// Authorization value. Parsing must never crash; whatever parses is pushed through
// choose / build / parse / verify, and a built Authorization must parse back and verify
// (a failure there is a bug, reported with abort()).
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_digest.cpp \
//     sip/digest.cpp sip/digest_choose.cpp sip/digest_compute.cpp sip/scan.cpp sip/error.cpp \
//     -lcrypto -o /tmp/fuzz_digest && /tmp/fuzz_digest -max_total_time=60 corpus/
#include "sip/digest.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void exercise_challenge(const sip::digest_challenge& ch, const sip::digest_inputs& in) {
  for (auto qop : {sip::digest_qop::none, sip::digest_qop::auth, sip::digest_qop::auth_int}) {
    std::string value;
    if (sip::build_authorization(ch, qop, in, value)) continue;
    check(value.find_first_of("\r\n") == std::string::npos);
    sip::digest_credentials cr;
    check(!sip::parse_credentials(value, cr));
    check(cr.realm == ch.realm && cr.nonce == ch.nonce && cr.opaque == ch.opaque);
    check(sip::verify_credentials(ch, cr, in).ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  sip::digest_inputs in;
  in.username = "alice";
  in.password = "secret";
  in.method = "REGISTER";
  in.uri = "sip:example.com";
  in.body = input;
  in.cnonce = "0a4f113b";
  in.nc = 1;

  std::vector<sip::digest_challenge> challenges;
  std::size_t where = 0;
  if (auto ec = sip::parse_challenges(input, challenges, &where)) {
    check(challenges.empty() && where <= size + 1);
    (void)ec.message();
  } else {
    check(!challenges.empty());
    for (bool body_known : {false, true}) {
      auto choice = sip::choose_challenge(challenges, body_known);
      check(choice.offered.size() == challenges.size());
      if (choice.index) {
        check(*choice.index < challenges.size());
        std::string value;
        check(!sip::build_authorization(challenges[*choice.index], choice.qop, in, value) || value.empty());
      }
    }
    for (const auto& ch : challenges) exercise_challenge(ch, in);
  }

  sip::digest_credentials cr;
  if (!sip::parse_credentials(input, cr)) {
    sip::digest_challenge ch;
    ch.scheme = "Digest";
    ch.realm = cr.realm;
    ch.nonce = cr.nonce;
    ch.algorithm = cr.algorithm;
    ch.algorithm_text = cr.algorithm_text;
    auto r = sip::verify_credentials(ch, cr, in);
    (void)r;
    for (const auto& c : challenges) (void)sip::verify_credentials(c, cr, in);
    std::string response;
    (void)sip::compute_response(cr.algorithm, cr.qop, cr.realm, cr.nonce, in, response);
  }
  return 0;
}
