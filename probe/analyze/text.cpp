// Text traces: format detection and the line state machine (see input.hpp).
#include "probe/analyze/input.hpp"

#include "sip/parse.hpp"
#include "sip/scan.hpp"
#include "sip/uri.hpp"

#include <array>
#include <cstring>
#include <vector>

namespace probe::analyze {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool starts_with_icase(std::string_view s, std::string_view p) noexcept {
  return s.size() >= p.size() && iequals(s.substr(0, p.size()), p);
}

std::size_t leading_space(std::string_view l) noexcept {
  std::size_t i = 0;
  while (i < l.size() && is_space(l[i])) ++i;
  return i;
}

// RFC 3261 §7.1 Request-Line / §7.2 Status-Line, as people paste them.
bool is_start_line(std::string_view l) noexcept {
  l = trim(l);
  if (starts_with_icase(l, "SIP/2.0 ")) {
    auto rest = l.substr(8);
    return rest.size() >= 3 && is_digit(rest[0]) && is_digit(rest[1]) && is_digit(rest[2]) &&
           (rest.size() == 3 || rest[3] == ' ');
  }
  auto sp = l.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp > 32) return false;
  for (std::size_t i = 0; i < sp; ++i)
    if (!sip::is_token_char(l[i]) || l[i] == '.') return false;
  if (!is_alpha(l[0])) return false;
  auto rest = l.substr(sp + 1);
  auto sp2 = rest.rfind(' ');
  if (sp2 == std::string_view::npos || sp2 == 0) return false;
  if (!iequals(rest.substr(sp2 + 1), "SIP/2.0")) return false;
  auto uri = rest.substr(0, sp2);
  return uri.find(':') != std::string_view::npos && uri.find(' ') == std::string_view::npos;
}

// "Name: value" with a name that starts with a letter (so "10.0.0.5:5060 -> …" is not one).
bool looks_like_header(std::string_view l) noexcept {
  if (l.empty() || !is_alpha(l[0])) return false;
  std::size_t i = 0;
  while (i < l.size() && sip::is_token_char(l[i])) ++i;
  while (i < l.size() && is_space(l[i])) ++i;
  return i < l.size() && l[i] == ':';
}

bool only_of(std::string_view l, std::string_view chars, std::size_t min) noexcept {
  if (l.size() < min) return false;
  return l.find_first_not_of(chars) == std::string_view::npos;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int two_digits(std::string_view s, std::size_t at) noexcept { return (s[at] - '0') * 10 + (s[at + 1] - '0'); }

// One address as log lines write it: "10.0.0.5:5060", "UDP:10.0.0.5:5060",
// "udp/[10.0.0.5]:5060", "[2001:db8::1]:5060". `strict` requires an IP literal.
bool parse_address(std::string_view tok, std::string& out, std::string& transport, bool strict) {
  while (!tok.empty() && (tok.back() == ',' || tok.back() == ':' || tok.back() == ')' || tok.back() == '.')) tok.remove_suffix(1);
  while (!tok.empty() && (tok.front() == '(' || tok.front() == '"')) tok.remove_prefix(1);
  for (std::string_view p : {"udp/", "tcp/", "tls/", "ws/", "wss/", "sctp/", "udp:", "tcp:", "tls:", "wss:", "ws:"}) {
    if (starts_with_icase(tok, p)) {
      transport.assign(tok.substr(0, p.size() - 1));
      for (auto& c : transport) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      tok.remove_prefix(p.size());
      break;
    }
  }
  std::string_view host, port;
  if (!tok.empty() && tok.front() == '[') {
    auto close = tok.find(']');
    if (close == std::string_view::npos) return false;
    host = tok.substr(1, close - 1);
    auto rest = tok.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else {
    auto colon = tok.rfind(':');
    if (colon != std::string_view::npos && tok.find(':') == colon) {
      host = tok.substr(0, colon);
      port = tok.substr(colon + 1);
    } else {
      host = tok;
    }
  }
  if (host.empty() || port.size() > 5) return false;
  for (char c : port)
    if (!is_digit(c)) return false;
  const bool v4 = sip::detail::is_ipv4_literal(host);
  const bool v6 = sip::detail::is_ipv6_literal(host);
  if (!v4 && !v6 && (strict || !sip::detail::is_hostname(host))) return false;
  out.clear();
  if (v6) out.append("[").append(host).append("]");
  else out.append(host);
  if (!port.empty()) out.append(":").append(port);
  return true;
}

std::vector<std::string_view> tokens(std::string_view l) {
  std::vector<std::string_view> t;
  std::size_t i = 0;
  while (i < l.size()) {
    while (i < l.size() && is_space(l[i])) ++i;
    std::size_t s = i;
    while (i < l.size() && !is_space(l[i])) ++i;
    if (i > s) t.push_back(l.substr(s, i - s));
  }
  return t;
}

struct marker {
  std::string src, dst, transport;
  bool addresses = false;
};

// "recv 512 bytes from udp/[10.0.0.5]:5060 at 10:00:00.123456:" / "send … to …".
bool fslog_marker(std::string_view l, marker& m) {
  auto t = tokens(l);
  for (std::size_t i = 0; i + 4 < t.size(); ++i) {
    bool recv = t[i] == "recv", send = t[i] == "send";
    if (!recv && !send) continue;
    if (t[i + 2] != "bytes" || (recv && t[i + 3] != "from") || (send && t[i + 3] != "to")) continue;
    bool digits = !t[i + 1].empty();
    for (char c : t[i + 1]) digits = digits && is_digit(c);
    if (!digits) continue;
    std::string a;
    if (!parse_address(t[i + 4], a, m.transport, false)) return false;
    (recv ? m.src : m.dst) = a;
    m.addresses = true;
    return true;
  }
  return false;
}

// Asterisk: pjsip "<--- Received SIP request (512 bytes) from UDP:10.0.0.5:5060 --->",
// "<--- Transmitting SIP response (…) to UDP:… --->", chan_sip "<--- SIP read from UDP:… --->",
// "<--- Transmitting (NAT) to 10.0.0.5:5060 --->", "<--- Reliably Transmitting (no NAT) to … --->".
bool asterisk_marker(std::string_view l, marker& m) {
  auto at = l.find("<--- ");
  if (at == std::string_view::npos) return false;
  auto rest = l.substr(at + 5);
  if (rest.find("--->") == std::string_view::npos) return false;
  auto t = tokens(rest);
  for (std::size_t i = 0; i + 1 < t.size(); ++i) {
    if (t[i] == "from" || t[i] == "to") {
      std::string a;
      if (parse_address(t[i + 1], a, m.transport, false)) {
        (t[i] == "from" ? m.src : m.dst) = a;
        m.addresses = true;
      }
    }
  }
  return true;
}

// ngrep ("U 10.0.0.5:5060 -> 198.51.100.7:5060", "T …"), sngrep's export
// ("2024/05/01 10:00:00.123456 10.0.0.5:5060 -> …") and pasted arrows.
bool arrow_marker(std::string_view l, marker& m, bool ngrep) {
  auto t = tokens(l);
  if (t.empty()) return false;
  const bool ngrep_head = ngrep && (t[0] == "U" || t[0] == "T");
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto a = t[i];
    const bool right = a == "->" || a == "-->" || a == "→" || a == "=>";
    const bool left = a == "<-" || a == "<--" || a == "←" || a == "<=";
    if (!right && !left) continue;
    std::string x, y, tr;
    const bool strict = !ngrep_head;
    const bool hx = i > 0 && parse_address(t[i - 1], x, tr, strict);
    std::size_t after = i + 1;
    if (after < t.size() && (t[after] == "to" || t[after] == "from")) ++after;  // "--> to 1.2.3.4:5060"
    const bool hy = after < t.size() && parse_address(t[after], y, tr, strict);
    if (!hx && !hy) continue;
    if (right) m.src = x, m.dst = y;
    else m.src = y, m.dst = x;
    m.transport = ngrep_head ? (t[0] == "U" ? "udp" : "tcp") : tr;
    m.addresses = true;
    return true;
  }
  return false;
}

bool is_separator(std::string_view l) noexcept {
  l = trim(l);
  return only_of(l, "#", 1) || only_of(l, "-", 5) || only_of(l, "=", 5) ||
         (l.size() >= 5 && l.front() == '<' && l.back() == '>' && only_of(l, "<->", 5));
}

// The Content-Length a message's lines announce (the last one; digits up to 2^24), 0 when
// none does.
std::int64_t announced_length(std::string_view msg) {
  std::int64_t cl = 0;
  std::size_t pos = 0;
  while (pos < msg.size()) {
    auto e = msg.find("\r\n", pos);
    auto h = msg.substr(pos, e - pos);
    pos = e == std::string_view::npos ? msg.size() : e + 2;
    auto colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = trim(h.substr(0, colon));
    if (iequals(name, "Content-Length") || iequals(name, "l")) {
      cl = 0;
      for (char c : trim(h.substr(colon + 1))) {
        if (!is_digit(c) || cl > (1 << 24)) break;
        cl = cl * 10 + (c - '0');
      }
    }
  }
  return cl;
}

// Sets Content-Length to the body actually present: a pasted message's is not reliable.
void fix_content_length(std::string& msg) {
  auto end = msg.find("\r\n\r\n");
  if (end == std::string::npos) {
    msg += "\r\n";
    return;
  }
  const std::size_t body = msg.size() - (end + 4);
  std::size_t pos = msg.find("\r\n");  // skip the start line
  while (pos != std::string::npos && pos < end) {
    const std::size_t ls = pos + 2;
    const std::size_t le = msg.find("\r\n", ls);
    auto line = std::string_view(msg).substr(ls, le - ls);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      auto name = trim(line.substr(0, colon));
      if (iequals(name, "Content-Length") || iequals(name, "l")) {
        std::string value = " " + std::to_string(body);
        msg.replace(ls + colon + 1, le - (ls + colon + 1), value);
        return;
      }
    }
    pos = le;
  }
}

}  // namespace

trace_format detect_format(std::string_view head) noexcept {
  if (head.size() >= 4) {
    static constexpr std::array<std::array<unsigned char, 4>, 5> magics{{
        {0xd4, 0xc3, 0xb2, 0xa1},
        {0xa1, 0xb2, 0xc3, 0xd4},  // pcap, µs
        {0x4d, 0x3c, 0xb2, 0xa1},
        {0xa1, 0xb2, 0x3c, 0x4d},  // pcap, ns
        {0x0a, 0x0d, 0x0d, 0x0a},  // pcapng section header block
    }};
    for (const auto& m : magics)
      if (std::memcmp(head.data(), m.data(), 4) == 0) return trace_format::pcap;
  }
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto nl = head.find('\n', pos);
    auto l = trim(head.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? head.size() : nl + 1;
    if (l.empty()) continue;
    marker m;
    if (l.find("<--- ") != std::string_view::npos && asterisk_marker(l, m)) return trace_format::asterisk;
    if (fslog_marker(l, m)) return trace_format::fslog;
    if (starts_with_icase(l, "interface: ") || starts_with_icase(l, "filter: ") || starts_with_icase(l, "match: "))
      return trace_format::ngrep;
    if ((l.starts_with("U ") || l.starts_with("T ")) && arrow_marker(l, m, true)) return trace_format::ngrep;
    if (l.size() > 20 && is_digit(l[0]) && l[4] == '/' && arrow_marker(l, m, false)) return trace_format::sngrep;
  }
  return trace_format::text;
}

bool parse_log_time(std::string_view l, double& seconds, bool& absolute) noexcept {
  for (std::size_t i = 0; i + 8 <= l.size(); ++i) {
    if (!is_digit(l[i]) || (i > 0 && is_digit(l[i - 1]))) continue;
    std::size_t h = i;
    int hour = 0;
    if (is_digit(l[h + 1])) hour = two_digits(l, h), h += 2;
    else hour = l[h] - '0', h += 1;
    if (h + 6 > l.size() || l[h] != ':' || !is_digit(l[h + 1]) || !is_digit(l[h + 2]) || l[h + 3] != ':' || !is_digit(l[h + 4]) ||
        !is_digit(l[h + 5]))
      continue;
    if (h + 6 < l.size() && is_digit(l[h + 6])) continue;
    const int minute = two_digits(l, h + 1), sec = two_digits(l, h + 4);
    if (hour > 23 || minute > 59 || sec > 60) continue;
    double frac = 0, scale = 0.1;
    std::size_t f = h + 6;
    if (f < l.size() && (l[f] == '.' || l[f] == ',')) {
      for (++f; f < l.size() && is_digit(l[f]) && scale > 1e-10; ++f, scale /= 10) frac += (l[f] - '0') * scale;
    }
    seconds = hour * 3600.0 + minute * 60.0 + sec + frac;
    absolute = false;
    // A date right before: "YYYY-MM-DD " / "YYYY/MM/DD " / "YYYY-MM-DDT".
    if (i >= 11 && (l[i - 1] == ' ' || l[i - 1] == 'T')) {
      auto d = l.substr(i - 11, 10);
      if (is_digit(d[0]) && is_digit(d[1]) && is_digit(d[2]) && is_digit(d[3]) && (d[4] == '-' || d[4] == '/') && d[7] == d[4] &&
          is_digit(d[5]) && is_digit(d[6]) && is_digit(d[8]) && is_digit(d[9])) {
        const int year = two_digits(d, 0) * 100 + two_digits(d, 2);
        const int month = two_digits(d, 5), day = two_digits(d, 8);
        if (month >= 1 && month <= 12 && day >= 1 && day <= 31) {
          seconds += static_cast<double>(days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) *
                     86400.0;
          absolute = true;
        }
      }
    }
    return true;
  }
  return false;
}

text_reader::text_reader(trace_sink& sink, std::string file, trace_format format)
    : sink_(sink), file_(std::move(file)), format_(format) {}

bool text_reader::marker_line(std::string_view l) {
  if (is_separator(l)) return true;
  marker m;
  bool found = false;
  if (l.find("<--- ") != std::string_view::npos) found = asterisk_marker(l, m);
  if (!found) found = fslog_marker(l, m);
  if (!found) found = arrow_marker(l, m, format_ == trace_format::ngrep);
  if (!found) return false;
  src_ = m.src;
  dst_ = m.dst;
  transport_ = m.transport;
  time_ = -1;
  absolute_ = false;
  parse_log_time(l, time_, absolute_);
  if (time_ > last_time_) last_time_ = time_;
  have_meta_ = true;
  return true;
}

void text_reader::start_message(std::string_view l, std::uint64_t lineno, std::size_t indent) {
  state_ = state::headers;
  take_meta(lineno);
  indent_ = indent;
  append(l.substr(indent));
}

// Starts a message or a packet: its addresses and time come from the last marker line.
void text_reader::take_meta(std::uint64_t lineno) {
  msg_.clear();
  too_long_ = false;
  broken_ = false;
  indent_ = 0;
  start_line_ = lineno;
  body_left_ = 0;
  if (have_meta_) {
    msg_src_ = src_, msg_dst_ = dst_, msg_transport_ = transport_;
    msg_time_ = time_, msg_absolute_ = absolute_;
  } else {
    msg_src_.clear(), msg_dst_.clear(), msg_transport_.clear();
    msg_time_ = -1, msg_absolute_ = false;
  }
  have_meta_ = false;
}

void text_reader::append(std::string_view l) {
  if (msg_.size() + l.size() + 2 > max_message) {
    too_long_ = true;
    return;
  }
  msg_.append(l);
  msg_ += "\r\n";
}

bool text_reader::broken_response() {
  if (!packet_dump() || !is_start_line(msg_.substr(0, msg_.find("\r\n"))) || !starts_with_icase(msg_, "SIP/2.0 ")) return false;
  if (broken_) return true;
  // RFC 3261 §18.3: a datagram shorter than its Content-Length is discarded. (A TCP
  // segment may carry part of a message: only UDP packets are whole.)
  if (msg_transport_ == "tcp") return false;
  const auto end = msg_.find("\r\n\r\n");
  return end != std::string::npos &&
         announced_length(std::string_view(msg_).substr(0, end + 2)) > static_cast<std::int64_t>(msg_.size() - (end + 4));
}

message_meta text_reader::meta() const {
  message_meta m;
  m.time = msg_time_;
  m.absolute_time = msg_absolute_;
  m.src = msg_src_;
  m.dst = msg_dst_;
  m.transport = msg_transport_;
  m.file = file_;
  m.where = start_line_;
  return m;
}

// A reply that is not SIP: junk sent back on the flow of a REGISTER, or a broken response.
void text_reader::emit_reply() {
  std::string_view call_id;
  if (const auto f = register_flows_.find(msg_dst_ + ">" + msg_src_); f != register_flows_.end()) call_id = f->second;
  else if (state_ == state::junk) return;  // not an answer to a REGISTER
  sink_.on_reply(reply_kind::malformed, msg_, call_id, meta());
}

void text_reader::emit() {
  if (state_ == state::idle) return;
  if (state_ == state::junk || (!too_long_ && broken_response())) {
    if (!too_long_) emit_reply();  // a long packet of another protocol is no reply worth keeping
    state_ = state::idle;
    return;
  }
  state_ = state::idle;
  if (too_long_) {
    sink_.on_warning(position(file_, start_line_, false),
                     "message longer than " + std::to_string(max_message) + " bytes, skipped");
    return;
  }
  fix_content_length(msg_);
  sip::parse_options opt;
  opt.lenient = true;
  sip::message_view v;
  auto r = sip::parse(msg_, v, sip::framing::datagram, opt);
  if (r.ec) {
    sink_.on_warning(position(file_, start_line_ + (r.line > 0 ? r.line - 1 : 0), false),
                     "not a SIP message the parser accepts (" + r.ec.message() + "), skipped");
    return;
  }
  ++messages_;
  if (v.is_request() && v.method == "REGISTER" && !msg_src_.empty() && !msg_dst_.empty()) {
    if (register_flows_.size() >= 1024) register_flows_.clear();
    const auto* id = v.find(sip::header_id::call_id);
    register_flows_[msg_src_ + ">" + msg_dst_] = id ? std::string(id->value) : std::string();
  }
  sink_.on_message(v, meta());
}

void text_reader::line(std::string_view raw, std::uint64_t lineno) {
  if (raw.size() > max_line) raw = raw.substr(0, max_line);
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  std::string_view l = raw;

  if (format_ == trace_format::ngrep) {
    // ngrep without -W byline prints a packet on one line, CR LF shown as "..".
    if (state_ == state::idle && l.find("..") != std::string_view::npos && is_start_line(l.substr(0, l.find("..")))) {
      std::size_t pos = 0;
      while (pos <= l.size()) {
        auto dd = l.find("..", pos);
        line(l.substr(pos, dd == std::string_view::npos ? std::string_view::npos : dd - pos), lineno);
        if (dd == std::string_view::npos) break;
        pos = dd + 2;
      }
      emit();
      return;
    }
    // An empty line ends the packet; in byline mode each line ends in '.' for the CR.
    if (raw.empty()) {
      emit();
      return;
    }
    if (l.back() == '.') l.remove_suffix(1);
  }

  // Strip the indentation of the start line (quoted or indented pastes).
  const std::string_view unstripped = l;
  const std::size_t lead = leading_space(l);
  if (state_ != state::idle) l.remove_prefix(std::min(lead, indent_));

  switch (state_) {
    case state::idle:
      if (is_start_line(l)) {
        start_message(l, lineno, lead);
      } else if (!marker_line(l) && packet_dump() && have_meta_ && !trim(l).empty()) {
        // A packet that is not SIP: kept whole in case it answers a REGISTER.
        state_ = state::junk;
        take_meta(lineno);
        append(l);
      }
      return;
    case state::junk:
      if (trim(l).empty() && format_ != trace_format::ngrep) {  // ngrep: only an empty line ends a packet
        emit();
        return;
      }
      append(l);
      return;
    case state::headers:
      if (trim(l).empty()) {
        append("");
        // Content-Length decides whether a body follows (RFC 3261 §20.14).
        const std::int64_t cl = announced_length(msg_);
        if (cl <= 0) emit();
        else state_ = state::body, body_left_ = cl;
        return;
      }
      if (is_start_line(l)) {
        emit();
        start_message(unstripped, lineno, lead);
        return;
      }
      if ((!l.empty() && is_space(l[0])) || looks_like_header(l)) {
        append(l);
        return;
      }
      if (packet_dump() && starts_with_icase(msg_, "SIP/2.0 ")) {
        // The packet goes on: a line of a response that is not a header (RFC 3261 §7.3).
        broken_ = true;
        append(l);
        return;
      }
      emit();
      line(raw, lineno);  // a log line, a marker, or noise: handle it as between messages
      return;
    case state::body:
      if (trim(l).empty() || is_start_line(l) || marker_line(l)) {
        const bool restart = is_start_line(l);
        emit();
        if (restart) start_message(unstripped, lineno, lead);
        return;
      }
      append(l);
      body_left_ -= static_cast<std::int64_t>(l.size()) + 2;
      if (body_left_ <= 0) emit();
      return;
  }
}

void text_reader::finish() { emit(); }

}  // namespace probe::analyze
