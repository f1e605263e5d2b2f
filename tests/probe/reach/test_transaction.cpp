// The bounds of a client transaction's record (probe/reach/transaction.hpp).
#include <ostream>
#include <doctest/doctest.h>

#include "probe/reach/transaction.hpp"

#include <vector>

TEST_CASE("transaction: provisional responses are kept up to the limit, then the first and the last") {
  std::vector<int> kept;
  int count = 0;
  // At the limit exactly: every one is kept, in order.
  for (std::size_t i = 0; i < probe::reach::max_provisional_kept; ++i)
    probe::reach::keep_provisional(kept, count, 180 + static_cast<int>(i));
  CHECK(count == static_cast<int>(probe::reach::max_provisional_kept));
  REQUIRE(kept.size() == probe::reach::max_provisional_kept);
  CHECK(kept.front() == 180);
  CHECK(kept.back() == 180 + static_cast<int>(probe::reach::max_provisional_kept) - 1);
  // One more: the first and this one.
  probe::reach::keep_provisional(kept, count, 199);
  CHECK(count == static_cast<int>(probe::reach::max_provisional_kept) + 1);
  CHECK(kept == std::vector<int>{180, 199});
  // A flood: still two, the latest last.
  for (int i = 0; i < 10000; ++i) probe::reach::keep_provisional(kept, count, 100);
  probe::reach::keep_provisional(kept, count, 183);
  CHECK(count == static_cast<int>(probe::reach::max_provisional_kept) + 10002);
  CHECK(kept == std::vector<int>{180, 183});
}

TEST_CASE("transaction: the stream framer cuts keep-alive CRLFs off on their own") {
  const auto frame = probe::reach::sip_framer(netcheck::transport::tcp);
  const std::string response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";
  CHECK(frame("\r\n\r\n") == 4);  // one ping (RFC 5626 §3.5.1)
  CHECK(frame("\r\n") == 2);      // one pong
  CHECK(frame("\r\n\r\n" + response) == 4);
  CHECK(frame(response) == static_cast<std::ptrdiff_t>(response.size()));
  // More CRLFs than a message may hold (64 KiB) are one keep-alive run, not a message.
  const std::string pings(70000, '\n');
  CHECK(frame(pings) == 70000);
  CHECK(probe::reach::is_keepalive(pings));
  CHECK(probe::reach::is_keepalive("\r\n"));
  CHECK_FALSE(probe::reach::is_keepalive(""));
  CHECK_FALSE(probe::reach::is_keepalive("\r\nSIP/2.0"));
  CHECK(frame(response.substr(0, 20)) == 0);  // incomplete: read more
}
