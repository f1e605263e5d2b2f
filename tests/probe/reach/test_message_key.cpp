// sip_message_key: the routing key a shared link takes from raw bytes (the top Via branch).
#include <ostream>
#include <doctest/doctest.h>

#include "probe/reach/transaction.hpp"

#include <string_view>

using namespace std::literals;

TEST_CASE("sip_message_key: the branch of the first Via line, whatever comes before it") {
  struct row {
    std::string_view bytes, key;
  };
  const row table[] = {
      {"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h:5;rport=5;branch=z9hG4bKab12;received=1.2.3.4\r\n\r\n", "z9hG4bKab12"},
      {"REGISTER sip:h SIP/2.0\r\nMax-Forwards: 70\r\nvalue: x\r\nv: SIP/2.0/UDP h;branch=z9hG4bKcompact\r\n\r\n",
       "z9hG4bKcompact"},  // a line starting with v that is not Via is skipped
      {"SIP/2.0 200 OK\nVIA: SIP/2.0/UDP h;branch=z9hG4bKlf\nVia: SIP/2.0/UDP g;branch=z9hG4bKlow\n\n", "z9hG4bKlf"},
      {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;rport\r\nVia: SIP/2.0/UDP g;branch=z9hG4bKlow\r\n\r\n", ""},
      {"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKbody\r\n", ""},  // after the headers
      {"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa, SIP/2.0/UDP g;branch=z9hG4bKb\r\n\r\n", "z9hG4bKa"},
      {"garbage without lines", ""},
      {"", ""},
  };
  for (const auto& t : table) {
    CAPTURE(t.bytes);
    CHECK(probe::reach::sip_message_key(t.bytes) == t.key);
  }
}
