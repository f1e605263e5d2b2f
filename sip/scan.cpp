#include "sip/scan.hpp"

#include "sip/detail/byte_scan.hpp"
#include "sip/error.hpp"

namespace sip {

bool detail::iequals_any_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    // Different bytes match only as the two cases of one letter (0x20 apart).
    const auto lx = static_cast<unsigned char>(x | 0x20);
    if (lx != (y | 0x20) || lx < 'a' || lx > 'z') return false;
  }
  return true;
}

std::size_t find_control(const char* p, std::size_t from, std::size_t stop) noexcept {
  return detail::find_control(p, from, stop);
}

namespace {
bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

// Length of LWS at the start of s: WSP, or CRLF/LF followed by WSP (RFC 3261 §7.3.1).
std::size_t lws_len(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    if (is_ws(s[i])) {
      ++i;
      continue;
    }
    std::size_t eol = 0;
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') eol = 2;
    else if (s[i] == '\n') eol = 1;
    if (eol != 0 && i + eol < s.size() && is_ws(s[i + eol])) {
      i += eol;
      continue;
    }
    break;
  }
  return i;
}
}  // namespace

std::string_view skip_lws(std::string_view s) noexcept { return s.substr(lws_len(s)); }

std::string_view trim_lws(std::string_view s) noexcept {
  s = skip_lws(s);
  while (!s.empty() && (is_ws(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::error_code read_quoted(std::string_view s, std::string_view& raw, std::string_view& rest) {
  s = skip_lws(s);
  if (s.empty() || s.front() != '"') return errc::bad_quoted_string;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // quoted-pair: skip the escaped byte (RFC 3261 §25.1)
      continue;
    }
    if (s[i] == '"') {
      raw = s.substr(1, i - 1);
      rest = s.substr(i + 1);
      return {};
    }
  }
  return errc::bad_quoted_string;
}

std::string unescape_quoted(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    out.push_back(raw[i]);
  }
  return out;
}

namespace {

// The bytes that change the state of the comma split.
inline constexpr auto comma_stop = [] {
  std::array<bool, 256> t{};
  for (char c : {'"', '<', '>', ','}) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// Calls `take(element)` for each non-empty top-level element until it returns false.
template <class Take>
std::error_code each_comma_element(std::string_view value, Take take) {
  std::size_t start = 0;
  bool in_quote = false;
  bool in_angle = false;
  auto emit = [&](std::size_t end) {
    auto part = trim_lws(value.substr(start, end - start));
    return part.empty() || take(part);
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    // Outside quotes most bytes are none of " < > , — skip them by table.
    if (!in_quote)
      while (i < value.size() && !comma_stop[static_cast<unsigned char>(value[i])]) ++i;
    if (i == value.size()) break;
    char c = value[i];
    if (in_quote) {
      if (c == '\\') ++i;
      else if (c == '"') in_quote = false;
      continue;
    }
    if (c == '"') in_quote = true;
    else if (c == '<') in_angle = true;
    else if (c == '>') in_angle = false;
    else if (c == ',' && !in_angle) {
      if (!emit(i)) return {};
      start = i + 1;
    }
  }
  if (in_quote) return errc::bad_quoted_string;
  emit(value.size());
  return {};
}

}  // namespace

std::error_code split_commas(std::string_view value, std::vector<std::string_view>& out) {
  return each_comma_element(value, [&out](std::string_view part) {
    out.push_back(part);
    return true;
  });
}

std::error_code first_comma_element(std::string_view value, std::string_view& out) {
  out = {};
  return each_comma_element(value, [&out](std::string_view part) {
    out = part;
    return false;
  });
}

namespace {

// Calls `take(p)` for each `;name[=value]` parameter until it returns false.
template <class Take>
std::error_code each_param(std::string_view s, Take take) {
  s = trim_lws(s);
  while (!s.empty()) {
    if (s.front() != ';') return errc::bad_parameter;
    s = skip_lws(s.substr(1));
    std::size_t n = 0;
    while (n < s.size() && is_token_char(s[n])) ++n;
    if (n == 0) return errc::bad_parameter;
    param p;
    p.name = s.substr(0, n);
    s = skip_lws(s.substr(n));
    if (!s.empty() && s.front() == '=') {
      s = skip_lws(s.substr(1));
      p.has_value = true;
      if (!s.empty() && s.front() == '"') {
        std::string_view rest;
        if (auto ec = read_quoted(s, p.value, rest)) return ec;
        p.quoted = true;
        s = rest;
      } else {
        // token, or an IPv6 reference / host for received= and maddr= (RFC 3261 §20.42)
        std::size_t m = 0;
        while (m < s.size() && (is_token_char(s[m]) || s[m] == ':' || s[m] == '[' || s[m] == ']' || s[m] == '/' || s[m] == '@'))
          ++m;
        if (m == 0) return errc::bad_parameter;
        p.value = s.substr(0, m);
        s = s.substr(m);
      }
    }
    if (!take(p)) return {};
    s = skip_lws(s);
  }
  return {};
}

}  // namespace

std::error_code parse_params(std::string_view s, std::vector<param>& out) {
  return each_param(s, [&out](const param& p) {
    out.push_back(p);
    return true;
  });
}

std::error_code first_param(std::string_view s, std::string_view name, std::optional<param>& out) {
  out.reset();
  return each_param(s, [&](const param& p) {
    if (!iequals(p.name, name)) return true;
    out = p;
    return false;
  });
}

const param* find_param(const std::vector<param>& ps, std::string_view name) noexcept {
  for (const auto& p : ps)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) noexcept {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    unsigned d = static_cast<unsigned>(c - '0');
    // v * 10 + d > max, without wrapping (d > max when max < 9; v * 10 fits once v <=
    // max / 10), and with no division per digit: max / 10 stays out of the loop.
    if (d > max || v > max / 10 || v * 10 > max - d) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace sip
