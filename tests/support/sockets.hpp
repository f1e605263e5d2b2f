// tests/support/sockets.hpp — loopback sockets that make network failures on purpose:
// a UDP port that swallows every packet (a firewall that drops SIP), and ports known to
// be closed (nothing listens: ICMP port unreachable / TCP reset).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

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

}  // namespace test_support
