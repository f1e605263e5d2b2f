#include "sip/message.hpp"

#include "sip/scan.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>

namespace sip {
namespace {

struct header_info {
  std::string_view name;
  char compact;  // '\0' when the header has no compact form
  bool list;
};

// Indexed by header_id. Compact forms: RFC 3261 §7.3.3 (i m e l c f s k t v), RFC 6665
// (o u), RFC 3515 (r), RFC 3892 (b), RFC 4028 (x), RFC 3841 (a j d), RFC 4474 (y n).
constexpr std::array<header_info, static_cast<std::size_t>(header_id::count_)> table{{
    {"", '\0', false},
    {"Via", 'v', true},
    {"From", 'f', false},
    {"To", 't', false},
    {"Call-ID", 'i', false},
    {"CSeq", '\0', false},
    {"Contact", 'm', true},
    {"Max-Forwards", '\0', false},
    {"Expires", '\0', false},
    {"Min-Expires", '\0', false},
    {"Content-Length", 'l', false},
    {"Content-Type", 'c', false},
    {"Content-Encoding", 'e', true},
    {"Content-Disposition", '\0', false},
    {"Content-Language", '\0', true},
    {"WWW-Authenticate", '\0', false},
    {"Proxy-Authenticate", '\0', false},
    {"Authorization", '\0', false},
    {"Proxy-Authorization", '\0', false},
    {"Authentication-Info", '\0', false},
    {"Retry-After", '\0', false},
    {"User-Agent", '\0', false},
    {"Server", '\0', false},
    {"Allow", '\0', true},
    {"Supported", 'k', true},
    {"Require", '\0', true},
    {"Proxy-Require", '\0', true},
    {"Unsupported", '\0', true},
    {"Route", '\0', true},
    {"Record-Route", '\0', true},
    {"Path", '\0', true},
    {"Service-Route", '\0', true},
    {"Subject", 's', false},
    {"Event", 'o', false},
    {"Allow-Events", 'u', true},
    {"Refer-To", 'r', false},
    {"Referred-By", 'b', false},
    {"Session-Expires", 'x', false},
    {"Min-SE", '\0', false},
    {"Accept", '\0', true},
    {"Accept-Encoding", '\0', true},
    {"Accept-Language", '\0', true},
    {"Accept-Contact", 'a', true},
    {"Reject-Contact", 'j', true},
    {"Request-Disposition", 'd', true},
    {"Identity", 'y', false},
    {"Identity-Info", 'n', false},
    {"Date", '\0', false},
    {"Warning", '\0', true},
    {"Timestamp", '\0', false},
    {"Organization", '\0', false},
    {"Priority", '\0', false},
    {"Reply-To", '\0', false},
    {"In-Reply-To", '\0', true},
    {"Alert-Info", '\0', true},
    {"Call-Info", '\0', true},
    {"Error-Info", '\0', true},
    {"MIME-Version", '\0', false},
    {"P-Asserted-Identity", '\0', true},
    {"P-Preferred-Identity", '\0', true},
    {"Privacy", '\0', false},
    {"Reason", '\0', true},
    {"RSeq", '\0', false},
    {"RAck", '\0', false},
    {"Subscription-State", '\0', false},
    {"Security-Client", '\0', true},
    {"Security-Server", '\0', true},
    {"Security-Verify", '\0', true},
}};

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Maps 'a'..'z' to the id with that compact form.
constexpr std::array<header_id, 26> make_compact() {
  std::array<header_id, 26> out{};
  for (std::size_t i = 1; i < table.size(); ++i)
    if (table[i].compact != '\0') out[static_cast<std::size_t>(table[i].compact - 'a')] = static_cast<header_id>(i);
  return out;
}
constexpr auto compact_ids = make_compact();

// Full names in an open-addressing table keyed by length and first and last letter, so a
// lookup compares about one name (the parser looks up every header it reads).
constexpr std::size_t name_slots = 256;  // a power of two, well above the 68 names
constexpr std::size_t name_slot(std::string_view name) noexcept {
  return (name.size() * 37 + static_cast<unsigned char>(lower(name.front())) * 7 +
          static_cast<unsigned char>(lower(name.back())) * 3) &
         (name_slots - 1);
}
constexpr std::array<std::uint8_t, name_slots> make_names() {
  std::array<std::uint8_t, name_slots> slots{};  // 0 (`other`): empty
  for (std::size_t i = 1; i < table.size(); ++i) {
    std::size_t h = name_slot(table[i].name);
    while (slots[h] != 0) h = (h + 1) & (name_slots - 1);
    slots[h] = static_cast<std::uint8_t>(i);
  }
  return slots;
}
constexpr auto name_ids = make_names();

template <class T>
T load(const char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The usual spelling of a name, as two words: its first and last 8 bytes (4, or 2, for a
// shorter name; they overlap). A name in a message is looked up by the same two loads,
// one hash and one compare; anything else (another case, a compact form, an unknown
// name, a name over 16 bytes) takes the table walk below.
struct spelling {
  std::uint64_t head = 0, tail = 0;
  std::uint8_t size = 0;  // 0: empty
  header_id id = header_id::other;
};
constexpr std::size_t spelling_slots = 1024;

constexpr std::uint64_t word(std::string_view s, std::size_t at, std::size_t n) noexcept {
  std::uint64_t w = 0;  // what load<> gives on this machine
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<std::uint64_t>(static_cast<unsigned char>(s[at + i]));
    w |= std::endian::native == std::endian::little ? b << (8 * i) : b << (8 * (n - 1 - i));
  }
  return w;
}
constexpr std::size_t word_size(std::size_t n) noexcept { return n >= 8 ? 8 : n >= 4 ? 4 : 2; }
constexpr std::size_t spelling_slot(std::uint64_t head, std::uint64_t tail, std::size_t n) noexcept {
  return static_cast<std::size_t>(((head ^ (tail * 0x9E3779B97F4A7C15ull) ^ n) * 0x9FB21C651E98DF25ull) >> 54) &
         (spelling_slots - 1);
}
constexpr std::array<spelling, spelling_slots> make_spellings() {
  std::array<spelling, spelling_slots> slots{};
  for (std::size_t i = 1; i < table.size(); ++i) {
    const auto name = table[i].name;
    if (name.size() < 2 || name.size() > 16) continue;
    const std::size_t w = word_size(name.size());
    spelling e{word(name, 0, w), word(name, name.size() - w, w), static_cast<std::uint8_t>(name.size()),
               static_cast<header_id>(i)};
    auto& slot = slots[spelling_slot(e.head, e.tail, name.size())];
    if (slot.size == 0) slot = e;  // a collision leaves the later name to the table walk
  }
  return slots;
}
constexpr auto spellings = make_spellings();
// The hash keeps every name of 2 to 16 bytes in its own slot.
static_assert([] {
  std::size_t placed = 0, fit = 0;
  for (const auto& e : spellings) placed += e.size != 0;
  for (std::size_t i = 1; i < table.size(); ++i) fit += table[i].name.size() >= 2 && table[i].name.size() <= 16;
  return placed == fit;
}());

// a[0, n) == b[0, n) by words, overlapping at the end: names usually come spelled as in
// the table, and a byte loop over them cost more than the rest of the lookup.
bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (load<std::uint64_t>(a + i) != load<std::uint64_t>(b + i)) return false;
    return load<std::uint64_t>(a + n - 8) == load<std::uint64_t>(b + n - 8);
  }
  if (n >= 4)
    return load<std::uint32_t>(a) == load<std::uint32_t>(b) && load<std::uint32_t>(a + n - 4) == load<std::uint32_t>(b + n - 4);
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

bool inside(std::string_view outer, std::string_view v) noexcept {
  std::less_equal<const char*> le;
  return v.data() != nullptr && le(outer.data(), v.data()) && le(v.data() + v.size(), outer.data() + outer.size());
}

std::string_view rebase(std::string_view v, std::string_view from, const char* to) noexcept {
  if (!inside(from, v)) return {};
  return {to + (v.data() - from.data()), v.size()};
}

message_view rebased(const message_view& v, const char* to) {
  message_view out;
  out.raw = {to, v.raw.size()};
  out.method = rebase(v.method, v.raw, to);
  out.request_uri = rebase(v.request_uri, v.raw, to);
  out.version = rebase(v.version, v.raw, to);
  out.status = v.status;
  out.reason = rebase(v.reason, v.raw, to);
  out.body = rebase(v.body, v.raw, to);
  out.headers.reserve(v.headers.size());
  for (const auto& h : v.headers) out.headers.push_back({rebase(h.name, v.raw, to), rebase(h.value, v.raw, to), h.id});
  return out;
}

// Everything but the usual spelling: kept out of lookup_header, whose fast path then
// needs no registers saved.
[[gnu::noinline]] header_id lookup_other(std::string_view name) noexcept {
  if (name.size() == 1) {
    char c = lower(name[0]);
    return (c >= 'a' && c <= 'z') ? compact_ids[static_cast<std::size_t>(c - 'a')] : header_id::other;
  }
  if (name.empty()) return header_id::other;
  for (std::size_t h = name_slot(name); name_ids[h] != 0; h = (h + 1) & (name_slots - 1)) {
    const auto full = table[name_ids[h]].name;
    if (full.size() != name.size()) continue;
    if (same_bytes(name.data(), full.data(), name.size())) return static_cast<header_id>(name_ids[h]);
    std::size_t i = 0;
    while (i < name.size() && lower(name[i]) == lower(full[i])) ++i;
    if (i == name.size()) return static_cast<header_id>(name_ids[h]);
  }
  return header_id::other;
}

}  // namespace

header_id lookup_header(std::string_view name) noexcept {
  const std::size_t n = name.size();
  if (n >= 2 && n <= 16) {
    std::uint64_t head = 0, tail = 0;
    if (n >= 8) head = load<std::uint64_t>(name.data()), tail = load<std::uint64_t>(name.data() + n - 8);
    else if (n >= 4) head = load<std::uint32_t>(name.data()), tail = load<std::uint32_t>(name.data() + n - 4);
    else head = load<std::uint16_t>(name.data()), tail = load<std::uint16_t>(name.data() + n - 2);
    const auto& e = spellings[spelling_slot(head, tail, n)];
    if (e.size == n && e.head == head && e.tail == tail) return e.id;
  }
  return lookup_other(name);
}

std::string_view canonical_name(header_id id) noexcept {
  auto i = static_cast<std::size_t>(id);
  return i < table.size() ? table[i].name : std::string_view{};
}

bool is_list_header(header_id id) noexcept {
  auto i = static_cast<std::size_t>(id);
  return i < table.size() && table[i].list;
}

const header_view* message_view::find(header_id id) const noexcept {
  for (const auto& h : headers)
    if (h.id == id) return &h;
  return nullptr;
}

const header_view* message_view::find(std::string_view name) const noexcept {
  header_id id = lookup_header(name);
  if (id != header_id::other) return find(id);
  for (const auto& h : headers)
    if (h.id == header_id::other && iequals(h.name, name)) return &h;
  return nullptr;
}

std::size_t message_view::count(header_id id) const noexcept {
  std::size_t n = 0;
  for (const auto& h : headers) n += h.id == id ? 1 : 0;
  return n;
}

std::error_code message_view::values(header_id id, std::vector<std::string_view>& out) const {
  for (const auto& h : headers) {
    if (h.id != id) continue;
    if (is_list_header(id)) {
      if (auto ec = split_commas(h.value, out)) return ec;
    } else {
      out.push_back(h.value);
    }
  }
  return {};
}

std::error_code message_view::values(std::string_view name, std::vector<std::string_view>& out) const {
  header_id id = lookup_header(name);
  if (id != header_id::other) return values(id, out);
  for (const auto& h : headers)
    if (h.id == header_id::other && iequals(h.name, name)) out.push_back(h.value);
  return {};
}

void message_view::clear() noexcept {
  raw = method = request_uri = version = reason = body = {};
  status = 0;
  headers.clear();
}

// The views point into bytes_, so bytes_ must keep its buffer when the owned_message
// moves: a string in its own (heap) buffer hands that buffer over on a move, a short one
// kept inside the string object would not. Hence at least 16 bytes of capacity, which is
// more than any string keeps inside itself.
constexpr std::size_t heap_capacity = 16;

owned_message::owned_message(const message_view& v) {
  bytes_.reserve(std::max(v.raw.size(), heap_capacity));
  bytes_.assign(v.raw);
  view_ = rebased(v, bytes_.data());
}

owned_message::owned_message(std::string&& bytes, message_view&& v) {
  const char* before = bytes.data();
  const std::size_t offset = static_cast<std::size_t>(v.raw.data() - before);
  bytes_ = std::move(bytes);
  if (bytes_.capacity() < heap_capacity) bytes_.reserve(heap_capacity);
  if (bytes_.data() == before) view_ = std::move(v);
  else view_ = rebased(v, bytes_.data() + offset);
}

owned_message::owned_message(const owned_message& o) : owned_message(o.view_) {}

owned_message& owned_message::operator=(const owned_message& o) {
  if (this != &o) *this = owned_message(o);
  return *this;
}

owned_message::owned_message(owned_message&& o) noexcept : bytes_(std::move(o.bytes_)), view_(std::move(o.view_)) {
  o.view_.clear();
}

owned_message& owned_message::operator=(owned_message&& o) noexcept {
  if (this != &o) {
    bytes_ = std::move(o.bytes_);
    view_ = std::move(o.view_);
    o.view_.clear();
  }
  return *this;
}

owned_message to_owned(const message_view& v) { return owned_message(v); }

std::string serialize(const message_view& v) {
  std::string s;
  s.reserve(v.raw.size() + 64);
  if (v.is_request()) {
    s.append(v.method).append(" ").append(v.request_uri).append(" ").append(v.version);
  } else {
    s.append(v.version).append(" ").append(std::to_string(v.status)).append(" ").append(v.reason);
  }
  s.append("\r\n");
  for (const auto& h : v.headers) {
    s.append(h.id == header_id::other ? h.name : canonical_name(h.id)).append(": ");
    // RFC 3261 §7.3.1: a folded line break is LWS; dropping the CR/LF keeps the
    // following SP/HTAB, which is the same value unfolded.
    for (char c : h.value)
      if (c != '\r' && c != '\n') s.push_back(c);
    s.append("\r\n");
  }
  s.append("\r\n");
  s.append(v.body);
  return s;
}

}  // namespace sip
