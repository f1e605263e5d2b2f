// tests/netcheck/fake_dns.hpp — DNS wire-format builders and an in-process DNS server on
// 127.0.0.1 (UDP and TCP on the same ephemeral port), c-ares's MockServer idea: the test
// decides, query by query, what goes back (an answer, a truncated one, garbage, nothing).
#pragma once

#include <arpa/inet.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fake_dns {

using bytes = std::vector<std::uint8_t>;

enum : std::uint16_t { t_a = 1, t_cname = 5, t_txt = 16, t_aaaa = 28, t_srv = 33, t_naptr = 35 };
enum : std::uint8_t { noerror = 0, formerr = 1, servfail = 2, nxdomain = 3, notimp = 4, refused = 5 };

inline void put16(bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(bytes& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
inline void put_name(bytes& b, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<std::uint8_t>(dot - start));
    b.insert(b.end(), name.begin() + static_cast<std::ptrdiff_t>(start), name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  b.push_back(0);
}
inline void put_string(bytes& b, const std::string& s) {  // <character-string>
  b.push_back(static_cast<std::uint8_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

struct rr {
  std::string name;
  std::uint16_t type;
  std::uint32_t ttl;
  bytes rdata;
};

inline bytes srv_rdata(std::uint16_t prio, std::uint16_t weight, std::uint16_t port, const std::string& target) {
  bytes b;
  put16(b, prio);
  put16(b, weight);
  put16(b, port);
  put_name(b, target);
  return b;
}
inline bytes naptr_rdata(std::uint16_t order, std::uint16_t pref, const std::string& flags, const std::string& service,
                         const std::string& regexp, const std::string& replacement) {
  bytes b;
  put16(b, order);
  put16(b, pref);
  put_string(b, flags);
  put_string(b, service);
  put_string(b, regexp);
  put_name(b, replacement);
  return b;
}
inline bytes a_rdata(const char* ip) {
  bytes b(4);
  ::inet_pton(AF_INET, ip, b.data());
  return b;
}
inline bytes aaaa_rdata(const char* ip) {
  bytes b(16);
  ::inet_pton(AF_INET6, ip, b.data());
  return b;
}

struct question {
  std::uint16_t id = 0;
  std::string name;
  std::uint16_t type = 0;
};

// A response to `q` (QR, AA, RA set). `answers` go to the answer section.
inline bytes response(const question& q, std::uint8_t rcode, const std::vector<rr>& answers, bool tc = false) {
  bytes b;
  put16(b, q.id);
  b.push_back(static_cast<std::uint8_t>(0x84 | (tc ? 0x02 : 0x00)));  // QR AA [TC]
  b.push_back(static_cast<std::uint8_t>(0x80 | rcode));               // RA rcode
  put16(b, 1);
  put16(b, static_cast<std::uint16_t>(answers.size()));
  put16(b, 0);
  put16(b, 0);
  put_name(b, q.name);
  put16(b, q.type);
  put16(b, 1);
  for (const auto& r : answers) {
    put_name(b, r.name);
    put16(b, r.type);
    put16(b, 1);
    put32(b, r.ttl);
    put16(b, static_cast<std::uint16_t>(r.rdata.size()));
    b.insert(b.end(), r.rdata.begin(), r.rdata.end());
  }
  return b;
}

// The question of a query (no compression in queries); nullopt when unreadable.
inline std::optional<question> parse_question(const std::uint8_t* p, std::size_t n) {
  if (n < 17) return std::nullopt;
  question q;
  q.id = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
  std::size_t off = 12;
  while (off < n && p[off] != 0) {
    std::size_t len = p[off];
    if (off + 1 + len >= n) return std::nullopt;
    if (!q.name.empty()) q.name += '.';
    q.name.append(reinterpret_cast<const char*>(p + off + 1), len);
    off += 1 + len;
  }
  if (off + 5 > n) return std::nullopt;
  q.type = static_cast<std::uint16_t>((p[off + 1] << 8) | p[off + 2]);
  return q;
}

// The server. `answer(question, over_tcp)` returns the bytes to send, or nullopt to stay
// silent (a black hole: the client times out).
class server {
 public:
  using responder = std::function<std::optional<bytes>(const question&, bool over_tcp)>;

  server(boost::asio::io_context& io, responder r) : udp_(io), acceptor_(io), answer_(std::move(r)) {
    namespace ip = boost::asio::ip;
    // UDP on an ephemeral port, then TCP on the same number (retry if it is taken).
    for (int attempt = 0; attempt < 20; ++attempt) {
      boost::system::error_code ec;
      if (udp_.is_open()) udp_.close();
      udp_.open(ip::udp::v4());
      udp_.bind({ip::make_address_v4("127.0.0.1"), 0});
      port_ = udp_.local_endpoint().port();
      if (acceptor_.is_open()) acceptor_.close();
      acceptor_.open(ip::tcp::v4());
      acceptor_.set_option(ip::tcp::acceptor::reuse_address(true));
      acceptor_.bind({ip::make_address_v4("127.0.0.1"), port_}, ec);
      if (!ec) break;
      if (attempt == 19) throw std::runtime_error("fake_dns: no port free for UDP and TCP");
    }
    acceptor_.listen();
    receive();
    accept();
  }

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int udp_queries = 0;
  int tcp_queries = 0;

 private:
  void receive() {
    udp_.async_receive_from(boost::asio::buffer(buf_), peer_, [this](boost::system::error_code ec, std::size_t n) {
      if (ec) return;
      ++udp_queries;
      if (auto q = parse_question(buf_.data(), n))
        if (auto out = answer_(*q, false)) {
          boost::system::error_code ignored;
          udp_.send_to(boost::asio::buffer(*out), peer_, 0, ignored);
        }
      receive();
    });
  }

  struct tcp_conn {
    explicit tcp_conn(boost::asio::io_context& io) : sock(io) {}
    boost::asio::ip::tcp::socket sock;
    std::array<std::uint8_t, 2> len{};
    bytes msg;
    bytes out;
  };

  void accept() {
    auto c = std::make_shared<tcp_conn>(static_cast<boost::asio::io_context&>(acceptor_.get_executor().context()));
    acceptor_.async_accept(c->sock, [this, c](boost::system::error_code ec) {
      if (ec) return;
      read_one(c);
      accept();
    });
  }

  void read_one(const std::shared_ptr<tcp_conn>& c) {
    boost::asio::async_read(c->sock, boost::asio::buffer(c->len), [this, c](boost::system::error_code ec, std::size_t) {
      if (ec) return;
      c->msg.resize(static_cast<std::size_t>((c->len[0] << 8) | c->len[1]));
      boost::asio::async_read(c->sock, boost::asio::buffer(c->msg), [this, c](boost::system::error_code ec2, std::size_t) {
        if (ec2) return;
        ++tcp_queries;
        auto q = parse_question(c->msg.data(), c->msg.size());
        std::optional<bytes> out = q ? answer_(*q, true) : std::nullopt;
        if (!out) return read_one(c);
        c->out.clear();
        put16(c->out, static_cast<std::uint16_t>(out->size()));
        c->out.insert(c->out.end(), out->begin(), out->end());
        boost::asio::async_write(c->sock, boost::asio::buffer(c->out), [this, c](boost::system::error_code ec3, std::size_t) {
          if (!ec3) read_one(c);
        });
      });
    });
  }

  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor acceptor_;
  responder answer_;
  std::uint16_t port_ = 0;
  std::array<std::uint8_t, 4096> buf_{};
  boost::asio::ip::udp::endpoint peer_;
};

}  // namespace fake_dns
