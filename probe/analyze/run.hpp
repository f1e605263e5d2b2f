// probe/analyze/run.hpp — the whole `analyze` pipeline: inputs → messages → attempts →
// diagnoses → analysis, independent of the command line (tests drive it directly).
#pragma once

#include "probe/analyze/attempts.hpp"
#include "probe/analyze/diagnose.hpp"
#include "probe/analyze/input.hpp"
#include "probe/analyze/pcap.hpp"
#include "probe/analyze/report.hpp"

#include <string>

namespace probe::analyze {

struct run_options {
  trace_format format = trace_format::automatic;  // forced format, or detect per input
  diagnose_options secret;
  std::string call_id;  // filters (probe/analyze/attempts.hpp)
  std::string aor;
  std::size_t max_attempts = 100;
  double idle_seconds = 32;
  std::uint64_t max_bytes = 0;  // of all inputs together (read_budget); 0: no bound
};

class trace_analyzer {
 public:
  explicit trace_analyzer(run_options o);

  // Reads one input ("-" = standard input) to its end, or says in one line why the input
  // cannot be read at all (then nothing of it was used), or went past max_bytes (then the
  // run has no answer: what was read is not the whole trace).
  expected<void, std::string> add(const std::string& path);
  // Reads an already opened input whose first bytes are `head` (replayed by `f`); takes `f`.
  expected<void, std::string> add(std::FILE* f, const std::string& name, std::string_view head);
  // Closes the open attempts; call once, after the last add().
  void finish();

  // Valid after finish(); points into this analyzer.
  analysis result(double elapsed_ms = 0) const;
  const attempt_store& store() const noexcept { return store_; }
  const attempt_tracker& tracker() const noexcept { return tracker_; }

 private:
  run_options opt_;
  attempt_store store_;
  attempt_tracker tracker_;
  std::vector<input_record> inputs_;
  capture_stats capture_;
  read_budget budget_;
};

}  // namespace probe::analyze
