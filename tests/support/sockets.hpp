// tests/support/sockets.hpp — loopback sockets that make network failures on purpose:
// a UDP port that swallows every packet (a firewall that drops SIP), ports known to be
// closed (nothing listens: ICMP port unreachable / TCP reset), and scripted peers that
// answer with exactly the bytes a test gives (what no real server would send).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

namespace test_support {

// Binds UDP 127.0.0.1:port and never reads or answers.
class udp_black_hole {
 public:
  explicit udp_black_hole(int port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot bind the UDP black hole on 127.0.0.1:" + std::to_string(port));
  }
  ~udp_black_hole() {
    if (fd_ >= 0) ::close(fd_);
  }
  udp_black_hole(const udp_black_hole&) = delete;
  udp_black_hole& operator=(const udp_black_hole&) = delete;

 private:
  int fd_ = -1;
};

// A port of `type` (SOCK_STREAM or SOCK_DGRAM) on 127.0.0.1 that nothing listens on:
// bound to port 0, noted, closed.
inline int closed_port(int type = SOCK_STREAM) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a closed port");
  ::close(fd);
  return ntohs(a.sin_port);
}

// A socket of `type` bound to 127.0.0.1 on a port the kernel picks; `port` receives it.
inline int bound_loopback_socket(int type, int& port) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (type == SOCK_STREAM && ::listen(fd, 8) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot bind a socket on 127.0.0.1");
  port = ntohs(a.sin_port);
  return fd;
}

// A TCP listener on 127.0.0.1 that runs `serve(fd)` for each of the first `connections`
// connections on its own thread, then closes them.
class tcp_peer {
 public:
  tcp_peer(int connections, std::function<void(int)> serve) : fd_(bound_loopback_socket(SOCK_STREAM, port_)) {
    thread_ = std::thread([this, connections, serve = std::move(serve)] {
      for (int i = 0; i < connections; ++i) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        serve(c);
        ::close(c);
      }
    });
  }
  ~tcp_peer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  tcp_peer(const tcp_peer&) = delete;
  tcp_peer& operator=(const tcp_peer&) = delete;
  int port() const noexcept { return port_; }

 private:
  int port_ = 0;
  int fd_ = -1;
  std::thread thread_;
};

// A UDP port on 127.0.0.1 that answers each datagram with `answer(datagram)` (nothing
// when it returns ""), on its own thread, until destroyed.
class udp_peer {
 public:
  explicit udp_peer(std::function<std::string(const std::string&)> answer) : fd_(bound_loopback_socket(SOCK_DGRAM, port_)) {
    thread_ = std::thread([this, answer = std::move(answer)] {
      char buf[65536];
      for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const auto n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) return;  // shut down
        const auto reply = answer(std::string(buf, static_cast<std::size_t>(n)));
        if (!reply.empty()) ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    });
  }
  ~udp_peer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes recvfrom with 0
    thread_.join();
    ::close(fd_);
  }
  udp_peer(const udp_peer&) = delete;
  udp_peer& operator=(const udp_peer&) = delete;
  int port() const noexcept { return port_; }

 private:
  int port_ = 0;
  int fd_ = -1;
  std::thread thread_;
};

// Reads one request's header section (to the empty line) from a stream; returns it.
inline std::string read_request(int fd) {
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// The value of header `name` in `request` ("" when absent).
inline std::string header_value(const std::string& request, const std::string& name) {
  const auto at = request.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 4;
  return request.substr(start, request.find("\r\n", start) - start);
}

// A response to `request` with `status_line` ("404 Not Found"), its Via, From, To (with a
// tag), Call-ID and CSeq copied, then `tail`: the rest of the header section, the empty
// line and any body, exactly as given.
inline std::string response_to(const std::string& request, const std::string& status_line, const std::string& tail) {
  return "SIP/2.0 " + status_line + "\r\nVia: " + header_value(request, "Via") + "\r\nFrom: " + header_value(request, "From") +
         "\r\nTo: " + header_value(request, "To") + ";tag=peer\r\nCall-ID: " + header_value(request, "Call-ID") +
         "\r\nCSeq: " + header_value(request, "CSeq") + "\r\n" + tail;
}

inline void send_all(int fd, const std::string& bytes) {
  for (std::size_t sent = 0; sent < bytes.size();) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace test_support
