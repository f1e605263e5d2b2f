// The result lines of `sipprobe batch` (result.hpp).
#include "probe/batch/result.hpp"

#include "probe/core/catalog.hpp"
#include "probe/core/text_safety.hpp"

#include <array>
#include <cstdio>
#include <string_view>
#include <utility>

namespace probe::batch {

namespace {

// Printable ASCII that a JSON string holds as it is (RFC 8259 §7), all but " and backslash.
inline constexpr auto json_plain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// A JSON string (RFC 8259 §7). Bytes that are not UTF-8 (a CSV label, a server's reason
// phrase) become U+FFFD, so every line stays valid JSON. By hand: one result per account,
// and building a DOM per line cost more than the registration's own digest.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    // Plain printable ASCII, most of every line, is copied a run at a time.
    std::size_t run = i;
    while (run < s.size() && json_plain[static_cast<unsigned char>(s[run])]) ++run;
    out.append(s.data() + i, run - i);
    if ((i = run) == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    if (const std::size_t len = utf8_sequence_length(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
}

// An RFC 4180 field, with what a terminal would act on escaped (probe/core/text_safety.hpp).
std::string csv_field(std::string_view raw) {
  std::string s = printable(raw);
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

}  // namespace

std::string csv_line(const row_result& r) {
  std::string evidence;
  for (const auto& e : r.evidence) evidence += (evidence.empty() ? "" : "; ") + e;
  return std::to_string(r.row) + ',' + csv_field(r.label) + ',' + csv_field(r.aor) + ',' + csv_field(r.code) + ',' +
         csv_field(r.verdict) + ',' + csv_field(r.detail) + ',' + csv_field(evidence) + ',' + ms_number(r.elapsed_ms) + '\n';
}

std::string jsonl_line(const row_result& r) {
  // Keys sorted, as nlohmann::json writes an object (docs/json.md, "batch lines").
  std::string line;
  line.reserve(160 + r.aor.size() + r.detail.size() + r.label.size());
  line += "{\"aor\":";
  append_json_string(line, r.aor);
  line += ",\"code\":";
  append_json_string(line, r.code);
  line += ",\"detail\":";
  append_json_string(line, r.detail);
  line += ",\"elapsed_ms\":" + ms_number(r.elapsed_ms);
  line += ",\"evidence\":[";
  for (std::size_t i = 0; i < r.evidence.size(); ++i) {
    if (i > 0) line += ',';
    append_json_string(line, r.evidence[i]);
  }
  line += "],\"label\":";
  append_json_string(line, r.label);
  line += ",\"row\":" + std::to_string(r.row) + ",\"verdict\":";
  append_json_string(line, r.verdict);
  line += "}\n";
  return line;
}

row_result result_from_report(const account_row& row, report&& r) {
  row_result b;
  b.row = row.number;
  b.label = row.label;
  b.aor = row.aor;
  const auto& e = describe(r.primary.code);
  b.code = std::string(e.code);
  b.verdict = std::string(verdict_for(r.primary.code));
  b.detail = std::string(e.title);
  b.evidence = std::move(r.primary.evidence);
  b.elapsed_ms = r.elapsed_ms;
  return b;
}

row_result row_error_result(std::size_t row, std::string label, std::string aor, std::string why) {
  row_result b;
  b.row = row;
  b.label = std::move(label);
  b.aor = std::move(aor);
  b.code = "row_error";
  b.verdict = "row_error";
  b.detail = std::move(why);
  return b;
}

}  // namespace probe::batch
