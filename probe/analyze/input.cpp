// Inputs of `sipprobe analyze`: format names, positions, reading text in bounded chunks,
// and opening a file or standard input with its first bytes kept for detection.
#include "probe/analyze/input.hpp"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace probe::analyze {

std::string_view to_string(trace_format f) noexcept {
  switch (f) {
    case trace_format::automatic: return "auto";
    case trace_format::text: return "text";
    case trace_format::ngrep: return "ngrep";
    case trace_format::asterisk: return "asterisk";
    case trace_format::fslog: return "freeswitch";
    case trace_format::sngrep: return "sngrep";
    case trace_format::pcap: return "pcap";
  }
  return "text";
}

std::optional<trace_format> format_from_string(std::string_view s) noexcept {
  if (s == "auto") return trace_format::automatic;
  if (s == "text") return trace_format::text;
  if (s == "ngrep") return trace_format::ngrep;
  if (s == "asterisk") return trace_format::asterisk;
  if (s == "freeswitch" || s == "fslog" || s == "kamailio") return trace_format::fslog;
  if (s == "sngrep") return trace_format::sngrep;
  if (s == "pcap" || s == "pcapng") return trace_format::pcap;
  return std::nullopt;
}

std::string position(std::string_view file, std::uint64_t where, bool packet) {
  std::string p(file);
  if (packet) p += " packet ";
  else p += ":";
  p += std::to_string(where);
  return p;
}

text_result read_text(std::FILE* f, std::string file, trace_format format, trace_sink& sink) {
  text_reader reader(sink, std::move(file), format);
  std::string buf;
  std::array<char, 64 * 1024> chunk{};
  std::uint64_t lineno = 0;
  bool skipping = false;  // the rest of an over-long line
  for (;;) {
    const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), f);
    if (n == 0) break;
    std::string_view in(chunk.data(), n);
    while (!in.empty()) {
      auto nl = in.find('\n');
      auto part = in.substr(0, nl);
      if (!skipping) {
        if (buf.size() + part.size() <= text_reader::max_line) buf.append(part);
        else buf.append(part.substr(0, text_reader::max_line - buf.size()));
      }
      if (nl == std::string_view::npos) {
        if (buf.size() >= text_reader::max_line && !skipping) {
          reader.line(buf, ++lineno);
          buf.clear();
          skipping = true;
        }
        break;
      }
      if (!skipping) reader.line(buf, ++lineno);
      else skipping = false;
      buf.clear();
      in.remove_prefix(nl + 1);
    }
  }
  if (!buf.empty() && !skipping) reader.line(buf, ++lineno);
  reader.finish();
  return {reader.messages(), reader.last_time()};
}

namespace {

// A FILE that first replays the bytes read for format detection, then reads on.
struct replay_cookie {
  std::FILE* under = nullptr;
  std::string head;
  std::size_t pos = 0;
  read_budget* budget = nullptr;
};

// Counts `n` bytes read; false when they go past the budget.
bool spend(read_budget* budget, std::size_t n) {
  if (budget == nullptr) return true;
  budget->used += n;
  if (budget->max_bytes == 0 || budget->used <= budget->max_bytes) return true;
  budget->exceeded = true;
  return false;
}

ssize_t replay_read(void* c, char* buf, std::size_t size) {
  auto* r = static_cast<replay_cookie*>(c);
  if (r->pos < r->head.size()) {
    const std::size_t n = std::min(size, r->head.size() - r->pos);
    std::memcpy(buf, r->head.data() + r->pos, n);
    r->pos += n;
    return static_cast<ssize_t>(n);
  }
  if (r->budget != nullptr && r->budget->exceeded) {
    errno = EFBIG;
    return -1;
  }
  const std::size_t n = std::fread(buf, 1, size, r->under);
  if (n == 0 && std::ferror(r->under)) return -1;
  if (!spend(r->budget, n)) {
    errno = EFBIG;
    return -1;
  }
  return static_cast<ssize_t>(n);
}

int replay_close(void* c) {
  auto* r = static_cast<replay_cookie*>(c);
  int rc = r->under == stdin ? 0 : std::fclose(r->under);
  delete r;
  return rc;
}

}  // namespace

std::FILE* prepend(std::string head, std::FILE* under, read_budget* budget) {
  auto* cookie = new replay_cookie{under, std::move(head), 0, budget};
  cookie_io_functions_t io{};
  io.read = replay_read;
  io.close = replay_close;
  std::FILE* f = fopencookie(cookie, "r", io);
  if (f == nullptr) {
    delete cookie;
    return nullptr;
  }
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return f;
}

expected<peeked_input, std::string> open_input(const std::string& path, read_budget* budget) {
  std::FILE* under = nullptr;
  if (path == "-") {
    under = stdin;
  } else {
    under = std::fopen(path.c_str(), "rb");
    if (under == nullptr) return unexpected("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  const bool regular = ::fstat(fileno(under), &st) == 0 && S_ISREG(st.st_mode);
  if (regular && !spend(budget, static_cast<std::uint64_t>(st.st_size))) {
    if (under != stdin) std::fclose(under);
    return unexpected(path + " is " + std::to_string(st.st_size) + " bytes, more than --max-bytes " +
                      std::to_string(budget->max_bytes) + " allows (with the inputs before it)");
  }
  // Large reads: a day's capture is gigabytes, and each layer's default 4 KiB buffer
  // turns that into a million read calls. (setvbuf must precede the first read.)
  std::setvbuf(under, nullptr, _IOFBF, 1 << 20);
  peeked_input in;
  in.head.resize(peeked_input::head_bytes);
  std::size_t got = 0;
  while (got < in.head.size()) {
    const std::size_t n = std::fread(in.head.data() + got, 1, in.head.size() - got, under);
    if (n == 0) break;
    got += n;
  }
  in.head.resize(got);
  if (std::ferror(under)) {
    const std::string why = std::strerror(errno);
    if (under != stdin) std::fclose(under);
    return unexpected("cannot read " + path + ": " + why);
  }
  // A file goes back to its start; only what cannot seek (stdin, a pipe) needs the head
  // replayed, through a FILE that costs a copy per read. So does what is not a regular
  // file under a budget (a device can seek and never end).
  if (under != stdin && (regular || budget == nullptr || budget->max_bytes == 0) && std::fseek(under, 0, SEEK_SET) == 0) {
    in.file = under;
    return in;
  }
  if (!regular && !spend(budget, got)) {
    if (under != stdin) std::fclose(under);
    return unexpected("more than --max-bytes " + std::to_string(budget->max_bytes) + " bytes of input in " + path);
  }
  in.file = prepend(in.head, under, regular ? nullptr : budget);
  if (in.file == nullptr) {
    if (under != stdin) std::fclose(under);
    return unexpected("cannot read " + path + ": fopencookie failed");
  }
  return in;
}

}  // namespace probe::analyze
