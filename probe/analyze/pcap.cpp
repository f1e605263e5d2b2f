// Captures: link layer, IP, UDP/TCP and TCP reassembly (see pcap.hpp).
#include "probe/analyze/pcap.hpp"

#include "sip/parse.hpp"
#include "sip/scan.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

namespace probe::analyze {
namespace {

// LINKTYPE_/DLT_ values (tcpdump.org/linktypes.html). DLT_RAW is 12 or 14 depending on
// the OS that wrote the file; LINKTYPE_RAW (101) is how files store it.
constexpr int lt_null = 0, lt_ethernet = 1, lt_raw12 = 12, lt_raw14 = 14, lt_raw = 101, lt_loop = 108, lt_sll = 113,
              lt_ipv4 = 228, lt_ipv6 = 229, lt_sll2 = 276;

constexpr std::uint16_t ether_ipv4 = 0x0800, ether_ipv6 = 0x86dd;

std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const std::uint8_t* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 | static_cast<std::uint32_t>(p[2]) << 8 |
         p[3];
}

// Anything that could open a SIP message: a start line (RFC 3261 §7.1, §7.2).
bool starts_like_sip(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == '\r' || s[i] == '\n')) ++i;
  s.remove_prefix(i);
  if (s.starts_with("SIP/2.0 ")) return true;
  auto eol = s.find('\n', 0);
  auto line = s.substr(0, eol == std::string_view::npos ? std::min<std::size_t>(s.size(), 2048) : eol);
  if (line.empty() || line[0] < 'A' || line[0] > 'Z') return false;
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || sp > 32) return false;
  for (std::size_t k = 0; k < sp; ++k)
    if (!((line[k] >= 'A' && line[k] <= 'Z') || line[k] == '-' || line[k] == '_')) return false;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line.ends_with(" SIP/2.0");
}

// The Content-Length (or compact "l") value of a header section, by a plain scan.
std::optional<std::uint64_t> content_length_of(std::string_view msg) {
  std::size_t pos = 0;
  while (pos < msg.size()) {
    auto end = msg.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    auto line = msg.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = sip::trim_lws(line.substr(0, colon));
    if (sip::iequals(name, "Content-Length") || sip::iequals(name, "l"))
      return sip::parse_decimal(sip::trim_lws(line.substr(colon + 1)), 1u << 30);
  }
  return std::nullopt;
}

bool only_crlf(std::string_view s) noexcept { return s.find_first_not_of("\r\n") == std::string_view::npos; }

// A status line starts the bytes (after keep-alive CRLFs): a response, however broken.
bool starts_like_response(std::string_view s) noexcept {
  const auto at = s.find_first_not_of("\r\n");
  return at != std::string_view::npos && s.substr(at).starts_with("SIP/2.0 ");
}

}  // namespace

std::size_t packet_decoder::pair_hash::operator()(const endpoint_pair& p) const noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  for (auto b : p.src) mix(b);
  for (auto b : p.dst) mix(b);
  mix(static_cast<std::uint8_t>(p.sport >> 8)), mix(static_cast<std::uint8_t>(p.sport));
  mix(static_cast<std::uint8_t>(p.dport >> 8)), mix(static_cast<std::uint8_t>(p.dport));
  return static_cast<std::size_t>(h);
}

void capture_stats::add(const capture_stats& o) noexcept {
  packets += o.packets;
  sip_messages += o.sip_messages;
  not_ip += o.not_ip;
  fragments += o.fragments;
  truncated += o.truncated;
  not_sip += o.not_sip;
  keepalives += o.keepalives;
  tcp_gaps += o.tcp_gaps;
  tcp_dropped += o.tcp_dropped;
  not_sip_streams += o.not_sip_streams;
  last_time = std::max(last_time, o.last_time);
}

packet_decoder::packet_decoder(trace_sink& sink, std::string file) : sink_(sink), file_(std::move(file)) {}

bool packet_decoder::supported_linktype(int lt) noexcept {
  switch (lt) {
    case lt_null:
    case lt_ethernet:
    case lt_raw12:
    case lt_raw14:
    case lt_raw:
    case lt_loop:
    case lt_sll:
    case lt_ipv4:
    case lt_ipv6:
    case lt_sll2: return true;
    default: return false;
  }
}

void packet_decoder::packet(int linktype, double time, const std::uint8_t* p, std::size_t n) {
  ++packet_no_;
  ++stats_.packets;
  if (time > stats_.last_time) stats_.last_time = time;
  std::uint16_t ethertype = 0;
  switch (linktype) {
    case lt_ethernet: {
      if (n < 14) return void(++stats_.truncated);
      ethertype = be16(p + 12);
      p += 14, n -= 14;
      // 802.1Q / 802.1ad / QinQ tags: 4 bytes each, the real type follows.
      for (int tags = 0; (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100) && tags < 4; ++tags) {
        if (n < 4) return void(++stats_.truncated);
        ethertype = be16(p + 2);
        p += 4, n -= 4;
      }
      break;
    }
    case lt_sll:  // packet type, ARPHRD, address length, 8 address bytes, protocol
      if (n < 16) return void(++stats_.truncated);
      ethertype = be16(p + 14);
      p += 16, n -= 16;
      break;
    case lt_sll2:  // protocol, reserved, ifindex, ARPHRD, packet type, address length, address
      if (n < 20) return void(++stats_.truncated);
      ethertype = be16(p);
      p += 20, n -= 20;
      break;
    case lt_null:
    case lt_loop: {
      if (n < 4) return void(++stats_.truncated);
      // DLT_NULL holds the address family in the writer's byte order, DLT_LOOP in network
      // order: accept both. AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30.
      std::uint32_t le = static_cast<std::uint32_t>(p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24);
      std::uint32_t af = linktype == lt_loop ? be32(p) : (le < 256 ? le : be32(p));
      p += 4, n -= 4;
      if (af == 2) ethertype = ether_ipv4;
      else if (af == 10 || af == 24 || af == 28 || af == 30) ethertype = ether_ipv6;
      break;
    }
    case lt_raw12:
    case lt_raw14:
    case lt_raw:
    case lt_ipv4:
    case lt_ipv6:
      if (n < 1) return void(++stats_.truncated);
      ethertype = (p[0] >> 4) == 6 ? ether_ipv6 : ether_ipv4;
      break;
    default: ++stats_.not_ip; return;
  }
  if (ethertype != ether_ipv4 && ethertype != ether_ipv6) return void(++stats_.not_ip);
  ip(p, n, time);
}

void packet_decoder::ip(const std::uint8_t* p, std::size_t n, double time) {
  if (n < 1) return void(++stats_.truncated);
  endpoint_pair ep;
  const int version = p[0] >> 4;
  if (version == 4) {
    if (n < 20) return void(++stats_.truncated);
    const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
    const std::size_t total = be16(p + 2);
    if (ihl < 20 || total < ihl) return void(++stats_.truncated);
    if (total > n) return void(++stats_.truncated);  // cut by the snap length
    const std::uint16_t frag = be16(p + 6);
    if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) return void(++stats_.fragments);
    std::memcpy(ep.src.data() + 12, p + 12, 4);
    std::memcpy(ep.dst.data() + 12, p + 16, 4);
    transport(p[9], ep, p + ihl, total - ihl, time);
  } else if (version == 6) {
    if (n < 40) return void(++stats_.truncated);
    const std::size_t payload = be16(p + 4);
    if (40 + payload > n) return void(++stats_.truncated);
    ep.v6 = true;
    std::memcpy(ep.src.data(), p + 8, 16);
    std::memcpy(ep.dst.data(), p + 24, 16);
    int next = p[6];
    const std::uint8_t* q = p + 40;
    std::size_t left = payload;
    // RFC 8200 §4: hop-by-hop, routing, destination options, AH; a fragment is skipped.
    for (int hops = 0; hops < 16; ++hops) {
      if (next == 44) return void(++stats_.fragments);
      if (next != 0 && next != 43 && next != 60 && next != 51 && next != 135) break;
      if (left < 8) return void(++stats_.truncated);
      const std::size_t len = next == 51 ? (static_cast<std::size_t>(q[1]) + 2) * 4 : (static_cast<std::size_t>(q[1]) + 1) * 8;
      if (len > left) return void(++stats_.truncated);
      next = q[0];
      q += len, left -= len;
    }
    transport(next, ep, q, left, time);
  } else {
    ++stats_.not_ip;
  }
}

void packet_decoder::transport(int proto, endpoint_pair& ep, const std::uint8_t* p, std::size_t n, double time) {
  if (proto == 17) {
    if (n < 8) return void(++stats_.truncated);
    ep.sport = be16(p), ep.dport = be16(p + 2);
    std::size_t len = be16(p + 4);
    if (len < 8 || len > n) len = n;  // a zero/odd length (offloaded checksum): trust IP
    udp(ep, p + 8, len - 8, time);
  } else if (proto == 6) {
    if (n < 20) return void(++stats_.truncated);
    ep.sport = be16(p), ep.dport = be16(p + 2);
    tcp(ep, p, n, time);
  } else if ((proto == 1 && !ep.v6) || (proto == 58 && ep.v6)) {
    icmp(p, n, time, ep.v6);
  } else {
    ++stats_.not_sip;
  }
}

namespace {

// "a.b.c.d:port" or "[v6]:port" into out (room for INET6_ADDRSTRLEN + 8); returns the length.
// By hand: snprintf per message shows in profiles of day-long captures.
std::size_t format_endpoint(char* out, const std::array<std::uint8_t, 16>& a, std::uint16_t port, bool v6) {
  char* p = out;
  if (v6) {
    *p++ = '[';
    inet_ntop(AF_INET6, a.data(), p, INET6_ADDRSTRLEN);
    p += std::strlen(p);
    *p++ = ']';
  } else {
    for (int i = 12; i < 16; ++i) {
      unsigned v = a[static_cast<std::size_t>(i)];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
      if (i < 15) *p++ = '.';
    }
  }
  *p++ = ':';
  char digits[6];
  int n = 0;
  unsigned v = port;
  do digits[n++] = static_cast<char>('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0) *p++ = digits[--n];
  return static_cast<std::size_t>(p - out);
}

}  // namespace

std::string_view packet_decoder::endpoint_text(const std::array<std::uint8_t, 16>& a, std::uint16_t port, bool v6,
                                               std::size_t avoid, std::size_t& slot) {
  slot = (a[15] * 31u + a[14] * 7u + a[13] + port * 3u) % endpoint_slots;
  if (slot == avoid) slot = (slot + 1) % endpoint_slots;  // src's text must stay valid
  auto& e = (*endpoints_)[slot];
  if (e.len == 0 || e.port != port || e.v6 != v6 || e.addr != a) {
    e.addr = a, e.port = port, e.v6 = v6;
    e.len = static_cast<std::uint8_t>(format_endpoint(e.text, a, port, v6));
  }
  return {e.text, e.len};
}

message_meta packet_decoder::meta_of(const endpoint_pair& ep, double time, const char* transport) {
  std::size_t src_slot = 0, dst_slot = 0;
  message_meta meta;
  meta.src = endpoint_text(ep.src, ep.sport, ep.v6, endpoint_slots, src_slot);
  meta.dst = endpoint_text(ep.dst, ep.dport, ep.v6, src_slot, dst_slot);
  meta.time = time;
  meta.absolute_time = true;
  meta.transport = transport;
  meta.file = file_;
  meta.where = packet_no_;
  meta.packet = true;
  return meta;
}

void packet_decoder::deliver(const sip::message_view& m, const endpoint_pair& ep, double time, const char* transport,
                             std::int64_t body_on_wire) {
  ++stats_.sip_messages;
  remember_register(m, ep, time);
  message_meta meta = meta_of(ep, time, transport);
  meta.body_on_wire = body_on_wire;
  sink_.on_message(m, meta);
}

void packet_decoder::reply(reply_kind kind, std::string_view bytes, std::string_view call_id, const endpoint_pair& from,
                           double time, const char* transport) {
  sink_.on_reply(kind, bytes, call_id, meta_of(from, time, transport));
}

namespace {

std::size_t flow_slot(const std::array<std::uint8_t, 16>& src, const std::array<std::uint8_t, 16>& dst, std::uint16_t sport,
                      std::uint16_t dport, std::size_t slots) noexcept {
  return (src[15] * 31u + src[14] * 7u + dst[15] * 13u + dst[14] * 3u + sport * 5u + dport) % slots;
}

}  // namespace

void packet_decoder::remember_register(const sip::message_view& m, const endpoint_pair& ep, double time) {
  if (!m.is_request() || m.method != "REGISTER") return;
  auto& f = (*flows_)[flow_slot(ep.src, ep.dst, ep.sport, ep.dport, register_flow_slots)];
  f.ep = ep;
  f.time = time;
  std::string_view id;
  for (const auto& h : m.headers)
    if (h.id == sip::header_id::call_id) {
      id = h.value;
      break;
    }
  f.call_id_size = static_cast<std::uint8_t>(id.size() <= sizeof f.call_id ? id.size() : 0);
  if (f.call_id_size != 0) std::memcpy(f.call_id, id.data(), f.call_id_size);
}

std::string_view packet_decoder::register_call_id(const endpoint_pair& request, double time) const {
  const auto& f = (*flows_)[flow_slot(request.src, request.dst, request.sport, request.dport, register_flow_slots)];
  if (f.time < 0 || !(f.ep == request) || time < f.time || time - f.time > reply_window_seconds) return {};
  return {f.call_id, f.call_id_size};
}

void packet_decoder::icmp(const std::uint8_t* p, std::size_t n, double time, bool v6) {
  // RFC 792 (type 3 code 3) and RFC 4443 §3.1 (type 1 code 4): the error quotes the packet
  // that caused it from its IP header on, and at least the UDP header after it.
  if (n < 8) return void(++stats_.truncated);
  if (v6 ? !(p[0] == 1 && p[1] == 4) : !(p[0] == 3 && p[1] == 3)) return void(++stats_.not_sip);
  const std::uint8_t* q = p + 8;
  std::size_t left = n - 8;
  endpoint_pair req;
  if (!v6) {
    if (left < 20 || (q[0] >> 4) != 4) return void(++stats_.truncated);
    const std::size_t ihl = static_cast<std::size_t>(q[0] & 0x0f) * 4;
    if (ihl < 20 || left < ihl + 8) return void(++stats_.truncated);
    if (q[9] != 17) return void(++stats_.not_sip);
    std::memcpy(req.src.data() + 12, q + 12, 4);
    std::memcpy(req.dst.data() + 12, q + 16, 4);
    q += ihl, left -= ihl;
  } else {
    if (left < 48 || (q[0] >> 4) != 6) return void(++stats_.truncated);
    if (q[6] != 17) return void(++stats_.not_sip);
    req.v6 = true;
    std::memcpy(req.src.data(), q + 8, 16);
    std::memcpy(req.dst.data(), q + 24, 16);
    q += 40, left -= 40;
  }
  req.sport = be16(q), req.dport = be16(q + 2);
  const std::string_view payload(reinterpret_cast<const char*>(q + 8), left - 8);
  if (!payload.empty() && !starts_like_sip(payload)) return void(++stats_.not_sip);  // DNS, RTP …
  const auto call_id = register_call_id(req, time);
  if (payload.empty() && call_id.data() == nullptr) return void(++stats_.not_sip);
  endpoint_pair from = req;
  std::swap(from.src, from.dst);
  std::swap(from.sport, from.dport);
  reply(reply_kind::unreachable, payload, call_id, from, time, "udp");
}

void packet_decoder::udp(const endpoint_pair& ep, const std::uint8_t* p, std::size_t n, double time) {
  std::string_view payload(reinterpret_cast<const char*>(p), n);
  if (payload.empty() || only_crlf(payload) || (n >= 20 && (p[0] & 0xc0) == 0 && be32(p + 4) == 0x2112a442))
    return void(++stats_.keepalives);  // RFC 5626 §4.4.1 CRLF, RFC 5389 STUN
  // The Call-ID of the REGISTER this datagram may answer (null: no REGISTER went the
  // other way lately).
  auto answered = [&] {
    endpoint_pair q = ep;
    std::swap(q.src, q.dst);
    std::swap(q.sport, q.dport);
    return register_call_id(q, time);
  };
  if (!starts_like_sip(payload)) {
    if (const auto id = answered(); id.data() != nullptr) return reply(reply_kind::malformed, payload, id, ep, time, "udp");
    return void(++stats_.not_sip);
  }
  sip::parse_options opt;
  opt.lenient = true;
  auto r = sip::parse(payload, view_, sip::framing::datagram, opt);
  std::int64_t body = -1;
  // A response the phone would discard (RFC 3261 §7, §18.3) is a reply that is not SIP,
  // never a success read leniently.
  if (r.ec && starts_like_response(payload)) return reply(reply_kind::malformed, payload, answered(), ep, time, "udp");
  if (r.ec == sip::errc::body_truncated) {
    // RFC 3261 §18.3: the receiver discards it — exactly what breaks registrations behind
    // an ALG that rewrote the body without fixing Content-Length. Keep the request for the
    // analysis: pad a copy to the announced length; body_on_wire tells the real size.
    const auto head_end = payload.find("\r\n\r\n");
    const auto cl = content_length_of(payload);
    if (head_end != std::string_view::npos && cl && *cl <= sip::parse_options::default_max_message) {
      body = static_cast<std::int64_t>(n - (head_end + 4));
      scratch_.assign(payload);
      scratch_.append(static_cast<std::size_t>(*cl - std::min<std::uint64_t>(*cl, static_cast<std::uint64_t>(body))), ' ');
      r = sip::parse(scratch_, view_, sip::framing::datagram, opt);
      if (!r.ec) return deliver(view_, ep, time, "udp", body);
    }
  }
  if (r.ec) {
    sink_.on_warning(position(file_, packet_no_, true), "UDP payload looks like SIP but does not parse (" + r.ec.message() +
                                                            ", line " + std::to_string(r.line) + "), skipped");
    return;
  }
  // Body bytes the datagram really carries, to compare with Content-Length (an ALG that
  // rewrites addresses without fixing the length leaves them different): what follows the
  // first CRLF CRLF. When the header section ends with one, that is the first (an earlier
  // one would have been the empty line), so the search is only needed for LF-only pastes.
  const auto body_at = static_cast<std::size_t>(view_.body.data() - payload.data());
  if (body_at >= 4 && payload.substr(body_at - 4, 4) == "\r\n\r\n") {
    body = static_cast<std::int64_t>(n - body_at);
  } else {
    const auto raw_at = static_cast<std::size_t>(view_.raw.data() - payload.data());
    auto end = view_.raw.find("\r\n\r\n");
    if (end != std::string_view::npos) body = static_cast<std::int64_t>(n - (raw_at + end + 4));
  }
  deliver(view_, ep, time, "udp", body);
}

void packet_decoder::tcp(const endpoint_pair& ep, const std::uint8_t* p, std::size_t n, double time) {
  const std::size_t off = static_cast<std::size_t>(p[12] >> 4) * 4;
  if (off < 20 || off > n) return void(++stats_.truncated);
  const std::uint8_t flags = p[13];
  const bool syn = flags & 0x02, fin = flags & 0x01, rst = flags & 0x04;
  const std::uint32_t seq = be32(p + 4);
  std::string_view data(reinterpret_cast<const char*>(p + off), n - off);

  auto it = streams_.find(ep);
  if (rst) {
    if (it != streams_.end()) streams_.erase(it);
    return;
  }
  if (it == streams_.end()) {
    if (data.empty() && !syn) return;
    if (!data.empty() && !starts_like_sip(data)) return void(++stats_.not_sip);
    if (streams_.size() >= max_streams) evict_streams(time);
    it = streams_.emplace(ep, tcp_stream{}).first;
    it->second.next_seq = syn ? seq + 1 : seq;
    it->second.hunting = !syn;
    it->second.fresh = syn;
  }
  tcp_stream& s = it->second;
  s.last_time = time;
  if (syn) s.next_seq = seq + 1, s.buf.clear(), s.hunting = false, s.fresh = true, s.not_sip = false;
  if (s.not_sip && !data.empty()) {
    ++stats_.not_sip;
    data = {};
  }
  if (!data.empty()) {
    const auto ahead = static_cast<std::int32_t>(seq - s.next_seq);  // RFC 1982 serial arithmetic
    if (ahead < 0) {
      // Retransmitted bytes: keep only what lies beyond what we already have.
      const auto dup = static_cast<std::uint32_t>(-static_cast<std::int64_t>(ahead));
      data = dup >= data.size() ? std::string_view{} : data.substr(dup);
    } else if (ahead > 0) {
      // A gap: a segment is missing or out of order. What was buffered cannot be framed.
      ++stats_.tcp_gaps;
      s.buf.clear();
      s.hunting = true;
    }
    if (!data.empty()) {
      s.next_seq = seq + static_cast<std::uint32_t>(n - off);
      if (s.fresh && !only_crlf(data)) {
        s.fresh = false;
        // SIP over TCP opens with a message (RFC 3261 §18.3): anything else is another
        // protocol, skipped whole.
        if (!starts_like_sip(data)) {
          not_sip_stream(s, ep, data, time);
          data = {};
        }
      }
      if (s.hunting && !data.empty()) {
        // Resynchronise on a segment that begins a message.
        if (!starts_like_sip(data)) {
          ++stats_.not_sip;
          data = {};
        } else {
          s.hunting = false;
        }
      }
      if (!data.empty()) {
        if (s.buf.size() + data.size() > max_stream_buffer) {
          sink_.on_warning(position(file_, packet_no_, true), "TCP stream buffer over " + std::to_string(max_stream_buffer) +
                                                                  " bytes without a complete SIP message, dropped");
          ++stats_.tcp_dropped;
          s.buf.clear();
          s.hunting = true;
        } else {
          s.buf.append(data);
          frame(s, ep, time);
        }
      }
    }
  }
  if (fin) {
    if (!s.buf.empty() && !only_crlf(s.buf))
      sink_.on_warning(position(file_, packet_no_, true),
                       "TCP connection closed with " + std::to_string(s.buf.size()) + " bytes of an incomplete SIP message");
    streams_.erase(ep);
  }
}

void packet_decoder::frame(tcp_stream& s, const endpoint_pair& ep, double time) {
  sip::parse_options opt;
  opt.lenient = true;
  std::size_t used = 0;
  while (used < s.buf.size()) {
    std::string_view rest(s.buf.data() + used, s.buf.size() - used);
    if (only_crlf(rest)) {  // RFC 5626 keep-alive
      used = s.buf.size();
      break;
    }
    auto r = sip::parse(rest, view_, sip::framing::stream, opt);
    if (r.ec == sip::errc::need_more) break;
    if (r.ec) {
      if (starts_like_response(rest)) {
        endpoint_pair q = ep;
        std::swap(q.src, q.dst);
        std::swap(q.sport, q.dport);
        reply(reply_kind::malformed, rest, register_call_id(q, time), ep, time, "tcp");
      } else {
        sink_.on_warning(position(file_, packet_no_, true),
                         "SIP message in a TCP stream does not parse (" + r.ec.message() + "), skipped");
      }
      if (r.consumed == 0) {  // framing lost: wait for a segment that starts a message
        used = s.buf.size();
        s.hunting = true;
        break;
      }
      used += r.consumed;
      continue;
    }
    deliver(view_, ep, time, "tcp", -1);
    used += r.consumed;
  }
  s.buf.erase(0, used);
}

void packet_decoder::not_sip_stream(tcp_stream& s, const endpoint_pair& ep, std::string_view data, double time) {
  s.not_sip = true;
  ++stats_.not_sip;
  endpoint_pair back = ep;
  std::swap(back.src, back.dst);
  std::swap(back.sport, back.dport);
  // A connection counts once, whichever side spoke first.
  const auto other = streams_.find(back);
  if (other == streams_.end() || !other->second.not_sip) ++stats_.not_sip_streams;
  // The registrar's side of a connection that carried a REGISTER: a reply that is not SIP.
  if (const auto id = register_call_id(back, time); id.data() != nullptr) reply(reply_kind::malformed, data, id, ep, time, "tcp");
}

void packet_decoder::evict_streams(double now) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (now - it->second.last_time > stream_idle_seconds) it = streams_.erase(it);
    else ++it;
  }
  if (streams_.size() >= max_streams) {
    // Still full: drop them all rather than grow; each resynchronises on its next message.
    stats_.tcp_dropped += streams_.size();
    streams_.clear();
  }
}

void packet_decoder::finish() {
  for (const auto& [ep, s] : streams_)
    if (!s.buf.empty() && !only_crlf(s.buf))
      sink_.on_warning(
          file_, "capture ends with " + std::to_string(s.buf.size()) + " bytes of an incomplete SIP message in a TCP stream");
  streams_.clear();
}

}  // namespace probe::analyze
