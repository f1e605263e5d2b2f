// `register`, `diagnose` and `reach` where the network itself fails: no route at all (a
// network namespace with only lo up, so nothing can leave the host), a peer that accepts
// TCP and hangs up without a word, and one that sends TCP keep-alive CRLFs (RFC 5626
// §3.5.1) before its answer.
#include <ostream>
#include <doctest/doctest.h>

#include "support/probe_run.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

using test_support::shell_quote;

namespace {

// A network namespace of our own with only lo up: no route leads anywhere, and nothing
// sent from inside can leave the host. Deleted in the destructor, failed test or not.
class network_namespace {
 public:
  network_namespace() : name_("sipprobe-" + std::to_string(::getpid()) + "-" + std::to_string(next_id()++)) {
    auto r = test_support::run("ip netns add " + name_ + " 2>&1 && ip netns exec " + name_ + " ip link set lo up 2>&1");
    if (r.exit_code != 0) {
      remove();
      throw std::runtime_error("cannot make network namespace " + name_ + " (needs root and iproute2): " + r.out);
    }
  }
  ~network_namespace() { remove(); }
  network_namespace(const network_namespace&) = delete;
  network_namespace& operator=(const network_namespace&) = delete;

  // `sipprobe ARGS` run inside the namespace.
  test_support::probe_run sipprobe(const std::string& args, const std::string& password = "") const {
    return test_support::sipprobe_prefixed("ip netns exec " + name_, args, password);
  }

 private:
  static int& next_id() {
    static int id = 0;
    return id;
  }
  void remove() noexcept { test_support::run("ip netns del " + name_ + " >/dev/null 2>&1"); }
  std::string name_;
};

bool evidence_mentions(const nlohmann::json& report, const std::string& part) {
  return report["diagnosis"]["evidence"].dump().find(part) != std::string::npos;
}

// A TCP listener on 127.0.0.1 that runs `serve(fd)` for each of the first `connections`
// connections on its own thread, then closes them.
class tcp_peer {
 public:
  tcp_peer(int connections, std::function<void(int)> serve) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    port_ = ntohs(a.sin_port);
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
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// Reads one request's header section (to the empty line); returns it.
std::string read_request(int fd) {
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
std::string header_value(const std::string& request, const std::string& name) {
  const auto at = request.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 4;
  return request.substr(start, request.find("\r\n", start) - start);
}

void send_all(int fd, const std::string& bytes) {
  for (std::size_t sent = 0; sent < bytes.size();) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

TEST_CASE("register: no route to the registrar is network_unreachable, the request never left") {
  network_namespace ns;
  for (const std::string transport : {"udp", "tcp"}) {
    CAPTURE(transport);
    auto p = ns.sipprobe("register sip:alice@sip.test --registrar 198.18.0.1 --timeout 3 --transport " + transport, "x");
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == "network_unreachable");
    CHECK(evidence_mentions(p.report, "never left this host"));
    CHECK_FALSE(evidence_mentions(p.report, "the request left"));
    CHECK(p.report["elapsed_ms"] < 1000);  // no route is known at once, not after a timeout
    CHECK(p.report["diagnosis"]["fixes"].dump().find("ip route get") != std::string::npos);
  }
}

TEST_CASE("reach and diagnose agree: no route is network_unreachable") {
  network_namespace ns;
  auto reach = ns.sipprobe("reach 198.18.0.1 --timeout 3");
  INFO(reach.out);
  CHECK(reach.exit_code == 1);
  CHECK(reach.report["diagnosis"]["code"] == "network_unreachable");
  for (const auto& c : reach.report["checks"]) CHECK(c["verdict"] == "unreachable");
  auto diag = ns.sipprobe("diagnose sip:alice@sip.test --registrar 198.18.0.1 --timeout 3", "x");
  INFO(diag.out);
  CHECK(diag.exit_code == 1);
  CHECK(diag.report["diagnosis"]["code"] == "network_unreachable");
}

TEST_CASE("register: a peer that accepts TCP and closes without a word is not malformed_response") {
  tcp_peer peer(4, [](int fd) { read_request(fd); });
  const std::string args = "--registrar 127.0.0.1:" + std::to_string(peer.port()) + " --transport tcp --timeout 3";
  auto p = test_support::sipprobe("register sip:alice@sip.test " + args, "x");
  INFO(p.out);
  CHECK(p.exit_code == 1);
  CHECK(p.report["diagnosis"]["code"] == "no_response");
  CHECK(evidence_mentions(p.report, "accepted the connection and closed it without sending anything"));
  auto reach = test_support::sipprobe("reach 127.0.0.1:" + std::to_string(peer.port()) + " --transport tcp --timeout 3");
  INFO(reach.out);
  CHECK(reach.report["diagnosis"]["code"] == "no_response");
  CHECK(reach.report["checks"][0]["verdict"] == "no_answer");
  CHECK(reach.report["checks"][0]["detail"].get<std::string>().find("closed it without sending anything") != std::string::npos);
}

TEST_CASE("register: TCP keep-alive CRLFs do not count towards the message limit") {
  // RFC 5626 §3.5.1: a ping is CRLFCRLF. 20,000 of them (80,000 bytes, more than the
  // 64 KiB a message may take) before the answer are not one oversized message.
  std::atomic<bool> answered{false};
  tcp_peer peer(1, [&answered](int fd) {
    const auto request = read_request(fd);
    std::string pings;
    for (int i = 0; i < 20000; ++i) pings += "\r\n\r\n";
    send_all(fd, pings);
    send_all(fd, "SIP/2.0 404 Not Found\r\nVia: " + header_value(request, "Via") + "\r\nFrom: " +
                     header_value(request, "From") + "\r\nTo: " + header_value(request, "To") + ";tag=x\r\nCall-ID: " +
                     header_value(request, "Call-ID") + "\r\nCSeq: " + header_value(request, "CSeq") +
                     "\r\nContent-Length: 0\r\n\r\n");
    answered = true;
    read_request(fd);  // until sipprobe closes
  });
  auto p = test_support::sipprobe("register sip:alice@sip.test --registrar 127.0.0.1:" + std::to_string(peer.port()) +
                                      " --transport tcp --timeout 3",
                                  "x");
  INFO(p.out.substr(0, 3000));
  CHECK(answered);
  CHECK(p.report["diagnosis"]["code"] == "not_found");
  CHECK(p.report["transactions"][0]["status"] == 404);
}
