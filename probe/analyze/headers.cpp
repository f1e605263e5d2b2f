// What the analysis reads of REGISTER traffic (see headers.hpp).
#include "probe/analyze/headers.hpp"

#include "sip/headers.hpp"
#include "sip/scan.hpp"

#include <algorithm>

namespace probe::analyze {

std::optional<sip::digest_credentials> credentials(const sip::message_view& m, bool* proxy) {
  std::vector<std::string_view> values;
  bool is_proxy = false;
  if (sip::get::authorization(m, values) || values.empty()) {
    values.clear();
    if (sip::get::proxy_authorization(m, values) || values.empty()) return std::nullopt;
    is_proxy = true;
  }
  sip::digest_credentials cr;
  if (sip::parse_credentials(values.front(), cr)) return std::nullopt;
  if (proxy) *proxy = is_proxy;
  return cr;
}

std::vector<sip::digest_challenge> challenges(const sip::message_view& m) {
  std::vector<std::string_view> values;
  std::vector<sip::digest_challenge> out;
  if (m.status == 407) (void)sip::get::proxy_authenticate(m, values);
  else (void)sip::get::www_authenticate(m, values);
  for (auto v : values) (void)sip::parse_challenges(v, out);
  return out;
}

std::int64_t requested_expires(const sip::message_view& m) {
  std::vector<sip::name_addr> cs;
  bool star = false;
  if (!sip::get::contacts(m, cs, star) && !cs.empty())
    if (auto e = cs.front().expires()) return *e;
  std::uint32_t e = 0;
  if (!sip::get::expires(m, e)) return e;
  return -1;
}

bool is_removal(const sip::message_view& m) {
  std::vector<sip::name_addr> cs;
  bool star = false;
  if (sip::get::contacts(m, cs, star)) return false;
  if (star) return true;
  if (cs.empty()) return false;
  std::uint32_t header = 0;
  const bool has_header = !sip::get::expires(m, header);
  return std::all_of(cs.begin(), cs.end(), [&](const sip::name_addr& c) {
    const auto e = c.expires();
    return e ? *e == 0 : has_header && header == 0;
  });
}

std::optional<sip::name_addr> first_contact(const sip::message_view& m) {
  std::vector<sip::name_addr> cs;
  bool star = false;
  if (sip::get::contacts(m, cs, star) || cs.empty() || star) return std::nullopt;
  return cs.front();
}

std::string contact_key(const sip::name_addr& c) {
  std::string hp = c.addr.host;
  hp += ":" + std::to_string(c.addr.port == 0 ? (c.addr.scheme == "sips" ? 5061 : 5060) : c.addr.port);
  return c.addr.user + "@" + hp;
}

std::string_view scan_header(std::string_view bytes, std::string_view name, std::string_view compact) {
  std::size_t pos = bytes.find('\n');  // the start line is no header
  while (pos != std::string_view::npos && pos + 1 < bytes.size()) {
    const std::size_t start = pos + 1;
    const std::size_t end = std::min(bytes.find('\n', start), bytes.size());
    std::string_view line = bytes.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header section
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      const auto n = sip::trim_lws(line.substr(0, colon));
      if (sip::iequals(n, name) || (!compact.empty() && sip::iequals(n, compact))) return sip::trim_lws(line.substr(colon + 1));
    }
    pos = end;
  }
  return {};
}

bool reason_names_nonce(std::string_view raw) noexcept {
  const auto eol = raw.find('\n');
  std::string_view line = raw.substr(0, eol);
  if (line.size() < 12 || !sip::iequals(line.substr(0, 8), "SIP/2.0 ")) return false;
  const std::string_view reason = line.substr(12);
  for (std::size_t i = 0; i + 5 <= reason.size(); ++i)
    if (sip::iequals(reason.substr(i, 5), "nonce") || sip::iequals(reason.substr(i, 5), "stale")) return true;
  return false;
}

}  // namespace probe::analyze
