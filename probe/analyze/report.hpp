// probe/analyze/report.hpp — what `sipprobe analyze` found in a whole trace, and how it is
// written: the same report (probe/core/report.hpp) and JSON schema as `register`, extended
// with "input", "attempts", "summary" and "warnings".
//
// Which attempt gives the primary diagnosis: the LAST one in the trace (the attempt whose
// last message came last). It tells the current state: a phone that failed and then
// registered is registered; one that registered and then started failing is failing.
// Every attempt keeps its own diagnosis in "attempts".
//
// Summary mode: attempt_store keeps every attempt while there are at most
// `max_attempts`; beyond that it keeps counts by diagnosis code for all of them, and
// only the last `max_attempts` attempts plus the last `max_attempts` failed ones (so a
// day's capture of a busy PBX still shows the failures). Memory stays bounded.
#pragma once

#include "probe/analyze/diagnose.hpp"
#include "probe/analyze/input.hpp"
#include "probe/analyze/pcap.hpp"
#include "probe/core/report.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace probe::analyze {

class attempt_store {
 public:
  explicit attempt_store(std::size_t max_attempts = 100);
  // Counts the attempt under its code (classify(): cheap) and keeps it while it may be
  // shown; nothing is copied.
  void add(attempt a);
  // Diagnoses in full what is kept (diagnose()); call once, after the last add().
  void finalize(const diagnose_options& o);

  std::uint64_t total() const noexcept { return total_; }
  // After finalize(): how many attempts got each code (the codes that occurred).
  const std::map<std::string, std::uint64_t, std::less<>>& by_diagnosis() const noexcept { return by_code_; }
  bool summarized() const noexcept { return total_ > max_; }
  // After finalize(): the attempts kept, in trace order (by their last message), and the
  // primary one (also among them).
  std::vector<const attempt_result*> kept() const;
  const attempt_result* primary() const noexcept { return primary_result_; }

 private:
  struct held {
    attempt a;
    diagnosis_code code;
  };
  // Keeps the primary attempt alive when it leaves both windows.
  void keep_primary(attempt& leaving);
  // Adds to the evidence of a refusal that named the nonce the later success of the same
  // user, among the attempts kept.
  void point_at_later_success();

  std::size_t max_;
  std::uint64_t total_ = 0;
  std::vector<std::uint64_t> counts_;                          // by diagnosis_code: no lookup per attempt
  std::map<std::string, std::uint64_t, std::less<>> by_code_;  // made from counts_ by finalize()
  // By value: a deque keeps its elements in place while its ends change.
  std::deque<held> last_;
  std::deque<held> failed_;  // failed ones that dropped out of last_
  std::optional<attempt> primary_kept_;
  const attempt* primary_ = nullptr;  // in last_, failed_ or primary_kept_
  std::vector<attempt_result> results_;
  const attempt_result* primary_result_ = nullptr;
};

struct input_record {
  std::string file;
  std::string format;  // to_string(trace_format)
};

// Everything the writers need.
struct analysis {
  std::vector<input_record> inputs;
  capture_stats capture;
  std::uint64_t sip_messages = 0;
  std::uint64_t register_messages = 0;
  std::uint64_t retransmissions = 0;
  std::vector<std::pair<std::string, std::string>> warnings;  // (position, what)
  std::uint64_t warnings_total = 0;
  const attempt_store* attempts = nullptr;
  double elapsed_ms = 0;
};

// The report of the primary attempt (empty diagnosis when there is none).
report primary_report(const analysis& a);
nlohmann::json to_json(const analysis& a);
void write_text(std::ostream& out, const analysis& a, color_mode color);

}  // namespace probe::analyze
