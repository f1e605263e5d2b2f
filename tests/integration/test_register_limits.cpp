// `register` at the exact edges of its limits, through the real binary: a UDP reply
// whose Content-Length is one byte more than its body (and one less, and equal), against a
// scripted peer that answers with exactly those bytes.
#include <ostream>
#include <doctest/doctest.h>

#include "support/probe_run.hpp"
#include "support/sockets.hpp"

#include <nlohmann/json.hpp>

#include <string>

TEST_CASE("register: a UDP reply's Content-Length at the edge of its body") {
  // RFC 3261 §18.3: in a datagram, bytes past Content-Length are ignored; a Content-Length
  // larger than the body is a broken message, even by one byte.
  struct row {
    int content_length;
    const char* code;
  };
  const row rows[] = {{3, "not_found"}, {4, "not_found"}, {5, "malformed_response"}};
  for (const auto& r : rows) {
    CAPTURE(r.content_length);
    test_support::udp_peer peer([&r](const std::string& request) {
      return test_support::response_to(request, "404 Not Found",
                                       "Content-Length: " + std::to_string(r.content_length) + "\r\n\r\nabcd");
    });
    auto p = test_support::sipprobe(
        "register sip:alice@sip.test --transport udp --timeout 1 --registrar 127.0.0.1:" + std::to_string(peer.port()), "x");
    INFO(p.out);
    CHECK(p.exit_code == 1);
    CHECK(p.report["diagnosis"]["code"] == r.code);
    if (std::string(r.code) == "malformed_response")
      CHECK(p.report["diagnosis"]["evidence"].dump().find("Content-Length") != std::string::npos);
    else CHECK(p.report["transactions"][0]["status"] == 404);
  }
}
