// bench_make_pcap OUT.pcap [MESSAGES] — writes a synthetic capture of a busy PBX for the
// `sipprobe analyze` benchmark (tests/bench/analyze/run): Ethernet/IPv4/UDP, at least
// MESSAGES SIP messages (default 1 000 000), one message every millisecond of trace time.
//
// The mix, per cycle of a phone (20 000 phones, 10.1.x.y → 198.51.100.7:5060):
//   60 %  REGISTER → 401 → REGISTER with Authorization → 200       (registered)
//   10 %  REGISTER → 401 → REGISTER with Authorization → 401       (auth_failed)
//    5 %  REGISTER retransmitted 3 times, no answer                 (no_response)
//    5 %  REGISTER → 401 → REGISTER with Authorization → 403       (forbidden)
//   20 %  OPTIONS → 200, or INVITE → 100 → 200                      (other traffic)
// Deterministic (a fixed LCG), so every run benchmarks the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct lcg {
  std::uint64_t s = 0x5eed;
  std::uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(s >> 33);
  }
};

struct writer {
  std::FILE* f = nullptr;
  std::uint64_t messages = 0;
  double now = 1714557600.0;  // 2024-05-01T10:00:00Z
  std::uint16_t ident = 0;
  std::vector<unsigned char> pkt;

  void header() {
    const std::uint32_t h[] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    std::fwrite(h, sizeof h, 1, f);
  }

  static void put16(unsigned char* p, unsigned v) {
    p[0] = static_cast<unsigned char>(v >> 8), p[1] = static_cast<unsigned char>(v);
  }

  void send(std::uint32_t src, std::uint32_t dst, std::uint16_t sport, std::uint16_t dport, const std::string& sip) {
    now += 0.001;
    ++messages;
    const std::size_t udp_len = 8 + sip.size(), ip_len = 20 + udp_len, frame = 14 + ip_len;
    pkt.assign(frame, 0);
    unsigned char* p = pkt.data();
    std::memcpy(p, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
    unsigned char* ip = p + 14;
    ip[0] = 0x45;
    put16(ip + 2, static_cast<unsigned>(ip_len));
    put16(ip + 4, ++ident);
    ip[8] = 64, ip[9] = 17;
    for (int i = 0; i < 4; ++i)
      ip[12 + i] = static_cast<unsigned char>(src >> (24 - 8 * i)), ip[16 + i] = static_cast<unsigned char>(dst >> (24 - 8 * i));
    std::uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += static_cast<std::uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    put16(ip + 10, ~sum & 0xffff);
    unsigned char* udp = ip + 20;
    put16(udp, sport), put16(udp + 2, dport), put16(udp + 4, static_cast<unsigned>(udp_len));
    std::memcpy(udp + 8, sip.data(), sip.size());
    const auto sec = static_cast<std::uint32_t>(now);
    const auto usec = static_cast<std::uint32_t>((now - sec) * 1e6);
    const std::uint32_t rec[] = {sec, usec, static_cast<std::uint32_t>(frame), static_cast<std::uint32_t>(frame)};
    std::fwrite(rec, sizeof rec, 1, f);
    std::fwrite(pkt.data(), frame, 1, f);
  }
};

std::string ip_text(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." + std::to_string(a >> 8 & 255) + "." +
         std::to_string(a & 255);
}

std::string request(const std::string& method, int phone, const std::string& host, const std::string& call_id, int cseq,
                    const std::string& branch, bool auth, const std::string& nonce) {
  const std::string user = std::to_string(1000 + phone);
  std::string m = method +
                  " sip:pbx.example.com SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP " +
                  host + ":5060;branch=z9hG4bK" + branch +
                  ";rport\r\n"
                  "Max-Forwards: 70\r\n"
                  "From: <sip:" +
                  user + "@pbx.example.com>;tag=" + call_id.substr(0, 8) +
                  "\r\n"
                  "To: <sip:" +
                  (method == "INVITE" ? std::string("2000") : user) +
                  "@pbx.example.com>\r\n"
                  "Call-ID: " +
                  call_id +
                  "\r\n"
                  "CSeq: " +
                  std::to_string(cseq) + " " + method +
                  "\r\n"
                  "Contact: <sip:" +
                  user + "@" + host +
                  ":5060>\r\n"
                  "User-Agent: BenchPhone/1.0\r\n";
  if (method == "REGISTER") m += "Expires: 3600\r\n";
  if (auth)
    m += "Authorization: Digest username=\"" + user + "\", realm=\"pbx.example.com\", nonce=\"" + nonce +
         "\", uri=\"sip:pbx.example.com\", response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, "
         "cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n";
  m += "Content-Length: 0\r\n\r\n";
  return m;
}

std::string response(const std::string& req, int status, const char* reason, const std::string& extra) {
  std::string out = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
  std::size_t pos = req.find("\r\n") + 2;
  while (pos < req.size()) {
    auto end = req.find("\r\n", pos);
    if (end == pos) break;
    auto line = req.substr(pos, end - pos);
    for (const char* h : {"Via:", "From:", "Call-ID:", "CSeq:"})
      if (line.rfind(h, 0) == 0) out += line + "\r\n";
    if (line.rfind("To:", 0) == 0) out += line + ";tag=srv" + std::to_string(status) + "\r\n";
    pos = end + 2;
  }
  return out + extra + "Server: BenchPBX/1.0\r\nContent-Length: 0\r\n\r\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_make_pcap OUT.pcap [MESSAGES]\n");
    return 2;
  }
  const std::uint64_t target = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  writer w;
  w.f = std::fopen(argv[1], "wb");
  if (w.f == nullptr) {
    std::perror(argv[1]);
    return 2;
  }
  static char buf[1 << 20];
  std::setvbuf(w.f, buf, _IOFBF, sizeof buf);
  w.header();
  lcg rng;
  const std::uint32_t server = 198u << 24 | 51u << 16 | 100u << 8 | 7u;
  std::vector<int> cseq(20000, 0);
  std::uint64_t cycle = 0;
  const std::string challenge = "WWW-Authenticate: Digest realm=\"pbx.example.com\", nonce=\"";
  while (w.messages < target) {
    const int phone = static_cast<int>(rng.next() % 20000);
    const std::uint32_t addr = 10u << 24 | 1u << 16 | static_cast<std::uint32_t>(phone / 250) << 8 |
                               static_cast<std::uint32_t>(phone % 250 + 1);
    const std::string host = ip_text(addr);
    const std::string call_id = std::to_string(phone) + "-" + std::to_string(++cycle) + "@" + host;
    const std::string nonce = "n" + std::to_string(rng.next());
    const unsigned kind = rng.next() % 100;
    auto up = [&](const std::string& m) { w.send(addr, server, 5060, 5060, m); };
    auto down = [&](const std::string& m) { w.send(server, addr, 5060, 5060, m); };
    int& c = cseq[static_cast<std::size_t>(phone)];
    const std::string br = std::to_string(cycle);
    if (kind < 80) {
      if (kind >= 70 && kind < 75) {
        auto r = request("REGISTER", phone, host, call_id, ++c, br + "a", false, "");
        up(r), up(r), up(r);
        continue;
      }
      auto r1 = request("REGISTER", phone, host, call_id, ++c, br + "a", false, "");
      up(r1);
      down(response(r1, 401, "Unauthorized", challenge + nonce + "\", algorithm=MD5, qop=\"auth\"\r\n"));
      auto r2 = request("REGISTER", phone, host, call_id, ++c, br + "b", true, nonce);
      up(r2);
      if (kind < 60)
        down(response(r2, 200, "OK", "Contact: <sip:" + std::to_string(1000 + phone) + "@" + host + ":5060>;expires=3600\r\n"));
      else if (kind < 70) down(response(r2, 401, "Unauthorized", challenge + nonce + "x\", algorithm=MD5, qop=\"auth\"\r\n"));
      else down(response(r2, 403, "Forbidden", ""));
    } else if (kind < 90) {
      auto o = request("OPTIONS", phone, host, call_id, 1, br + "o", false, "");
      up(o), down(response(o, 200, "OK", ""));
    } else {
      auto i = request("INVITE", phone, host, call_id, 1, br + "i", false, "");
      up(i), down(response(i, 100, "Trying", "")), down(response(i, 200, "OK", ""));
    }
  }
  std::fclose(w.f);
  std::fprintf(stderr, "bench_make_pcap: %llu messages in %s\n", static_cast<unsigned long long>(w.messages), argv[1]);
  return 0;
}
