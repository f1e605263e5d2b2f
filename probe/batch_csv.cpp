#include "probe/batch_csv.hpp"

#include "probe/cli.hpp"

#include <charconv>
#include <string_view>

namespace probe {
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

bool csv_reader::next(csv_record& r) {
  auto* sb = in_.rdbuf();
  if (sb == nullptr) return false;
  if (!started_) {
    started_ = true;
    // A UTF-8 BOM (EF BB BF) some spreadsheets write before the header.
    if (sb->sgetc() == 0xEF) {
      sb->sbumpc();
      if (sb->sgetc() == 0xBB) {
        sb->sbumpc();
        if (sb->sgetc() == 0xBF) sb->sbumpc();
      }
    }
  }
  for (;;) {
    r.fields.clear();
    r.error.clear();
    r.number = ++number_;
    std::string field;
    bool in_quotes = false, after_quote = false, was_quoted = false, content = false, at_eof = false;
    std::size_t bytes = 0;
    auto fail = [&](const std::string& why) {
      if (r.error.empty()) r.error = why;
    };
    auto push = [&] {
      if (!r.error.empty()) return;
      if (r.fields.size() >= max_fields) return fail("more than " + std::to_string(max_fields) + " fields");
      r.fields.push_back(std::move(field));
    };
    for (;;) {
      int c = sb->sbumpc();
      if (c == eof) {
        at_eof = true;
        if (in_quotes) fail("unterminated quoted field");
        break;
      }
      if (++bytes > max_record_bytes) fail("record longer than " + std::to_string(max_record_bytes) + " bytes");
      const char ch = static_cast<char>(c);
      if (in_quotes) {
        content = true;
        if (ch == '"') {
          // RFC 4180 §2.7: a doubled quote inside a quoted field is one quote.
          if (sb->sgetc() == '"') {
            sb->sbumpc();
            if (r.error.empty()) field += '"';
          } else {
            in_quotes = false;
            after_quote = true;
          }
        } else if (r.error.empty()) {
          field += ch;
        }
        continue;
      }
      if (ch == '\r' && (sb->sgetc() == '\n' || sb->sgetc() == eof)) continue;
      if (ch == '\n') break;
      content = true;
      if (ch == ',') {
        push();
        field.clear();
        after_quote = was_quoted = false;
        continue;
      }
      if (after_quote) {
        fail("text after the closing quote of a field");
        continue;
      }
      if (ch == '"') {
        if (field.empty() && !was_quoted) in_quotes = was_quoted = true;
        else fail("quote inside an unquoted field");
        continue;
      }
      if (r.error.empty()) field += ch;
    }
    if (!content) {
      if (at_eof) {
        --number_;
        return false;
      }
      continue;  // an empty line
    }
    push();
    if (!r.error.empty()) r.fields.clear();
    return true;
  }
}

batch_columns parse_batch_header(const std::vector<std::string>& header) {
  batch_columns c;
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
      throw usage_error("accounts file: unknown column '" + header[i] +
                        "' in the header (known: aor, password, password_env, ha1, username, realm, "
                        "registrar, transport, expires, label)");
    if (slot->has_value()) throw usage_error("accounts file: column '" + name + "' appears twice in the header");
    *slot = i;
  }
  if (!c.aor) throw usage_error("accounts file: the header has no 'aor' column");
  if (!c.password && !c.password_env && !c.ha1)
    throw usage_error("accounts file: the header has none of the columns 'password', 'password_env', 'ha1'");
  return c;
}

row_validation validate_batch_row(const batch_columns& cols, const csv_record& rec,
                                  const std::function<const char*(const char*)>& getenv) {
  row_validation v;
  // Views into the record: a row's fields are copied once, into the row.
  auto field = [&](const std::optional<std::size_t>& col) -> std::string_view {
    return col && *col < rec.fields.size() ? std::string_view(rec.fields[*col]) : std::string_view();
  };
  if (!rec.error.empty()) {
    v.error = rec.error;
    return v;
  }
  v.label = field(cols.label);
  v.aor = trim(field(cols.aor));
  if (rec.fields.size() != cols.count) {
    v.error = "expected " + std::to_string(cols.count) + " fields as in the header, got " + std::to_string(rec.fields.size());
    v.label.clear();
    v.aor.clear();
    return v;
  }
  batch_row row;
  row.number = rec.number;
  if (v.aor.empty()) {
    v.error = "empty aor";
    return v;
  }
  try {
    row.acct.aor = parse_aor(v.aor);
  } catch (const usage_error& e) {
    v.error = std::string("bad aor: ") + e.what();
    return v;
  }
  if (!row.acct.aor.password.empty()) {
    // Never echo it: the result line would carry the password.
    v.aor.clear();
    v.error = "bad aor: it carries a password (user:password@host); put the password in its own column";
    return v;
  }
  const std::string_view password = field(cols.password);
  const std::string_view password_env = trim(field(cols.password_env));
  const std::string_view ha1 = trim(field(cols.ha1));
  const int given = !password.empty() + !password_env.empty() + !ha1.empty();
  if (given == 0) {
    v.error = "missing password (none of password, password_env, ha1 is filled in)";
    return v;
  }
  if (given > 1) {
    v.error = "more than one of password, password_env, ha1 is filled in";
    return v;
  }
  if (!password.empty()) {
    row.acct.credentials.password = password;
    row.acct.credentials.source = "accounts file, row " + std::to_string(rec.number);
  } else if (!password_env.empty()) {
    const std::string name(password_env);
    const char* value = getenv ? getenv(name.c_str()) : nullptr;
    if (value == nullptr || *value == '\0') {
      v.error = "missing password: environment variable " + name + " is not set";
      return v;
    }
    row.acct.credentials.password = value;
    row.acct.credentials.source = "environment variable " + name;
  } else {
    if (!is_hex(ha1) || (ha1.size() != 32 && ha1.size() != 64)) {
      v.error = "bad ha1: not 32 or 64 hex digits";
      return v;
    }
    row.acct.credentials.ha1 = ha1;
    row.acct.credentials.source = "HA1 from the accounts file, row " + std::to_string(rec.number);
  }
  row.acct.auth_user = trim(field(cols.username));
  row.acct.expected_realm = trim(field(cols.realm));
  row.registrar = trim(field(cols.registrar));
  if (const auto t = trim(field(cols.transport)); !t.empty()) {
    row.transport = netcheck::transport_from_string(t);
    if (!row.transport) {
      v.error = "unknown transport '" + std::string(t) + "' (udp, tcp or tls)";
      return v;
    }
  }
  if (const auto e = trim(field(cols.expires)); !e.empty()) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), n);
    if (ec != std::errc() || end != e.data() + e.size()) {
      v.error = "bad expires '" + std::string(e) + "' (seconds, 0 to 4294967295)";
      return v;
    }
    row.expires = n;
  }
  row.label = std::move(v.label);  // a usable row's result line is made from the row
  row.aor = std::move(v.aor);
  v.row = std::move(row);
  return v;
}

std::string duplicate_guard::check(const batch_row& row) {
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
  return "duplicate account: " + key + " already appears in row " + std::to_string(it->second.first_row) +
         " with a different password";
}

}  // namespace probe
