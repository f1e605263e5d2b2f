// libFuzzer target: format detection and the text state machine of `sipprobe analyze`,
// every text format forced in turn, then the attempts and diagnoses built from whatever
// parsed. Must never crash, hang or trip a sanitizer.
#include "probe/analyze/attempts.hpp"
#include "probe/analyze/diagnose.hpp"
#include "probe/analyze/input.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace probe::analyze;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)detect_format(in);
  double t = 0;
  bool abs = false;
  (void)parse_log_time(in.substr(0, 256), t, abs);
  diagnose_options secret;
  secret.password = "pw";
  secret.secret_source = "fuzz";
  for (auto f : {trace_format::text, trace_format::ngrep, trace_format::asterisk, trace_format::fslog, trace_format::sngrep}) {
    tracker_limits lim;
    lim.max_messages = 6;
    lim.keep_first = 2;
    lim.max_open = 4;
    attempt_tracker tracker([&](attempt&& a) { (void)diagnose(a, secret); }, lim);
    text_reader reader(tracker, "fuzz", f);
    std::uint64_t lineno = 0;
    std::size_t pos = 0;
    while (pos <= in.size()) {
      auto nl = in.find('\n', pos);
      reader.line(in.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos), ++lineno);
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
    reader.finish();
    tracker.finish();
    if (tracker.open_attempts() != 0) std::abort();
  }
  return 0;
}
