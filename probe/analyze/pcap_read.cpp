// Capture files: classic pcap read directly, everything else through libpcap (see
// pcap.hpp).
//
// Why not libpcap for everything: pcap_next_ex costs two freads and a copy per packet,
// which was a sixth of `analyze` on a day's capture. The classic format is simple
// (tcpdump.org/manpages/pcap-savefile.5.html), so it is read here in large blocks and
// each packet decoded where it lies. Only the layout libpcap reads without guessing is
// taken: version 2.4, micro- or nanosecond magic, either byte order, a link type without
// FCS bits that packet_decoder knows. pcapng, versions 2.3 and older (whose length fields
// libpcap may swap), Kuznetzov's patched format and other link types go to libpcap, as
// do its error texts: the ones this reader writes are worded as libpcap 1.10's
// (sf-pcap.c), so a warning does not depend on the path a file took.
#include "probe/analyze/pcap.hpp"
#include "probe/analyze/relay.hpp"

#include <dlfcn.h>
#include <pcap/pcap.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <vector>

namespace probe::analyze {
namespace {

constexpr std::size_t file_header_bytes = 24, record_header_bytes = 16;
constexpr std::uint32_t magic_micro = 0xa1b2c3d4, magic_nano = 0xa1b23c4d;
constexpr std::uint32_t linktype_ext_bits = 0xfc000000;  // FCS length and flags (LT_LINKTYPE_EXT)
// libpcap's MAXIMUM_SNAPLEN, for every link type packet_decoder reads: the most it takes
// of one packet, and the snapshot length it assumes when the file header says 0 or more.
constexpr std::uint32_t max_snaplen = 262144;
// Whole records are decoded in the buffer, refilled by large reads: straight from the
// file descriptor when the FILE has one (a file: one copy, from the page cache), else
// through stdio in multiples of its buffer (1 MiB, input.cpp) so that it passes
// them on rather than copying them once more.
constexpr std::size_t fill_block = std::size_t{1} << 20, buffer_bytes = 4 * fill_block;
static_assert(buffer_bytes >= record_header_bytes + max_snaplen + fill_block);
static_assert(buffer_bytes % (std::size_t{2} << 20) == 0);  // whole huge pages (block_pool)

std::uint32_t u32(const unsigned char* p, bool swapped) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}

std::uint16_t u16(const unsigned char* p, bool swapped) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return swapped ? __builtin_bswap16(v) : v;
}

struct classic_header {
  bool swapped = false;
  bool nanos = false;
  std::uint32_t snapshot = 0;
  int linktype = 0;
};

std::optional<classic_header> classic(const unsigned char* h) noexcept {
  classic_header c;
  const std::uint32_t magic = u32(h, false);
  if (magic == magic_micro || magic == magic_nano) c.swapped = false;
  else if (__builtin_bswap32(magic) == magic_micro || __builtin_bswap32(magic) == magic_nano) c.swapped = true;
  else return std::nullopt;
  c.nanos = u32(h, c.swapped) == magic_nano;
  if (u16(h + 4, c.swapped) != 2 || u16(h + 6, c.swapped) != 4) return std::nullopt;
  const std::uint32_t snaplen = u32(h + 16, c.swapped), linktype = u32(h + 20, c.swapped);
  if ((linktype & linktype_ext_bits) != 0 || !packet_decoder::supported_linktype(static_cast<int>(linktype))) return std::nullopt;
  c.snapshot = snaplen == 0 || snaplen > max_snaplen ? max_snaplen : snaplen;
  c.linktype = static_cast<int>(linktype);
  return c;
}

// Read buffers, reused. A block is released on whichever thread drops its last
// reference (the relay's, once the messages in it are delivered).
class block_pool : public std::enable_shared_from_this<block_pool> {
 public:
  std::shared_ptr<unsigned char> get() {
    block b;
    {
      std::lock_guard lock(mutex_);
      if (!spare_.empty()) {
        b = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    if (!b) b = allocate();
    return {b.release(), [pool = shared_from_this()](unsigned char* p) { pool->put(p); }};
  }

 private:
  struct release {
    void operator()(unsigned char* p) const noexcept { std::free(p); }
  };
  using block = std::unique_ptr<unsigned char[], release>;
  // In 2 MiB pages where the kernel has them for the asking (transparent huge pages in
  // "madvise" mode, Debian's default): the first read into a block took a page fault per
  // 4 KiB, and a fault is dear in a VM (docs/benchmarks.md).
  // Without them (or where madvise fails) the block is in ordinary pages.
  static block allocate() {
    void* p = std::aligned_alloc(huge_page, buffer_bytes);
    if (p == nullptr) throw std::bad_alloc();
    (void)::madvise(p, buffer_bytes, MADV_HUGEPAGE);
    return block(static_cast<unsigned char*>(p));
  }
  void put(unsigned char* p) {
    std::lock_guard lock(mutex_);
    spare_.emplace_back(p);
  }
  static constexpr std::size_t huge_page = std::size_t{2} << 20;
  std::mutex mutex_;
  std::vector<block> spare_;
};

// A window on a FILE: fill(n) makes n bytes at data() available (fewer at the end).
// Bytes once read stay where they are: a block is never written again after it is left
// for the next one (the unread tail is copied over), so messages decoded from a block
// reach the relay as views into it, not copies.
class block_reader {
 public:
  block_reader(std::FILE* f, relay_sink& relay) : f_(f), relay_(relay) {
    // The FILE has read ahead: the descriptor is usable only once set to where the FILE is.
    const int fd = fileno(f);
    const long at = fd >= 0 ? std::ftell(f) : -1;
    if (at >= 0 && ::lseek(fd, at, SEEK_SET) == at) fd_ = fd;
    next_block();
  }

  std::size_t fill(std::size_t n) {
    if (end_ - pos_ < n && !done_) {
      if (buffer_bytes - pos_ < n) next_block();
      while (end_ - pos_ < n && !done_) {
        const std::size_t room = buffer_bytes - end_;
        const std::size_t got = fd_ >= 0 ? read_fd(room) : read_file(room);
        end_ += got;
      }
    }
    return std::min(n, end_ - pos_);
  }
  const unsigned char* data() const noexcept { return buf_.get() + pos_; }
  void skip(std::size_t n) noexcept { pos_ += n; }
  // A read error hides what a short read would otherwise mean.
  std::error_code error() const noexcept { return error_; }

 private:
  void next_block() {
    auto next = pool_->get();
    if (buf_) std::memcpy(next.get(), buf_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    buf_ = std::move(next);
    relay_.share({reinterpret_cast<const char*>(buf_.get()), buffer_bytes}, buf_);
  }
  std::size_t read_fd(std::size_t room) {
    for (;;) {
      const ssize_t got = ::read(fd_, buf_.get() + end_, room);
      if (got > 0) return static_cast<std::size_t>(got);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) error_.assign(errno, std::generic_category());
      done_ = true;
      return 0;
    }
  }
  std::size_t read_file(std::size_t room) {
    const std::size_t want = room >= fill_block ? room / fill_block * fill_block : room;
    const std::size_t got = std::fread(buf_.get() + end_, 1, want, f_);
    if (got < want) {
      done_ = true;
      if (std::ferror(f_)) error_.assign(errno, std::generic_category());
    }
    return got;
  }

  std::FILE* f_;
  relay_sink& relay_;
  int fd_ = -1;
  std::shared_ptr<block_pool> pool_ = std::make_shared<block_pool>();
  std::shared_ptr<unsigned char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool done_ = false;
  std::error_code error_;
};

// "error reading dump file: <why>", as libpcap says it.
unexpected<std::string> read_failure(std::error_code ec) { return unexpected("error reading dump file: " + ec.message()); }

// Decodes every record up to the end of the file, or says why the rest is unreadable.
expected<void, std::string> read_classic(std::FILE* f, const classic_header& h, packet_decoder& dec, relay_sink& relay) {
  block_reader in(f, relay);
  for (;;) {
    const std::size_t got = in.fill(record_header_bytes);
    if (got < record_header_bytes) {
      if (in.error()) return read_failure(in.error());
      if (got == 0) return {};
      return unexpected("truncated dump file; tried to read " + std::to_string(record_header_bytes) + " header bytes, only got " +
                        std::to_string(got));
    }
    const unsigned char* r = in.data();
    // struct pcap_timeval holds signed 32-bit fields; nanoseconds become microseconds.
    const auto sec = static_cast<std::int32_t>(u32(r, h.swapped));
    auto frac = static_cast<std::int32_t>(u32(r + 4, h.swapped));
    if (h.nanos) frac /= 1000;
    const std::uint32_t caplen = u32(r + 8, h.swapped);
    in.skip(record_header_bytes);
    if (caplen > max_snaplen)
      return unexpected("invalid packet capture length " + std::to_string(caplen) + ", bigger than snaplen of " +
                        std::to_string(h.snapshot));
    // Beyond the snapshot length a record is read but cut (libpcap does the same).
    const std::uint32_t keep = std::min(caplen, h.snapshot);
    const std::size_t have = in.fill(caplen);
    if (have < caplen) {
      if (in.error()) return read_failure(in.error());
      return unexpected("truncated dump file; tried to read " + std::to_string(have < keep ? keep : caplen) +
                        " captured bytes, only got " + std::to_string(have));
    }
    dec.packet(h.linktype, static_cast<double>(sec) + static_cast<double>(frac) / 1e6, in.data(), keep);
    in.skip(caplen);
  }
}

// libpcap, opened when a capture first needs it rather than linked: linked, every run of
// every command loaded it and its chain (libdbus, libsystemd, libgcrypt, liblzma, libzstd,
// liblz4, libcap, libgpg-error), for the few that read pcapng. The six functions used.
struct libpcap_api {
  decltype(&::pcap_fopen_offline) fopen_offline = nullptr;
  decltype(&::pcap_datalink) datalink = nullptr;
  decltype(&::pcap_datalink_val_to_name) datalink_val_to_name = nullptr;
  decltype(&::pcap_next_ex) next_ex = nullptr;
  decltype(&::pcap_geterr) geterr = nullptr;
  decltype(&::pcap_close) close = nullptr;
  std::string error;  // why libpcap cannot be used ("" when every function was found)
};

template <class F>
bool find_symbol(void* lib, const char* name, F& fn, std::string& error) {
  fn = reinterpret_cast<F>(::dlsym(lib, name));
  if (fn == nullptr && error.empty()) error = std::string(SIPPROBE_LIBPCAP_SONAME) + " has no " + name;
  return fn != nullptr;
}

libpcap_api open_libpcap() {
  libpcap_api api;
  // Never closed: the functions are used until the process ends.
  void* lib = ::dlopen(SIPPROBE_LIBPCAP_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = ::dlerror();
    api.error = why != nullptr ? why : SIPPROBE_LIBPCAP_SONAME ": cannot be loaded";
    return api;
  }
  find_symbol(lib, "pcap_fopen_offline", api.fopen_offline, api.error);
  find_symbol(lib, "pcap_datalink", api.datalink, api.error);
  find_symbol(lib, "pcap_datalink_val_to_name", api.datalink_val_to_name, api.error);
  find_symbol(lib, "pcap_next_ex", api.next_ex, api.error);
  find_symbol(lib, "pcap_geterr", api.geterr, api.error);
  find_symbol(lib, "pcap_close", api.close, api.error);
  return api;
}

// Opened once per process, on first use (the reading thread; a static is thread-safe).
const libpcap_api& libpcap() {
  static const libpcap_api api = open_libpcap();
  return api;
}

// Everything libpcap reads: pcapng and the classic variants left out above.
expected<void, std::string> read_libpcap(std::FILE* f, const std::string& file, packet_decoder& dec, trace_sink& sink) {
  const libpcap_api& pcap = libpcap();
  if (!pcap.error.empty()) {
    std::fclose(f);
    return unexpected(file + ": reading this capture needs libpcap, which cannot be loaded: " + pcap.error);
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap.fopen_offline(f, errbuf);
  if (pc == nullptr) {
    std::fclose(f);
    return unexpected(file + ": not a capture libpcap can read: " + errbuf);
  }
  const int lt = pcap.datalink(pc);
  if (!packet_decoder::supported_linktype(lt)) {
    const char* name = pcap.datalink_val_to_name(lt);
    pcap.close(pc);
    return unexpected(file + ": unsupported link type " + std::to_string(lt) + (name ? std::string(" (") + name + ")" : ""));
  }
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  for (;;) {
    const int rc = pcap.next_ex(pc, &hdr, &data);
    if (rc == 1) {
      const double t = static_cast<double>(hdr->ts.tv_sec) + static_cast<double>(hdr->ts.tv_usec) / 1e6;
      dec.packet(lt, t, data, hdr->caplen);
      continue;
    }
    if (rc == PCAP_ERROR) {
      sink.on_warning(position(file, dec.stats().packets + 1, true),
                      std::string("capture cut short: ") + pcap.geterr(pc) + "; read up to here");
    }
    break;  // PCAP_ERROR_BREAK: end of file
  }
  pcap.close(pc);
  return {};
}

}  // namespace

expected<void, std::string> read_pcap(std::FILE* f, const std::string& file, summary_sink& out, capture_stats& stats) {
  // Decoding and parsing here, tracking attempts on the relay's thread: on a big capture
  // each is about half of the work.
  relay_sink sink(out);
  packet_decoder dec(sink, file);
  unsigned char head[file_header_bytes];
  const std::size_t got = std::fread(head, 1, sizeof head, f);
  const auto classic_file = got == sizeof head ? classic(head) : std::nullopt;
  if (classic_file) {
    if (auto read = read_classic(f, *classic_file, dec, sink); !read)
      sink.on_warning(position(file, dec.stats().packets + 1, true), "capture cut short: " + read.error() + "; read up to here");
    std::fclose(f);
  } else {
    // libpcap reads the file from its first byte: put back what was looked at.
    std::FILE* whole = prepend(std::string(reinterpret_cast<const char*>(head), got), f);
    if (whole == nullptr) {
      std::fclose(f);
      return unexpected(file + ": cannot read: fopencookie failed");
    }
    if (auto read = read_libpcap(whole, file, dec, sink); !read) return read;
  }
  dec.finish();
  sink.finish();
  stats.add(dec.stats());
  return {};
}

}  // namespace probe::analyze
