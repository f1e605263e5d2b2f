// probe/batch/csv.hpp — the accounts file of `sipprobe batch`: a streaming RFC 4180 reader
// and the validation of each row into an account to register.
//
// The reader pulls one record at a time from an std::istream (a file or stdin) and never
// holds more than one record: a record longer than max_record_bytes or with more than
// max_fields fields is reported as an error, and reading goes on with the next line.
// Quoted fields may hold commas, doubled quotes and line breaks; records end in LF, CRLF
// or a lone CR; a UTF-8 byte-order mark before the header is ignored.
//
// Every line of input ends up in exactly one record. A quoted field that runs into later
// lines is accepted only when it makes a whole, valid record with the header's number of
// fields; otherwise (the quote never closes, the record breaks or grows past the limits,
// or its field count differs) the record is the row where the quote opened, reported as
// an error, and the lines after that row are read again as rows of their own. The bytes
// kept to read again are those of one record: at most max_record_bytes.
#pragma once

#include "probe/core/expected.hpp"
#include "probe/registration/exchange.hpp"

#include "netcheck/common.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace probe::batch {

inline constexpr std::size_t max_record_bytes = 8192;
inline constexpr std::size_t max_fields = 64;

struct csv_record {
  std::vector<std::string> fields;
  std::size_t number = 0;            // 1-based record number in the file (the header is 1)
  std::optional<std::string> error;  // set: why the record is not usable as CSV (fields cleared)
};

class csv_reader {
 public:
  // `in` must outlive the reader.
  explicit csv_reader(std::istream& in) : in_(in) {}

  // Reads the next record into `r`; false at the end of the input. Empty lines are
  // skipped (they still count in record numbers). The first record without an error
  // (the header) sets the field count a record spanning lines must have.
  bool next(csv_record& r);

  // True when the underlying stream failed for a reason other than its end.
  bool bad() const { return in_.bad(); }

 private:
  struct scan;  // the state of one record being read (csv.cpp)
  int get();    // the next byte: what is to be read again first, then the stream
  int peek();
  void skip_bom();
  void read_record(scan& s, csv_record& r);

  std::istream& in_;
  std::string again_;  // bytes to read again (the lines after a broken row)
  std::size_t again_at_ = 0;
  std::size_t number_ = 0;
  std::optional<std::size_t> header_fields_;
  bool started_ = false;
};

// Where each known column sits in a record; built from the header row.
struct columns {
  std::size_t count = 0;  // fields per record
  std::optional<std::size_t> aor, password, password_env, ha1, username, realm, registrar, transport, expires, label;
};

// Reads the header. Throws usage_error naming the problem: no aor column, no
// password/password_env/ha1 column, an unknown or repeated column name.
columns parse_header(const std::vector<std::string>& header);

// One data row made ready to register; only the secret-free parts are ever printed.
struct account_row {
  std::size_t number = 0;
  std::string label;
  std::string aor;  // as written
  registration::account acct;
  std::string registrar;
  std::optional<netcheck::transport> transport;
  std::optional<std::uint32_t> expires;
};

// Why a data row cannot be registered, with what could be read of it for its result line.
struct row_error {
  std::string reason;      // one line, precise, never a field that may be a secret
  std::string label, aor;  // "" when not read (a text that is not an AOR may be a password)
};

// Validates one record against the header. `getenv` resolves password_env columns.
expected<account_row, row_error> validate_row(const columns& cols, const csv_record& rec,
                                              const std::function<const char*(const char*)>& getenv);

// Remembers which secret each AOR was given, as a hash (never the secret itself), so a
// second, different password for the same AOR is reported — a validator, not a cracker.
class duplicate_guard {
 public:
  // Records the AOR and secret of `row`, or says why the row repeats an AOR with a
  // different secret.
  expected<void, std::string> check(const account_row& row);

 private:
  // The AOR as the registrar sees it ("user@host", host in lower case) as two independent
  // 64-bit hashes rather than the text: half the memory per distinct AOR
  // (docs/benchmarks.md). Two AORs would have to collide in both hashes to be taken for one.
  struct aor_key {
    std::uint64_t a = 0, b = 0;
    bool operator==(const aor_key&) const = default;
  };
  struct aor_key_hash {
    std::size_t operator()(const aor_key& k) const noexcept { return k.a; }
  };
  struct seen {
    std::uint64_t secret_hash;
    std::uint64_t first_row;
  };
  std::unordered_map<aor_key, seen, aor_key_hash> seen_;
};

}  // namespace probe::batch
