#include "probe/batch/csv.hpp"

#include "probe/core/errors.hpp"
#include "probe/locate/target.hpp"

#include <charconv>
#include <string_view>

namespace probe::batch {
namespace {

constexpr int eof = std::char_traits<char>::eof();

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return !s.empty();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

// One record being read.
struct csv_reader::scan {
  std::string field;
  bool in_quotes = false, after_quote = false, was_quoted = false;
  bool content = false;  // not an empty line
  bool at_eof = false;
  bool spanned = false;  // a line break inside quotes: the record runs into later lines
  std::size_t bytes = 0;
  std::string after_break;  // what was read after that line break, to read again if broken
};

int csv_reader::get() {
  if (again_at_ < again_.size()) return static_cast<unsigned char>(again_[again_at_++]);
  if (!again_.empty()) again_.clear(), again_at_ = 0;
  auto* sb = in_.rdbuf();
  return sb == nullptr ? eof : sb->sbumpc();
}

int csv_reader::peek() {
  if (again_at_ < again_.size()) return static_cast<unsigned char>(again_[again_at_]);
  auto* sb = in_.rdbuf();
  return sb == nullptr ? eof : sb->sgetc();
}

void csv_reader::skip_bom() {
  // A UTF-8 BOM (EF BB BF) some spreadsheets write before the header.
  auto* sb = in_.rdbuf();
  if (sb == nullptr || sb->sgetc() != 0xEF) return;
  sb->sbumpc();
  if (sb->sgetc() != 0xBB) return;
  sb->sbumpc();
  if (sb->sgetc() == 0xBF) sb->sbumpc();
}

// Reads up to the end of the record (or the point where it broke across lines) into `r`.
void csv_reader::read_record(scan& s, csv_record& r) {
  auto fail = [&](const std::string& why) {
    if (!r.error) r.error = why;
  };
  auto push = [&] {
    if (r.error) return;
    if (r.fields.size() >= max_fields) return fail("more than " + std::to_string(max_fields) + " fields");
    r.fields.push_back(std::move(s.field));
  };
  for (;;) {
    if (s.spanned && r.error) return;  // broken across lines: next() reads them again
    const int c = get();
    if (c == eof) {
      s.at_eof = true;
      if (s.in_quotes) fail("unterminated quoted field");
      break;
    }
    if (s.spanned) s.after_break += static_cast<char>(c);
    if (++s.bytes > max_record_bytes) fail("record longer than " + std::to_string(max_record_bytes) + " bytes");
    const char ch = static_cast<char>(c);
    const bool line_end = ch == '\n' || (ch == '\r' && peek() != '\n');  // LF, CRLF's LF, or a lone CR
    if (s.in_quotes) {
      s.content = true;
      if (line_end && r.error) return;  // a broken record ends with its line
      if (line_end) s.spanned = true;
      if (ch == '"') {
        // RFC 4180 §2.7: a doubled quote inside a quoted field is one quote.
        if (peek() == '"') {
          get();
          if (s.spanned) s.after_break += '"';
          if (!r.error) s.field += '"';
        } else {
          s.in_quotes = false;
          s.after_quote = true;
        }
      } else if (!r.error) {
        s.field += ch;
      }
      continue;
    }
    if (ch == '\r' && !line_end) continue;  // the CR of CRLF
    if (line_end) break;
    s.content = true;
    if (ch == ',') {
      push();
      s.field.clear();
      s.after_quote = s.was_quoted = false;
      continue;
    }
    if (s.after_quote) {
      fail("text after the closing quote of a field");
      continue;
    }
    if (ch == '"') {
      if (s.field.empty() && !s.was_quoted) s.in_quotes = s.was_quoted = true;
      else fail("quote inside an unquoted field");
      continue;
    }
    if (!r.error) s.field += ch;
  }
  push();
}

bool csv_reader::next(csv_record& r) {
  if (!started_) {
    started_ = true;
    skip_bom();
  }
  for (;;) {
    r.fields.clear();
    r.error.reset();
    r.number = ++number_;
    scan s;
    read_record(s, r);
    if (!s.content) {
      if (s.at_eof) {
        --number_;
        return false;
      }
      continue;  // an empty line
    }
    // A record that ran into later lines stands only when it is whole and fits the header;
    // otherwise it is the row where the quote opened, and the lines after it are rows again.
    const bool misfit = !r.error && header_fields_ && r.fields.size() != *header_fields_;
    if (s.spanned && (r.error || misfit)) {
      const std::string why = misfit ? "the record has " + std::to_string(r.fields.size()) + " fields, the header " +
                                           std::to_string(*header_fields_)
                                     : *r.error;
      r.error = s.at_eof && s.in_quotes
                    ? "unbalanced quote: a quoted field opened in this row never closes; the lines after it are read as rows"
                    : "unbalanced quote: a quoted field opened in this row runs into the lines after it (" + why +
                          "); they are read as rows";
      again_ = s.after_break + again_.substr(again_at_);
      again_at_ = 0;
    }
    if (r.error) r.fields.clear();
    else if (!header_fields_) header_fields_ = r.fields.size();
    return true;
  }
}

columns parse_header(const std::vector<std::string>& header) {
  columns c;
  c.count = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string name = lower(std::string(trim(header[i])));
    std::optional<std::size_t>* slot = nullptr;
    if (name == "aor") slot = &c.aor;
    else if (name == "password") slot = &c.password;
    else if (name == "password_env") slot = &c.password_env;
    else if (name == "ha1") slot = &c.ha1;
    else if (name == "username") slot = &c.username;
    else if (name == "realm") slot = &c.realm;
    else if (name == "registrar") slot = &c.registrar;
    else if (name == "transport") slot = &c.transport;
    else if (name == "expires") slot = &c.expires;
    else if (name == "label") slot = &c.label;
    else
      // Not the name itself: without a header row, the first row's password is a "name".
      throw usage_error("accounts file: column " + std::to_string(i + 1) +
                        " of the header is not a column name (known: aor, password, password_env, ha1, username, "
                        "realm, registrar, transport, expires, label); the first row must be the header");
    if (slot->has_value()) throw usage_error("accounts file: column '" + name + "' appears twice in the header");
    *slot = i;
  }
  if (!c.aor) throw usage_error("accounts file: the header has no 'aor' column");
  if (!c.password && !c.password_env && !c.ha1)
    throw usage_error("accounts file: the header has none of the columns 'password', 'password_env', 'ha1'");
  return c;
}

namespace {

// "column 4 (transport)": where a row error is, without the field (it may be a secret
// that landed in the wrong column).
std::string column(const std::optional<std::size_t>& col, const char* name) {
  return "column " + std::to_string(*col + 1) + " (" + name + ")";
}

// Views into the record: a row's fields are copied once, into the row. A column the row
// does not reach (a short row) reads as empty.
struct row_fields {
  const csv_record& rec;
  std::string_view operator()(const std::optional<std::size_t>& col) const {
    return col && *col < rec.fields.size() ? std::string_view(rec.fields[*col]) : std::string_view();
  }
};

// The secret of the row into `out`, or why there is none.
expected<void, std::string> read_secret(const columns& cols, const row_fields& field, std::size_t number,
                                        const std::function<const char*(const char*)>& getenv, secret& out) {
  const std::string_view password = field(cols.password);
  const std::string_view password_env = trim(field(cols.password_env));
  const std::string_view ha1 = trim(field(cols.ha1));
  const int given = !password.empty() + !password_env.empty() + !ha1.empty();
  if (given == 0) return unexpected(std::string("missing password (none of password, password_env, ha1 is filled in)"));
  if (given > 1) return unexpected(std::string("more than one of password, password_env, ha1 is filled in"));
  if (!password.empty()) {
    out.password = password;
    out.source = "accounts file, row " + std::to_string(number);
  } else if (!password_env.empty()) {
    const std::string name(password_env);
    const char* value = getenv ? getenv(name.c_str()) : nullptr;
    if (value == nullptr || *value == '\0')
      return unexpected("missing password: the environment variable named in " + column(cols.password_env, "password_env") +
                        " is not set");
    out.password = value;
    out.source = "environment variable " + name;
  } else {
    if (!is_hex(ha1) || (ha1.size() != 32 && ha1.size() != 64))
      return unexpected(std::string("bad ha1: not 32 or 64 hex digits"));
    out.ha1 = ha1;
    out.source = "HA1 from the accounts file, row " + std::to_string(number);
  }
  return {};
}

// Username, realm, registrar, transport and expires into `row`, or why not.
expected<void, std::string> read_settings(const columns& cols, const row_fields& field, account_row& row) {
  // Username and realm go into the Authorization header: no CR, LF or other control byte.
  for (const auto& [col, name] : {std::pair{cols.username, "username"}, std::pair{cols.realm, "realm"}})
    for (char ch : field(col))
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return unexpected("control character in " + column(col, name));
  row.acct.auth_user = trim(field(cols.username));
  row.acct.expected_realm = trim(field(cols.realm));
  row.registrar = trim(field(cols.registrar));
  if (!row.registrar.empty())
    if (auto target = locate::parse_dns_target(row.registrar); !target)
      return unexpected("bad registrar in " + column(cols.registrar, "registrar") + ": " + target.error().message());
  if (const auto t = trim(field(cols.transport)); !t.empty()) {
    row.transport = netcheck::transport_from_string(t);
    if (!row.transport) return unexpected("unknown transport in " + column(cols.transport, "transport") + " (udp, tcp or tls)");
  }
  if (const auto e = trim(field(cols.expires)); !e.empty()) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), n);
    if (ec != std::errc() || end != e.data() + e.size())
      return unexpected("bad expires in " + column(cols.expires, "expires") + " (seconds, 0 to 4294967295)");
    row.expires = n;
  }
  return {};
}

}  // namespace

expected<account_row, row_error> validate_row(const columns& cols, const csv_record& rec,
                                              const std::function<const char*(const char*)>& getenv) {
  const row_fields field{rec};
  if (rec.error) return unexpected(row_error{*rec.error, {}, {}});
  // A row may stop before trailing columns (a missing label or expires reads as empty), but
  // not before the aor; with more fields than the header, no column can be trusted.
  if (rec.fields.size() > cols.count || rec.fields.size() <= *cols.aor)
    return unexpected(row_error{
        "expected " + std::to_string(cols.count) + " fields as in the header, got " + std::to_string(rec.fields.size()), {}, {}});
  account_row row;
  row.number = rec.number;
  row.label = field(cols.label);
  row.aor = trim(field(cols.aor));
  auto fail = [&row](std::string reason) {
    return unexpected(row_error{std::move(reason), std::move(row.label), std::move(row.aor)});
  };
  if (row.aor.empty()) return fail("empty aor");
  // What is not an AOR, or carries a password, is not echoed in the result line: it may
  // be a password in the wrong column.
  auto aor = registration::parse_aor(row.aor);
  if (!aor) {
    row.aor.clear();
    return fail("bad aor in " + column(cols.aor, "aor") + ": " + aor.error());
  }
  row.acct.aor = *std::move(aor);
  if (!row.acct.aor.password.empty()) {
    row.aor.clear();
    return fail("bad aor: it carries a password (user:password@host); put the password in its own column");
  }
  if (auto ok = read_secret(cols, field, rec.number, getenv, row.acct.credentials); !ok) return fail(ok.error());
  if (auto ok = read_settings(cols, field, row); !ok) return fail(ok.error());
  return row;
}

expected<void, std::string> duplicate_guard::check(const account_row& row) {
  // The AOR as the registrar sees it: scheme, user and host (host names are
  // case-insensitive, RFC 3261 §19.1.4).
  const auto& aor = row.acct.aor;
  std::string key;
  key.reserve(aor.user.size() + 1 + aor.host.size());
  key.append(aor.user).append(1, '@');
  for (char ch : aor.host) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const auto& c = row.acct.credentials;
  // The secret is hashed where it lies (no joined copy of the password is made), and the
  // parts are combined so that "ab"+"c" and "a"+"bc" differ.
  const std::hash<std::string_view> hash;
  auto combine = [](std::size_t seed, std::size_t v) { return seed ^ (v + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2)); };
  std::size_t h = c.ha1.empty() ? combine(1, hash(c.password)) : combine(2, hash(lower(c.ha1)));
  h = combine(h, hash(row.acct.auth_user));
  std::uint64_t fnv = 0xcbf29ce484222325ull;  // FNV-1a, independent of std::hash's MurmurHash
  for (unsigned char ch : key) fnv = (fnv ^ ch) * 0x100000001b3ull;
  auto [it, inserted] = seen_.try_emplace(aor_key{hash(key), fnv}, seen{h, row.number});
  if (inserted || it->second.secret_hash == h) return {};
  return unexpected("duplicate account: " + key + " already appears in row " + std::to_string(it->second.first_row) +
                    " with a different password");
}

}  // namespace probe::batch
