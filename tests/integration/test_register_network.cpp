// `register`, `diagnose` and `reach` where the network itself fails: no route at all (a
// network namespace with only lo up, so nothing can leave the host), a peer that accepts
// TCP and hangs up without a word, and one that sends TCP keep-alive CRLFs (RFC 5626
// §3.5.1) before its answer.
#include <ostream>
#include <doctest/doctest.h>

#include "support/probe_run.hpp"
#include "support/process.hpp"
#include "support/sockets.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>

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
  test_support::tcp_peer peer(4, [](int fd) { test_support::read_request(fd); });
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
  test_support::tcp_peer peer(1, [&answered](int fd) {
    const auto request = test_support::read_request(fd);
    std::string pings;
    for (int i = 0; i < 20000; ++i) pings += "\r\n\r\n";
    test_support::send_all(fd, pings);
    test_support::send_all(fd, test_support::response_to(request, "404 Not Found", "Content-Length: 0\r\n\r\n"));
    answered = true;
    test_support::read_request(fd);  // until sipprobe closes
  });
  auto p = test_support::sipprobe(
      "register sip:alice@sip.test --registrar 127.0.0.1:" + std::to_string(peer.port()) + " --transport tcp --timeout 3", "x");
  INFO(p.out.substr(0, 3000));
  CHECK(answered);
  CHECK(p.report["diagnosis"]["code"] == "not_found");
  CHECK(p.report["transactions"][0]["status"] == 404);
}
