// probe/batch/result.hpp — the line `sipprobe batch` prints for each input row, as JSON
// (sipprobe.batch jsonl) or CSV, made from a finished registration or a row error.
#pragma once

#include "probe/batch/csv.hpp"
#include "probe/core/report.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace probe::batch {

// What is printed for one input row. Never holds a secret.
struct row_result {
  std::size_t row = 0;
  std::string label;
  std::string aor;
  std::string code;     // a catalog diagnosis code, or "row_error"
  std::string verdict;  // "registered", "failed" or "row_error"
  std::string detail;   // the catalog title, or the row error's reason
  std::vector<std::string> evidence;
  double elapsed_ms = 0;
};

// One result as a JSON line (sipprobe.batch jsonl: aor, code, detail, elapsed_ms,
// evidence, label, row, verdict), always valid JSON whatever bytes the fields hold.
std::string jsonl_line(const row_result& r);
// The same as a CSV line (row,label,aor,code,verdict,detail,evidence,elapsed_ms; RFC 4180
// quoting, evidence joined with "; ").
std::string csv_line(const row_result& r);

// The result line for a finished registration.
row_result result_from_report(const account_row& row, report&& r);
row_result row_error_result(std::size_t row, std::string label, std::string aor, std::string why);

}  // namespace probe::batch
