// sip/parse.hpp — SIP message parser (RFC 3261 §7, §18.3) and stream framer.
//
// parse() reads one message from a buffer into a zero-copy message_view (sip/message.hpp).
// It never throws, asserts or allocates per header: the only allocation is the first
// growth of out.headers (reserve), none when `out` is reused.
//
// Framing (RFC 3261 §18.3):
//  - datagram: the buffer is one UDP datagram. The body is what follows the empty line,
//    cut to Content-Length when present (bytes beyond it are ignored); a Content-Length
//    larger than the bytes present is errc::body_truncated.
//  - stream: the buffer is the head of a TCP/TLS byte stream. Content-Length is mandatory
//    (errc::missing_content_length in both modes: without it the stream cannot be
//    framed); an incomplete message is errc::need_more, which is not a failure.
// Both skip CRLFs before the start line (RFC 3261 §7.5, RFC 5626 keep-alives) and accept
// LF-only line ends as well as CRLF (pasted traces).
//
// Strict mode (default) also requires Via, From, To, Call-ID and CSeq, one each of From,
// To, Call-ID, CSeq and Max-Forwards, a well-formed CSeq whose method equals the request
// method, and a Request-URI without headers (RFC 3261 §19.1.1). Max-Forwards is not
// required: RFC 2543 peers omit it (RFC 4475 §3.4.1). Lenient mode drops these checks,
// accepts a trailing SP on the request line, a status line without reason phrase and, in
// a datagram, a header section ended by the end of the buffer (hand-trimmed traces).
//
// parse() remembers, per thread, the last SIP, SIPS or TEL Request-URI it found valid (up
// to 95 bytes): a request with the same bytes there is not validated again. Whether a URI
// is valid depends on its bytes alone, so the memo changes no result, only the time; it is
// thread_local, so parsers on different threads neither share nor lock it.
//
// Contract of parse_result:
//  - ec == {}: `out` holds the message; `consumed` = bytes used, leading CRLFs included.
//  - ec == need_more (stream only): nothing consumed, `out` is unspecified.
//  - other ec: `offset` is the byte offset in `buf` where the problem was found and `line`
//    its 1-based line. `consumed` is non-zero when the message was framed (its length is
//    known) but failed a later check (missing_required_header, duplicate_header,
//    bad_cseq, bad_request_uri): a stream can skip it and go on.
#pragma once

#include "sip/error.hpp"
#include "sip/message.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace sip {

enum class framing { datagram, stream };

struct parse_options {
  static constexpr std::size_t default_max_message = 64 * 1024;  // whole message
  static constexpr std::size_t default_max_headers = 256;
  static constexpr std::size_t default_max_line = 8 * 1024;  // start line, or header incl. folds

  bool lenient = false;
  std::size_t max_message = default_max_message;  // errc::message_too_large
  std::size_t max_headers = default_max_headers;  // errc::too_many_headers
  std::size_t max_line = default_max_line;        // errc::line_too_long
};

struct parse_result {
  std::error_code ec;
  std::size_t consumed = 0;
  std::size_t offset = 0;
  std::size_t line = 0;
};

parse_result parse(std::string_view buf, message_view& out, framing f, const parse_options& opt = {});

// 1-based line number of byte `offset` in `buf` (counts LF bytes before it).
std::size_t line_of(std::string_view buf, std::size_t offset) noexcept;

// Cuts a TCP/TLS byte stream into messages.
//
//   framer.append(bytes_read);
//   while (true) {
//     auto r = framer.next(msg);
//     if (r.ec == errc::need_more) break;   // wait for more bytes
//     if (r.ec && framer.failed()) ...      // framing lost: close the connection
//     if (r.ec) ...                         // one bad message, skipped; keep going
//     else use(msg);
//   }
//
// Views returned by next() point into the framer's buffer and stay valid until the next
// append() or reset(): several messages of one read can be pulled and used together.
// The buffer is bounded: append() refuses data (errc::message_too_large) that would make
// the unconsumed bytes exceed max_buffer. After a framing error (anything but need_more
// that left consumed == 0) the framer is failed: next() repeats the error until reset().
class stream_framer {
 public:
  explicit stream_framer(parse_options opt = {}, std::size_t max_buffer = 0);

  std::error_code append(std::string_view bytes);
  parse_result next(message_view& out);
  void reset() noexcept;

  bool failed() const noexcept { return static_cast<bool>(error_.ec); }
  std::size_t buffered() const noexcept { return buf_.size() - start_; }
  // CRLF keep-alives (RFC 5626 §4.4.1 pings and pongs) skipped between messages.
  std::size_t keepalives() const noexcept { return keepalives_; }

 private:
  parse_options opt_;
  std::size_t max_buffer_;
  std::string buf_;
  std::size_t start_ = 0;  // bytes of buf_ already handed out
  std::size_t keepalives_ = 0;
  std::size_t stream_offset_ = 0;  // stream position of buf_[0], for error offsets
  parse_result error_;
};

}  // namespace sip
