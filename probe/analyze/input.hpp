// probe/analyze/input.hpp — `sipprobe analyze`: where SIP messages come from in a trace.
//
// A trace is read as a stream: readers hand each SIP message to a trace_sink as soon as it
// is complete, together with what the trace says about it (time, addresses, position).
// The message_view passed to the sink points into the reader's buffer and is valid only
// during the call; a sink that keeps a message copies it (sip::to_owned).
//
// Formats: pcap/pcapng captures (probe/analyze/pcap.hpp) and text — pasted messages,
// ngrep, Asterisk's chan_sip/pjsip logger, FreeSWITCH-style "recv N bytes from" logs and
// sngrep's text export. Text is read line by line by one state machine: a line that looks
// like a SIP start line opens a message; headers follow until an empty line; a body
// follows when Content-Length says so. Log lines around the messages ("U a -> b",
// "<--- Received SIP request … from UDP:a --->", "recv N bytes from udp/[a]:p at …")
// give the next message its addresses and time; separators (`####`, `<------------->`,
// `-----`) end a message. Pasted messages carry no reliable Content-Length: the reader
// sets it to the body actually present before parsing (lenient mode).
//
// Packet dumps (ngrep, sngrep) show each packet whole, so there a response is not read
// leniently: one with a header line that is not a header, or (over UDP) a Content-Length
// past the body the packet carries, is a malformed reply (trace_sink::on_reply), and so
// is a packet that is not SIP at all sent back on the flow of a REGISTER.
//
// Nothing here throws on input: what cannot be parsed becomes a warning with its position.
#pragma once

#include "probe/core/expected.hpp"
#include "sip/message.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace probe::analyze {

enum class trace_format { automatic, text, ngrep, asterisk, fslog, sngrep, pcap };

std::string_view to_string(trace_format f) noexcept;
// "text", "ngrep", "asterisk", "freeswitch" (or "fslog", "kamailio"), "sngrep", "pcap"
// ("pcapng" too), "auto"; nullopt otherwise.
std::optional<trace_format> format_from_string(std::string_view s) noexcept;

// Decides the format from the first bytes of the input: pcap / pcapng magic numbers, then
// the first recognisable text line. Text without any marker is `text`.
trace_format detect_format(std::string_view head) noexcept;

// What a trace says about one message besides its bytes.
struct message_meta {
  double time = -1;            // seconds: since the epoch (absolute) or since midnight; <0 unknown
  bool absolute_time = false;  // `time` is a UTC date and time, not only a time of day
  std::string_view src;        // "10.0.0.5:5060", "[2001:db8::1]:5060"; "" unknown
  std::string_view dst;
  std::string_view transport;  // "udp", "tcp", "tls"; "" unknown
  std::string_view file;       // input name ("-" is standard input)
  std::uint64_t where = 0;     // 1-based line (text) or packet number (capture)
  bool packet = false;         // `where` is a packet number
  // Datagram only: body bytes present after the header section (may differ from
  // Content-Length); -1 when unknown (text, TCP).
  std::int64_t body_on_wire = -1;
};

// "file:12" or "file packet 7".
std::string position(std::string_view file, std::uint64_t where, bool packet);
inline std::string position(const message_meta& m) { return position(m.file, m.where, m.packet); }

// Something that answers a request without being a SIP response. `malformed`: bytes sent
// back on the path of a REGISTER that are not valid SIP (junk, an HTTP or broken status
// line, a header line without a colon, a Content-Length past the datagram: RFC 3261 §7,
// §18.3 — a phone discards them). `unreachable`: an ICMP or ICMPv6 port unreachable that
// quotes a request (RFC 792, RFC 4443 §3.1). `sip` is an ordinary message.
enum class reply_kind : std::uint8_t { sip, malformed, unreachable };

class trace_sink {
 public:
  virtual ~trace_sink() = default;
  virtual void on_message(const sip::message_view& msg, const message_meta& meta) = 0;
  // A message or packet that could not be used; `where` from position().
  virtual void on_warning(std::string where, std::string what) = 0;
  // A reply of `kind` (not `sip`): the bytes as they came (for `unreachable`, what the
  // ICMP error quotes of the request's UDP payload, possibly cut or empty), meta.src the
  // side that sent it, and `call_id` the Call-ID of the REGISTER it answers when the
  // reader knows it from the flow ("" when not). Views valid during the call only.
  // Ignored unless a sink overrides it.
  virtual void on_reply(reply_kind kind, std::string_view bytes, std::string_view call_id, const message_meta& meta) {
    (void)kind, (void)bytes, (void)call_id, (void)meta;
  }
};

// The little a sink reads of a message, taken from it where it was parsed: the attempt
// tracker (probe/analyze/attempts.hpp) needs the bytes, the status and four header facts,
// not the header table. Views point into `raw` (or wherever summarize() took them from).
struct message_summary {
  std::string_view raw;
  int status = 0;  // 0 for a request
  reply_kind kind = reply_kind::sip;
  bool relevant = false;  // false: the sink only counts the message; the views are not used
  std::string_view call_id;
  std::string_view branch;  // top Via branch, inside raw; "" when there is none
  std::uint32_t cseq = 0;   // CSeq number; 0 when absent
  std::uint8_t facts = 0;   // bits the sink defines
};

// A sink that takes a message in two halves: summarize(), pure, where the message is parsed,
// and on_summary() with the result, in order. relay_sink (probe/analyze/relay.hpp) runs
// the halves on two threads and hands over only the summary, not the header table.
class summary_sink : public trace_sink {
 public:
  // Must not change the sink: it runs on another thread than the other calls (the sink's
  // settings must not change while it does).
  virtual message_summary summarize(const sip::message_view& msg) const = 0;
  // The same for a reply that is not a SIP message (trace_sink::on_reply); by default
  // not relevant.
  virtual message_summary summarize_reply(reply_kind kind, std::string_view bytes, std::string_view call_id) const {
    message_summary d;
    d.kind = kind;
    d.raw = bytes;
    (void)call_id;
    return d;
  }
  virtual void on_summary(const message_summary& d, const message_meta& meta) = 0;
  void on_message(const sip::message_view& msg, const message_meta& meta) final { on_summary(summarize(msg), meta); }
  void on_reply(reply_kind kind, std::string_view bytes, std::string_view call_id, const message_meta& meta) final {
    on_summary(summarize_reply(kind, bytes, call_id), meta);
  }
};

// Parses the time found in a log line: "HH:MM:SS[.frac]", optionally preceded by a date
// "YYYY-MM-DD" / "YYYY/MM/DD" (or ISO "YYYY-MM-DDTHH:MM:SS"). Returns false when there
// is no time. Exposed for tests.
bool parse_log_time(std::string_view line, double& seconds, bool& absolute) noexcept;

// The text state machine. Feed it lines without their '\n' (a trailing '\r' is removed),
// then finish(). Lines longer than max_line are cut (the message then fails to parse
// and is reported, not kept).
class text_reader {
 public:
  static constexpr std::size_t max_line = 16 * 1024;
  static constexpr std::size_t max_message = 64 * 1024;

  text_reader(trace_sink& sink, std::string file, trace_format format);
  void line(std::string_view l, std::uint64_t lineno);
  void finish();

  std::uint64_t messages() const noexcept { return messages_; }
  // The latest time a marker line gave (the end of the trace for timer decisions); <0 none.
  double last_time() const noexcept { return last_time_; }

 private:
  enum class state { idle, headers, body, junk };
  void start_message(std::string_view l, std::uint64_t lineno, std::size_t indent);
  void emit();
  bool packet_dump() const noexcept { return format_ == trace_format::ngrep || format_ == trace_format::sngrep; }
  // Whether the message collected is a response that a packet dump shows broken.
  bool broken_response();
  message_meta meta() const;  // where and when the message being read was seen
  void emit_reply();
  void take_meta(std::uint64_t lineno);
  bool marker_line(std::string_view l);  // a log line with addresses, or a separator
  void append(std::string_view l);

  trace_sink& sink_;
  std::string file_;
  trace_format format_;
  state state_ = state::idle;
  std::string msg_;
  std::size_t indent_ = 0;
  std::int64_t body_left_ = 0;
  bool too_long_ = false;
  bool broken_ = false;  // a line in the header section that is not a header (packet dumps)
  std::uint64_t start_line_ = 0;
  std::uint64_t messages_ = 0;
  // From the last marker line, for the next message.
  std::string src_, dst_, transport_;
  double time_ = -1;
  bool absolute_ = false;
  bool have_meta_ = false;
  double last_time_ = -1;
  // The Call-ID of the last REGISTER per flow ("src>dst"), for replies that are not SIP;
  // bounded (emptied when full).
  std::unordered_map<std::string, std::string> register_flows_;
  std::string msg_src_, msg_dst_, msg_transport_;
  double msg_time_ = -1;
  bool msg_absolute_ = false;
};

struct text_result {
  std::uint64_t messages = 0;  // SIP messages found
  double last_time = -1;       // the latest time a log line gave; <0 when none did
};

// Feeds `f` to a text_reader in fixed-size chunks (memory does not grow with the input).
text_result read_text(std::FILE* f, std::string file, trace_format format, trace_sink& sink);

// An input with its first bytes already read for format detection. `file` reads the whole
// input from the beginning (a file is rewound; for pipes and stdin the peeked bytes are
// replayed).
struct peeked_input {
  std::FILE* file = nullptr;  // owned: close with std::fclose (pcap_close does it for pcap)
  std::string head;           // up to head_bytes first bytes
  static constexpr std::size_t head_bytes = 4096;
};
// A bound on the bytes read from all inputs together (--max-bytes): every input is hostile.
struct read_budget {
  std::uint64_t max_bytes = 0;  // 0: no bound
  std::uint64_t used = 0;
  bool exceeded = false;  // an input went past the bound: reading it stopped there
};

// Opens `path` ("-" = standard input), or says in one line why it cannot be read.
// With a budget, a regular file is refused when its size goes past it, and anything else
// (a pipe, a FIFO, a device) is read through a FILE that counts its bytes and fails
// (EFBIG, budget.exceeded) at the first read past it.
expected<peeked_input, std::string> open_input(const std::string& path, read_budget* budget = nullptr);

// A FILE that reads `head` first, then the rest of `under`: bytes already read from a
// stream put back in front of it, also for pipes. Closing it closes `under` (unless that
// is stdin). With a budget, what it reads of `under` counts (see open_input). nullptr if
// the FILE cannot be made; `under` is then left open.
std::FILE* prepend(std::string head, std::FILE* under, read_budget* budget = nullptr);

}  // namespace probe::analyze
