// `sipprobe analyze` on captures: the direct classic-pcap reader against libpcap, and the
// relay that hands messages to the tracker's thread.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/analyze/pcap.hpp"
#include "probe/analyze/relay.hpp"
#include "sip/parse.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace probe::analyze;

namespace {

// Every call a sink receives, as text, in order.
// Records every call. Its summary keeps what tells messages apart: the bytes, the status,
// the Call-ID, the last header's value (outside the bytes in a view built by hand) and
// the number of headers. With `every_other`, messages with an odd number of headers are
// not relevant (only counted), to check that nothing of them is handed on.
struct record : summary_sink {
  std::vector<std::string> calls;
  std::vector<const char*> raw_at;  // where each relevant summary's bytes were
  bool every_other = false;
  message_summary summarize(const sip::message_view& m) const override {
    message_summary d;
    d.raw = m.raw;
    d.status = m.status;
    d.relevant = !every_other || m.headers.size() % 2 == 0;
    if (const auto* h = m.find(sip::header_id::call_id)) d.call_id = h->value;
    if (!m.headers.empty()) d.branch = m.headers.back().value;
    d.cseq = static_cast<std::uint32_t>(m.headers.size());
    d.facts = static_cast<std::uint8_t>(m.method.size());
    return d;
  }
  void on_summary(const message_summary& d, const message_meta& meta) override {
    std::string s = "M " + std::to_string(d.status) + "|";
    if (d.relevant) raw_at.push_back(d.raw.data());
    if (d.relevant)
      s += std::string(d.raw) + "|" + std::string(d.call_id) + "|" + std::string(d.branch) + "|" + std::to_string(d.cseq) + "|" +
           std::to_string(d.facts);
    s += "|" + std::to_string(meta.time) + "|" + std::to_string(meta.absolute_time) + "|" + std::string(meta.src) + "|" +
         std::string(meta.dst) + "|" + std::string(meta.transport) + "|" + std::string(meta.file) + "|" +
         std::to_string(meta.where) + "|" + std::to_string(meta.packet) + "|" + std::to_string(meta.body_on_wire);
    calls.push_back(std::move(s));
  }
  void on_warning(std::string where, std::string what) override { calls.push_back("W " + where + ": " + what); }
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct outcome {
  std::vector<std::string> calls;
  std::uint64_t packets = 0, sip = 0, truncated = 0;
  std::optional<std::string> error;  // why read_pcap could not read the capture at all
};

outcome read_bytes(std::string bytes) {
  outcome o;
  record r;
  capture_stats stats;
  std::FILE* f = fmemopen(bytes.data(), bytes.size(), "rb");  // no descriptor: the stdio path
  REQUIRE(f != nullptr);
  if (auto read = read_pcap(f, "cap", r, stats); !read) o.error = read.error();
  o.calls = std::move(r.calls);
  o.packets = stats.packets, o.sip = stats.sip_messages, o.truncated = stats.truncated;
  return o;
}

outcome read_path(const std::filesystem::path& p) {
  outcome o;
  record r;
  capture_stats stats;
  std::FILE* f = std::fopen(p.c_str(), "rb");  // a descriptor: read(2) straight into the blocks
  REQUIRE(f != nullptr);
  if (auto read = read_pcap(f, "cap", r, stats); !read) o.error = read.error();
  o.calls = std::move(r.calls);
  o.packets = stats.packets, o.sip = stats.sip_messages, o.truncated = stats.truncated;
  return o;
}

std::uint32_t get32(const std::string& s, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}

void put32(std::string& s, std::uint32_t v, bool swap) {
  if (swap) v = __builtin_bswap32(v);
  s.append(reinterpret_cast<const char*>(&v), 4);
}

// The same capture written big-endian with nanosecond time stamps (still read directly).
std::string swapped_nanos(const std::string& in) {
  const std::uint32_t scale = get32(in, 0) == 0xa1b23c4d ? 1 : 1000;
  std::string out;
  put32(out, 0xa1b23c4d, true);
  std::uint16_t ver[2] = {__builtin_bswap16(2), __builtin_bswap16(4)};
  out.append(reinterpret_cast<const char*>(ver), 4);
  for (std::size_t at = 8; at < 24; at += 4) put32(out, get32(in, at), true);
  for (std::size_t at = 24; at + 16 <= in.size();) {
    const std::uint32_t caplen = get32(in, at + 8);
    put32(out, get32(in, at), true);
    put32(out, get32(in, at + 4) * scale, true);
    put32(out, caplen, true);
    put32(out, get32(in, at + 12), true);
    out.append(in, at + 16, caplen);
    at += 16 + caplen;
  }
  return out;
}

}  // namespace

TEST_CASE("analyze: classic pcap read directly gives what libpcap gives") {
  const std::filesystem::path dir = std::filesystem::path(SIPPROBE_TEST_DATA) / "traces";
  std::vector<std::filesystem::path> files{dir / "bad/truncated.pcap", dir / "bad/no_sip.pcap"};
  for (const auto& e : std::filesystem::directory_iterator(dir / "pcap"))
    if (e.path().extension() == ".pcap") files.push_back(e.path());
  for (const auto& p : files) {
    CAPTURE(p.filename().string());
    const std::string bytes = slurp(p);
    REQUIRE(bytes.size() >= 24);
    REQUIRE((get32(bytes, 0) == 0xa1b2c3d4 || get32(bytes, 0) == 0xa1b23c4d));
    // Version 2.3 is left to libpcap (it may swap the length fields); these files do not
    // need it, so libpcap reads the same records.
    std::string via_libpcap = bytes;
    via_libpcap[6] = 3;
    const auto expected = read_bytes(via_libpcap);
    REQUIRE_FALSE(expected.error);
    for (const auto& got : {read_bytes(bytes), read_path(p), read_bytes(swapped_nanos(bytes))}) {
      CHECK_FALSE(got.error);
      CHECK(got.calls == expected.calls);
      CHECK(got.packets == expected.packets);
      CHECK(got.sip == expected.sip);
      CHECK(got.truncated == expected.truncated);
    }
    // Cut inside a record header and inside a record: the same warning and messages.
    for (std::size_t cut : {bytes.size() - 1, bytes.size() / 2, std::size_t{30}}) {
      CAPTURE(cut);
      const auto a = read_bytes(bytes.substr(0, cut)), b = read_bytes(via_libpcap.substr(0, cut));
      CHECK(a.calls == b.calls);
      CHECK(a.packets == b.packets);
    }
  }
}

TEST_CASE("analyze: the relay hands on every call in order, from its own thread") {
  const std::string text =
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\nCall-ID: a\r\n"
      "CSeq: 1 REGISTER\r\nX-Empty:\r\nContent-Length: 4\r\n\r\nbody";
  sip::message_view v;
  sip::parse_options opt;
  opt.lenient = true;
  REQUIRE_FALSE(sip::parse(text, v, sip::framing::datagram, opt).ec);
  sip::message_view odd = v;  // a view a sink built by hand: a header outside the bytes
  const std::string outside = "outside";
  odd.headers.push_back({"X-Outside", outside, sip::header_id::other});

  auto feed = [&](trace_sink& s) {
    std::string file = "a.pcap";
    for (int i = 0; i < 20000; ++i) {
      message_meta m;
      m.time = i;
      m.absolute_time = i % 5 == 0;
      m.packet = i % 4 == 0;
      m.body_on_wire = i % 6 - 1;
      m.src = "10.0.0.5:5060";
      m.dst = i % 2 ? "" : "[2001:db8::1]:5060";
      m.transport = i % 3 ? "udp" : "tcp";
      if (i == 10000) file = "b.pcap";  // a reused buffer with new text
      m.file = file;
      m.where = static_cast<std::uint64_t>(i);
      s.on_message(i % 7 ? v : odd, m);
      if (i % 999 == 0) s.on_warning("w" + std::to_string(i), "what");
    }
  };
  record direct, relayed;
  direct.every_other = relayed.every_other = true;
  feed(direct);
  {
    relay_sink relay(relayed);
    feed(relay);
    relay.finish();
  }
  CHECK(relayed.calls == direct.calls);

  // Shared bytes are pointed to, not copied, and their owner is let go once delivered.
  auto block = std::make_shared<std::string>(text);
  sip::message_view in_block;
  REQUIRE_FALSE(sip::parse(*block, in_block, sip::framing::datagram, opt).ec);
  sip::message_view odd_in_block = in_block;  // its last header's value is not in the block
  odd_in_block.headers.push_back({"X-Outside", outside, sip::header_id::other});
  record shared_direct, shared_relayed;
  {
    relay_sink relay(shared_relayed);
    relay.share(*block, block);
    for (int i = 0; i < 10000; ++i) {
      const auto& m = i % 3 ? in_block : odd_in_block;
      relay.on_message(m, {});
      shared_direct.on_message(m, {});
    }
    relay.finish();
  }
  CHECK(shared_relayed.calls == shared_direct.calls);
  CHECK(block.use_count() == 1);
  CHECK(shared_relayed.raw_at.size() == 10000);
  CHECK(
      std::all_of(shared_relayed.raw_at.begin(), shared_relayed.raw_at.end(), [&](const char* p) { return p == block->data(); }));
  CHECK(std::none_of(relayed.raw_at.begin(), relayed.raw_at.end(), [&](const char* p) { return p == text.data(); }));

  struct thrower : summary_sink {
    int seen = 0;
    message_summary summarize(const sip::message_view&) const override { return {}; }
    void on_summary(const message_summary&, const message_meta&) override {
      if (++seen == 5000) throw std::runtime_error("inner failed");
    }
    void on_warning(std::string, std::string) override {}
  } t;
  relay_sink relay(t);
  feed(relay);  // goes on without blocking after the inner sink failed
  CHECK_THROWS_WITH(relay.finish(), "inner failed");
  CHECK(t.seen == 5000);
}
