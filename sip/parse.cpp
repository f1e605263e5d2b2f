#include "sip/parse.hpp"

#include "sip/detail/byte_scan.hpp"
#include "sip/error.hpp"
#include "sip/headers.hpp"
#include "sip/scan.hpp"
#include "sip/uri.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace sip {
namespace {

enum class line_status { ok, need_more, eof, error };

// Headers strict mode counts: required ones, and single-valued ones that may not repeat.
enum slot : std::size_t { s_via, s_from, s_to, s_call_id, s_cseq, s_max_forwards, s_count };

std::size_t slot_of(header_id id) noexcept {
  switch (id) {
    case header_id::via: return s_via;
    case header_id::from: return s_from;
    case header_id::to: return s_to;
    case header_id::call_id: return s_call_id;
    case header_id::cseq: return s_cseq;
    case header_id::max_forwards: return s_max_forwards;
    default: return s_count;
  }
}

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

class parser {
 public:
  parser(std::string_view buf, message_view& out, framing f, const parse_options& opt)
      : buf_(buf), n_(buf.size()), out_(out), f_(f), opt_(opt) {}

  parse_result run();

 private:
  parse_result fail(errc e, std::size_t off, std::size_t consumed = 0) const { return {e, consumed, off, line_of(buf_, off)}; }
  // Stream: the message is incomplete, unless it is already over the size limit.
  parse_result more() const {
    if (n_ - start_ > opt_.max_message) return fail(errc::message_too_large, start_ + opt_.max_message);
    return {errc::need_more, 0, n_, 0};
  }
  std::size_t at(std::string_view v) const noexcept { return static_cast<std::size_t>(v.data() - buf_.data()); }

  line_status read_line(std::size_t pos, std::size_t origin, std::size_t& end, std::size_t& next, parse_result& err) const;
  // Offset from s of the first ':' in [s, e), or e - s.
  std::size_t colon_in(std::size_t s, std::size_t e) const noexcept { return detail::find_byte(buf_.data(), s, e, ':') - s; }
  static constexpr std::size_t no_colon = detail::not_seen;
  // The usual line: plain bytes up to a CRLF within the limit, found without read_line.
  // True with `end` and `next` as read_line would set them; false for anything else (a
  // lone CR or LF, HTAB or another CTL, the end of the buffer, an over-long line), which
  // read_line must look at. In `colon`, in both cases, the offset from pos of a ':' among
  // the line's first bytes (detail::find_control_noting), else no_colon.
  // Inlined: it is the parser's inner loop, and a call with three results in memory cost
  // more than the line.
  [[gnu::always_inline]] bool plain_line(std::size_t pos, std::size_t& end, std::size_t& next,
                                         std::size_t& colon) const noexcept {
    // A header line is usually a name, a colon and a value in one line: one scan finds the
    // colon and the line end.
    const std::size_t stop = line_stop(pos);
    const std::size_t cr = detail::find_control_noting(buf_.data(), pos, stop, ':', colon);
    if (cr + 1 < stop && buf_[cr] == '\r' && buf_[cr + 1] == '\n' && cr - pos <= opt_.max_line) {
      end = cr;
      next = cr + 2;
      return true;
    }
    return false;
  }
  // Where a line starting at `origin` becomes too long (max_line + 2 bytes on), or n_.
  std::size_t line_stop(std::size_t origin) const noexcept {
    const std::size_t room = opt_.max_line + 2;
    return (room < opt_.max_line || n_ - origin <= room) ? n_ : origin + room;
  }
  parse_result start_line(std::size_t s, std::size_t e);
  // `colon`: the offset colon_in(s, e) gives, or no_colon when not known yet.
  parse_result header(std::size_t s, std::size_t e, bool folded, std::size_t colon);
  parse_result check_request_uri(std::size_t consumed) const;
  parse_result check_strict(std::size_t header_end, std::size_t consumed) const;

  std::string_view buf_;
  std::size_t n_;
  message_view& out_;
  framing f_;
  const parse_options& opt_;
  std::size_t start_ = 0;
  bool have_cl_ = false;
  std::uint64_t cl_ = 0;
  std::size_t cl_offset_ = 0;
  std::size_t counts_[s_count] = {};
  std::size_t dup_offset_ = 0;  // first repeated single-valued header, 0 = none
};

// Finds the end of the line starting at `pos`. A line is at most max_line bytes counted
// from `origin` (the header's first line, so folded continuations count too).
line_status parser::read_line(std::size_t pos, std::size_t origin, std::size_t& end, std::size_t& next, parse_result& err) const {
  // Bytes past `stop` make the line too long; it is only reported when the scan gets there.
  const std::size_t stop = line_stop(origin);
  for (std::size_t i = find_control(buf_.data(), pos, stop); i < stop; i = find_control(buf_.data(), i + 1, stop)) {
    auto c = static_cast<unsigned char>(buf_[i]);
    if (c == '\r') {
      // RFC 3261 §7: lines end in CRLF; a CR followed by anything else is not a line end.
      if (i + 1 < n_ && buf_[i + 1] != '\n') {
        err = fail(errc::bad_line_ending, i);
        return line_status::error;
      }
      if (i + 1 == stop) continue;  // at the end of the buffer, or its LF is past the limit
      c = '\n';                     // CRLF: the LF ends the line
      ++i;
    }
    if (c == '\n') {
      end = (i > pos && buf_[i - 1] == '\r') ? i - 1 : i;
      next = i + 1;
      if (end - origin > opt_.max_line) {
        err = fail(errc::line_too_long, origin);
        return line_status::error;
      }
      return line_status::ok;
    }
    // Control bytes are only legal as a quoted-pair ("\" CTL, RFC 3261 §25.1; RFC 4475
    // §3.1.1.2 has BEL, NUL and DEL escaped in a display name).
    if (c != '\t' && !(i > pos && buf_[i - 1] == '\\')) {
      err = fail(errc::bad_line_ending, i);
      return line_status::error;
    }
  }
  if (stop < n_) {
    err = fail(errc::line_too_long, origin);
    return line_status::error;
  }
  if (f_ == framing::stream) return line_status::need_more;
  end = (n_ > pos && buf_[n_ - 1] == '\r') ? n_ - 1 : n_;
  next = n_;
  if (end - origin > opt_.max_line) {
    err = fail(errc::line_too_long, origin);
    return line_status::error;
  }
  return line_status::eof;
}

parse_result parser::start_line(std::size_t s, std::size_t e) {
  std::string_view line = buf_.substr(s, e - s);
  if (opt_.lenient)
    while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
  if (line.size() >= 4 && iequals(line.substr(0, 4), "SIP/")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2)
    std::size_t sp = line.find(' ');
    std::string_view version = line.substr(0, sp);
    if (!iequals(version, "SIP/2.0")) return fail(errc::bad_version, s);
    if (sp == std::string_view::npos) return fail(errc::bad_start_line, s + line.size());
    std::string_view rest = line.substr(sp + 1);
    std::size_t sp2 = rest.find(' ');
    std::string_view code = rest.substr(0, sp2);
    auto status = parse_decimal(code, 699);
    if (code.size() != 3 || !status || *status < 100) return fail(errc::bad_status_code, s + sp + 1);
    if (sp2 == std::string_view::npos) {
      if (!opt_.lenient) return fail(errc::bad_start_line, s + line.size());
    } else {
      out_.reason = rest.substr(sp2 + 1);
    }
    out_.version = version;
    out_.status = static_cast<int>(*status);
    return {};
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1)
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(errc::bad_start_line, s);
  std::string_view method = line.substr(0, sp1);
  if (method.empty()) return fail(errc::bad_start_line, s);
  for (std::size_t i = 0; i < method.size(); ++i)
    if (!is_token_char(method[i])) return fail(errc::bad_method, s + i);
  std::size_t sp2 = line.rfind(' ');
  if (sp2 == sp1) return fail(errc::bad_start_line, s + sp1);
  std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  // RFC 4475 §3.1.2.7/§3.1.2.8: the elements are separated by exactly one SP.
  if (uri.empty() || uri.front() == ' ') return fail(errc::bad_start_line, s + sp1 + 1);
  if (uri.back() == ' ') return fail(errc::bad_start_line, s + sp2 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version.empty()) return fail(errc::bad_start_line, s + sp2);
  if (!iequals(version, "SIP/2.0")) return fail(errc::bad_version, s + sp2 + 1);
  out_.method = method;
  out_.request_uri = uri;
  out_.version = version;
  return {};
}

// Trims SP/HTAB around a value that is one line: no CR or LF inside, so no folding for
// trim_lws to look for.
std::string_view trim_wsp(std::string_view v) noexcept {
  std::size_t b = 0, e = v.size();
  while (b < e && is_wsp(v[b])) ++b;
  while (e > b && is_wsp(v[e - 1])) --e;
  return v.substr(b, e - b);
}

parse_result parser::header(std::size_t s, std::size_t e, bool folded, std::size_t colon) {
  // Views made directly: `field` holds [s, e) of the buffer, and substr's range checks
  // cost as much as the rest of this function.
  const char* const f = buf_.data() + s;
  const std::size_t size = e - s;
  const std::string_view field(f, size);
  // Most names are ones lookup_header knows, made of token characters only: when the
  // bytes before the first colon are one of them, they need no scan of their own.
  std::size_t i = 0, j = 0;
  header_id id = header_id::other;
  if (colon == no_colon) colon = colon_in(s, e);
  if (colon != 0 && colon != size) id = lookup_header({f, colon});
  if (id != header_id::other) {
    i = j = colon;
  } else {
    while (i < field.size() && is_token_char(field[i])) ++i;
    if (i == 0) return fail(errc::bad_header_name, s);
    j = i;
    while (j < field.size() && is_wsp(field[j])) ++j;  // HCOLON = *( SP / HTAB ) ":" SWS
    if (j == field.size() || field[j] != ':') {
      if (j == i && j < field.size() && field.find(':') != std::string_view::npos) return fail(errc::bad_header_name, s + i);
      return fail(errc::bad_header_line, s + j);
    }
    if (i != colon) id = lookup_header(field.substr(0, i));  // a name then SP/HTAB
  }
  const std::string_view raw_value(f + j + 1, size - j - 1);  // field[j] is the colon
  // Filled in place: a header_view built on the stack and copied in stalls on the copy.
  header_view& h = out_.headers.emplace_back();
  h.name = {f, i};
  h.value = folded ? trim_lws(raw_value) : trim_wsp(raw_value);
  if (h.value.empty()) h.value = {f + size, 0};  // keep the view inside the buffer
  h.id = id;

  if (h.id == header_id::content_length) {
    // RFC 3261 §20.14; a second, different value makes the framing ambiguous (RFC 4475
    // §3.3.9), so it is an error in both modes.
    auto v = parse_decimal(h.value, 0xFFFFFFFFu);
    if (!v || (have_cl_ && *v != cl_)) return fail(errc::bad_content_length, at(h.value));
    have_cl_ = true;
    cl_ = *v;
    cl_offset_ = at(h.value);
  }
  if (opt_.lenient) return {};  // the counts are for check_strict
  std::size_t slot = slot_of(h.id);
  if (slot != s_count && ++counts_[slot] == 2 && slot != s_via && dup_offset_ == 0) dup_offset_ = s;
  return {};
}

// The Request-URI memo of parse.hpp: the last SIP/SIPS/TEL Request-URI this thread found
// valid, and where its headers start (0: none). A trace repeats its registrar's URI in
// every request, and validating it again showed in the parser's profile.
struct uri_memo {
  static constexpr std::size_t max_bytes = 96;
  char bytes[max_bytes];
  std::uint8_t size = 0;  // 0: empty
  std::uint8_t headers_at = 0;
};
thread_local uri_memo last_uri;

parse_result parser::check_request_uri(std::size_t consumed) const {
  std::string_view u = out_.request_uri;
  std::size_t off = at(u);
  if (last_uri.size != 0 && u.size() == last_uri.size && std::memcmp(u.data(), last_uri.bytes, u.size()) == 0) {
    if (last_uri.headers_at != 0 && !opt_.lenient) return fail(errc::bad_request_uri, off + last_uri.headers_at - 1, consumed);
    return {};
  }
  // RFC 3261 §25.1: Request-URI = SIP-URI / SIPS-URI / absoluteURI, never in <> and
  // without whitespace.
  for (std::size_t ws = 0; ws < u.size(); ++ws)  // not find_first_of: a memchr per byte
    if (is_wsp(u[ws])) return fail(errc::bad_request_uri, off + ws, consumed);
  std::size_t colon = u.find(':');
  std::string_view scheme = u.substr(0, colon == std::string_view::npos ? 0 : colon);
  if (iequals(scheme, "sip") || iequals(scheme, "sips") || iequals(scheme, "tel")) {
    detail::uri_parts parts;
    if (detail::scan_uri(u, parts)) return fail(errc::bad_request_uri, off, consumed);
    if (u.size() < uri_memo::max_bytes) {
      std::memcpy(last_uri.bytes, u.data(), u.size());
      last_uri.size = static_cast<std::uint8_t>(u.size());
      last_uri.headers_at = parts.has_headers ? static_cast<std::uint8_t>(at(parts.headers) - off) : 0;
    }
    // RFC 3261 §19.1.1 (table): URI headers are not allowed in a Request-URI.
    if (parts.has_headers && !opt_.lenient) return fail(errc::bad_request_uri, at(parts.headers) - 1, consumed);
    return {};
  }
  if (!detail::is_absolute_uri(u)) return fail(errc::bad_request_uri, off, consumed);
  return {};
}

parse_result parser::check_strict(std::size_t header_end, std::size_t consumed) const {
  for (std::size_t slot : {s_via, s_from, s_to, s_call_id, s_cseq})
    if (counts_[slot] == 0) return fail(errc::missing_required_header, header_end, consumed);
  if (dup_offset_ != 0) return fail(errc::duplicate_header, dup_offset_, consumed);
  const header_view* h = out_.find(header_id::cseq);
  cseq cs;
  if (parse_cseq(h->value, cs)) return fail(errc::bad_cseq, at(h->value), consumed);
  // RFC 3261 §8.2.2 / RFC 4475 §3.1.2.19: the CSeq method must match the request's.
  if (out_.is_request() && cs.method != out_.method) return fail(errc::bad_cseq, at(h->value), consumed);
  return {};
}

parse_result parser::run() {
  out_.clear();
  if (out_.headers.capacity() == 0) out_.headers.reserve(24);
  if (f_ == framing::datagram && n_ > opt_.max_message) return fail(errc::message_too_large, opt_.max_message);
  // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives, RFC 5626 §3.5.1).
  std::size_t pos = 0;
  while (pos < n_) {
    if (buf_[pos] == '\n') ++pos;
    else if (buf_[pos] == '\r' && pos + 1 < n_ && buf_[pos + 1] == '\n') pos += 2;
    else break;
  }
  start_ = pos;
  if (pos == n_ || (buf_[pos] == '\r' && pos + 1 == n_)) {
    if (f_ == framing::stream) return more();
    return fail(errc::empty_message, pos);
  }

  parse_result err;
  std::size_t end = 0, next = 0;
  std::size_t colon = no_colon;
  line_status st = line_status::ok;
  if (!plain_line(pos, end, next, colon)) {
    st = read_line(pos, pos, end, next, err);
    if (st == line_status::error) return err;
    if (st == line_status::need_more) return more();
  }
  if (auto r = start_line(pos, end); r.ec) return r;
  pos = next;

  std::size_t header_end = 0;  // offset of the empty line
  std::size_t body_start = 0;
  std::size_t headers = 0;  // out_.headers.size(), which costs a division
  while (true) {
    if (pos >= n_ || (buf_[pos] == '\r' && pos + 1 == n_)) {
      if (f_ == framing::stream) return more();
      if (!opt_.lenient) return fail(errc::missing_header_end, n_);
      header_end = body_start = n_;
      break;
    }
    if (f_ == framing::stream && pos - start_ > opt_.max_message) return fail(errc::message_too_large, start_ + opt_.max_message);
    char c = buf_[pos];
    if (c == '\n' || c == '\r') {
      if (c == '\r' && buf_[pos + 1] != '\n') return fail(errc::bad_line_ending, pos);
      header_end = pos;
      body_start = pos + (c == '\r' ? 2 : 1);
      break;
    }
    if (is_wsp(c)) return fail(errc::bad_folding, pos);
    if (headers >= opt_.max_headers) return fail(errc::too_many_headers, pos);
    std::size_t hstart = pos;
    if (plain_line(pos, end, next, colon)) {
      st = line_status::ok;
    } else {
      st = read_line(pos, hstart, end, next, err);
      if (st == line_status::error) return err;
      if (st == line_status::need_more) return more();
    }
    std::size_t value_end = end;
    bool folded = false;
    // RFC 3261 §7.3.1: a line starting with SP or HTAB continues the previous header.
    while (st == line_status::ok && next < n_ && is_wsp(buf_[next])) {
      st = read_line(next, hstart, end, next, err);
      if (st == line_status::error) return err;
      if (st == line_status::need_more) return more();
      value_end = end;
      folded = true;
    }
    if (st == line_status::ok && next == n_ && f_ == framing::stream) return more();
    if (auto r = header(hstart, value_end, folded, colon); r.ec) return r;
    ++headers;
    pos = next;
  }

  std::size_t consumed = 0;
  if (f_ == framing::stream) {
    if (!have_cl_) return fail(errc::missing_content_length, header_end);
    if (body_start - start_ + cl_ > opt_.max_message) return fail(errc::message_too_large, cl_offset_);
    if (n_ - body_start < cl_) return more();
    consumed = body_start + static_cast<std::size_t>(cl_);
  } else if (have_cl_) {
    // RFC 3261 §18.3: bytes past Content-Length are discarded; fewer is an error.
    if (cl_ > n_ - body_start) return fail(errc::body_truncated, n_);
    consumed = body_start + static_cast<std::size_t>(cl_);
  } else {
    consumed = n_;
  }
  out_.body = buf_.substr(body_start, consumed - body_start);
  out_.raw = buf_.substr(start_, consumed - start_);

  if (out_.is_request())
    if (auto r = check_request_uri(consumed); r.ec) return r;
  if (!opt_.lenient)
    if (auto r = check_strict(header_end, consumed); r.ec) return r;
  return {{}, consumed, 0, 0};
}

}  // namespace

std::size_t line_of(std::string_view buf, std::size_t offset) noexcept {
  offset = std::min(offset, buf.size());
  return 1 + static_cast<std::size_t>(std::count(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

parse_result parse(std::string_view buf, message_view& out, framing f, const parse_options& opt) {
  return parser(buf, out, f, opt).run();
}

stream_framer::stream_framer(parse_options opt, std::size_t max_buffer)
    : opt_(opt), max_buffer_(max_buffer != 0 ? max_buffer : 4 * opt.max_message) {}

std::error_code stream_framer::append(std::string_view bytes) {
  if (start_ != 0) {
    buf_.erase(0, start_);
    stream_offset_ += start_;
    start_ = 0;
  }
  if (buf_.size() + bytes.size() > max_buffer_) return errc::message_too_large;
  buf_.append(bytes);
  return {};
}

parse_result stream_framer::next(message_view& out) {
  if (failed()) return error_;
  while (start_ < buf_.size()) {
    if (buf_[start_] == '\n') {
      ++start_;
    } else if (buf_[start_] == '\r' && start_ + 1 < buf_.size() && buf_[start_ + 1] == '\n') {
      start_ += 2;
    } else {
      break;
    }
    ++keepalives_;
  }
  std::string_view rest(buf_.data() + start_, buf_.size() - start_);
  parse_result r = parse(rest, out, framing::stream, opt_);
  if (r.ec == errc::need_more) return r;
  if (r.ec) {
    r.offset += stream_offset_ + start_;
    if (r.consumed == 0) error_ = r;
  }
  start_ += r.consumed;
  return r;
}

void stream_framer::reset() noexcept {
  buf_.clear();
  start_ = 0;
  keepalives_ = 0;
  stream_offset_ = 0;
  error_ = {};
}

}  // namespace sip
