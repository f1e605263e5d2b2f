// libFuzzer target: the capture reader of `sipprobe analyze`. The input is handed to
// libpcap as a memory FILE (fmemopen + pcap_fopen_offline), as a file would be; then the
// same bytes go straight to packet_decoder under every supported link type, so the
// decoder is fuzzed even where libpcap rejects the file header. Attempts and diagnoses
// are built from whatever parsed. Must never crash, hang or trip a sanitizer.
#include "probe/analyze/attempts.hpp"
#include "probe/analyze/diagnose.hpp"
#include "probe/analyze/pcap.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

using namespace probe::analyze;

namespace {

void consume(attempt&& a) { (void)diagnose(a, {}); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    attempt_tracker tracker(consume);
    std::string copy(reinterpret_cast<const char*>(data), size);
    std::FILE* f = fmemopen(copy.data(), copy.size(), "rb");
    if (f != nullptr) {
      capture_stats stats;
      (void)read_pcap(f, "fuzz", tracker, stats);  // takes f
    }
    tracker.finish();
  }
  // Packets split at the first bytes' choice: a sequence of (length, bytes) records.
  for (int lt : {0, 1, 12, 101, 108, 113, 228, 229, 276}) {
    attempt_tracker tracker(consume);
    packet_decoder dec(tracker, "fuzz");
    std::size_t pos = 0;
    double t = 0;
    while (pos + 2 <= size) {
      std::size_t len = static_cast<std::size_t>(data[pos]) << 8 | data[pos + 1];
      pos += 2;
      if (len > size - pos) len = size - pos;
      dec.packet(lt, t += 0.5, data + pos, len);
      pos += len;
    }
    dec.finish();
    tracker.finish();
  }
  return 0;
}
