// probe/analyze/pcap.hpp — SIP out of pcap / pcapng captures.
//
// read_pcap() streams a capture into a packet_decoder: classic pcap read in fixed-size
// blocks (probe/analyze/pcap_read.cpp), pcapng and the rest through libpcap
// (pcap_fopen_offline + pcap_next_ex); memory does not grow with the file. The decoder
// peels the link layer (Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL and SLL2,
// BSD loopback NULL/LOOP, raw IP), IPv4 (fragments are skipped and counted) or IPv6
// (extension headers skipped), then UDP or TCP on any port: SIP is recognised by its
// start line, not by the port.
//
// TCP (RFC 3261 §18.3): each direction of a connection is a byte stream framed by
// Content-Length (sip::parse in stream mode). Segments are taken in sequence order;
// retransmitted bytes are ignored, a gap (a lost or out-of-order segment) drops what the
// stream had buffered and the decoder waits for a segment that starts a SIP message. The
// buffer per stream and the number of streams are bounded (limits below). A connection
// seen from its SYN whose first bytes are not SIP (HTTP, TLS, FTP …) is skipped whole and
// counted, without a warning.
//
// Replies that are not SIP (trace_sink::on_reply): the decoder remembers, per flow, the
// last REGISTER sent and its Call-ID (a small table, overwritten). Bytes that come back on
// the reverse flow within 64 s and are not valid SIP — junk, a broken status line, a
// response that does not parse or whose Content-Length runs past the datagram — are a
// `malformed` reply; an ICMP (type 3 code 3) or ICMPv6 (type 1 code 4) port unreachable
// quoting a UDP request is an `unreachable` one.
#pragma once

#include "probe/analyze/input.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>

namespace probe::analyze {

struct capture_stats {
  std::uint64_t packets = 0;
  std::uint64_t sip_messages = 0;
  std::uint64_t not_ip = 0;           // link types or ethertypes other than IPv4/IPv6
  std::uint64_t fragments = 0;        // IPv4/IPv6 fragments, skipped
  std::uint64_t truncated = 0;        // packets cut by the snap length or malformed headers
  std::uint64_t not_sip = 0;          // UDP/TCP payloads that are not SIP (RTP, DNS, …)
  std::uint64_t keepalives = 0;       // CRLF / STUN keep-alives
  std::uint64_t tcp_gaps = 0;         // stream buffers dropped at a sequence gap
  std::uint64_t tcp_dropped = 0;      // stream buffers dropped for size or stream count
  std::uint64_t not_sip_streams = 0;  // TCP connections (seen from their SYN) whose data is not SIP
  double last_time = -1;              // time of the last packet; <0 before any

  // Adds the counts of another capture (last_time: the later one).
  void add(const capture_stats& o) noexcept;
};

class packet_decoder {
 public:
  static constexpr std::size_t max_stream_buffer = 256 * 1024;
  static constexpr std::size_t max_streams = 4096;
  static constexpr double stream_idle_seconds = 300;

  packet_decoder(trace_sink& sink, std::string file);
  // One captured packet of link type `linktype` (a DLT_/LINKTYPE_ value).
  void packet(int linktype, double time, const std::uint8_t* data, std::size_t caplen);
  // Reports what the TCP streams still hold (an incomplete message) as warnings.
  void finish();
  // True when packet() can decode this link type.
  static bool supported_linktype(int linktype) noexcept;

  const capture_stats& stats() const noexcept { return stats_; }

 private:
  struct endpoint_pair {
    std::array<std::uint8_t, 16> src{}, dst{};
    std::uint16_t sport = 0, dport = 0;
    bool v6 = false;
    bool operator==(const endpoint_pair&) const = default;
  };
  struct pair_hash {
    std::size_t operator()(const endpoint_pair& p) const noexcept;
  };
  struct tcp_stream {
    std::uint32_t next_seq = 0;
    std::string buf;
    bool hunting = true;   // waiting for a segment that starts a SIP message
    bool fresh = false;    // seen from its SYN, no data yet: its first bytes tell what it is
    bool not_sip = false;  // its first bytes were not SIP: the rest is skipped
    double last_time = 0;
  };
  // The last REGISTER of a flow (see the header comment).
  struct register_flow {
    endpoint_pair ep;
    double time = -1;
    std::uint8_t call_id_size = 0;
    char call_id[96] = {};
  };
  static constexpr std::size_t register_flow_slots = 256;
  static constexpr double reply_window_seconds = 64;  // 2 * Timer F

  void ip(const std::uint8_t* p, std::size_t n, double time);
  void transport(int proto, endpoint_pair& ep, const std::uint8_t* p, std::size_t n, double time);
  void udp(const endpoint_pair& ep, const std::uint8_t* p, std::size_t n, double time);
  void tcp(const endpoint_pair& ep, const std::uint8_t* p, std::size_t n, double time);
  void frame(tcp_stream& s, const endpoint_pair& ep, double time);
  void not_sip_stream(tcp_stream& s, const endpoint_pair& ep, std::string_view data, double time);
  void icmp(const std::uint8_t* p, std::size_t n, double time, bool v6);
  void deliver(const sip::message_view& m, const endpoint_pair& ep, double time, const char* transport,
               std::int64_t body_on_wire);
  message_meta meta_of(const endpoint_pair& ep, double time, const char* transport);
  void reply(reply_kind kind, std::string_view bytes, std::string_view call_id, const endpoint_pair& from, double time,
             const char* transport);
  void remember_register(const sip::message_view& m, const endpoint_pair& ep, double time);
  // The Call-ID of the last REGISTER sent on `request` (the flow a reply came back on,
  // reversed) in the reply window before `time`; a null view when there is none.
  std::string_view register_call_id(const endpoint_pair& request, double time) const;
  void evict_streams(double now);

  trace_sink& sink_;
  std::string file_;
  std::uint64_t packet_no_ = 0;
  capture_stats stats_;
  std::unordered_map<endpoint_pair, tcp_stream, pair_hash> streams_;
  // Address texts, cached by endpoint: a capture repeats a few of them (the registrar's
  // on every message), and formatting two per message showed in the decoder's profile.
  static constexpr std::size_t endpoint_slots = 256;
  struct endpoint_entry {
    std::array<std::uint8_t, 16> addr{};
    std::uint16_t port = 0;
    bool v6 = false;
    std::uint8_t len = 0;  // 0: empty
    char text[64] = {};    // "[v6]:port" fits
  };
  // The text of an endpoint, valid until the next call that does not pass its `slot` as
  // `avoid`.
  std::string_view endpoint_text(const std::array<std::uint8_t, 16>& a, std::uint16_t port, bool v6, std::size_t avoid,
                                 std::size_t& slot);

  std::unique_ptr<std::array<register_flow, register_flow_slots>> flows_ =
      std::make_unique<std::array<register_flow, register_flow_slots>>();
  sip::message_view view_;  // reused: no allocation per message once warm
  std::string scratch_;     // a datagram padded to its Content-Length
  std::unique_ptr<std::array<endpoint_entry, endpoint_slots>> endpoints_ =
      std::make_unique<std::array<endpoint_entry, endpoint_slots>>();
};

// Reads a capture from `f` (taken over and closed), or says in one line why the capture
// cannot be read at all; a capture cut short is read up to the cut and reported through
// sink.on_warning. `sink` is called from a second thread (a
// relay_sink, probe/analyze/relay.hpp), in order, and not after read_pcap returns; its
// summarize() on this one.
expected<void, std::string> read_pcap(std::FILE* f, const std::string& file, summary_sink& sink, capture_stats& stats);

}  // namespace probe::analyze
