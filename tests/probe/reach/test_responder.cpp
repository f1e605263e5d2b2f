// What a registered flow answers (probe/reach/responder.hpp): RFC 3261 §8.2.6 responses
// and RFC 5626 §4.4.1 pongs.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/reach/responder.hpp"
#include "sip/headers.hpp"
#include "sip/parse.hpp"

#include <string>
#include <vector>

using probe::reach::answer_incoming;
using probe::reach::incoming;

namespace {

const std::string options =
    "OPTIONS sip:alice@127.0.0.1:5062 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-proxy\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:40000;rport=40000;branch=z9hG4bK-caller\r\n"
    "Max-Forwards: 69\r\n"
    "From: <sip:sipprobe@invalid>;tag=caller\r\n"
    "To: <sip:alice@sip.test>\r\n"
    "Call-ID: inbound-1\r\n"
    "CSeq: 7 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n";

sip::owned_message parsed(const std::string& bytes) {
  sip::message_view m;
  std::string copy = bytes;
  auto r = sip::parse(copy, m, sip::framing::datagram);
  REQUIRE_MESSAGE(!r.ec, "the reply does not parse: ", bytes);
  return sip::owned_message(std::move(copy), std::move(m));
}

std::vector<std::string> vias_of(const sip::message_view& m) {
  std::vector<std::string_view> v;
  REQUIRE(!m.values(sip::header_id::via, v));
  return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE("responder: OPTIONS gets 200 OK that copies Via, From, Call-ID and CSeq and adds a To tag") {
  for (const bool stream : {false, true}) {
    CAPTURE(stream);
    const auto in = answer_incoming(options, stream, "ours");
    CHECK(in.what == incoming::kind::request);
    CHECK(in.method == "OPTIONS");
    CHECK(in.call_id == "inbound-1");
    const auto reply = parsed(in.reply);
    const auto& m = reply.view();
    CHECK(m.status == 200);
    CHECK(vias_of(m) == std::vector<std::string>{"SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-proxy",
                                                 "SIP/2.0/UDP 127.0.0.1:40000;rport=40000;branch=z9hG4bK-caller"});
    CHECK(m.find(sip::header_id::from)->value == "<sip:sipprobe@invalid>;tag=caller");
    CHECK(m.find(sip::header_id::to)->value == "<sip:alice@sip.test>;tag=ours");
    CHECK(m.find(sip::header_id::call_id)->value == "inbound-1");
    CHECK(m.find(sip::header_id::cseq)->value == "7 OPTIONS");
    CHECK(m.find(sip::header_id::allow) != nullptr);
  }
}

TEST_CASE("responder: a To tag already there stays, other requests get 480, ACK nothing") {
  std::string in_dialog = options;
  in_dialog.replace(in_dialog.find("<sip:alice@sip.test>"), 20, "<sip:alice@sip.test>;tag=theirs");
  CHECK(parsed(answer_incoming(in_dialog, false, "ours").reply).view().find(sip::header_id::to)->value ==
        "<sip:alice@sip.test>;tag=theirs");

  std::string invite = options;
  invite.replace(0, 7, "INVITE");
  invite.replace(invite.find("7 OPTIONS"), 9, "7 INVITE");
  const auto i = answer_incoming(invite, false, "ours");
  CHECK(i.method == "INVITE");
  CHECK(parsed(i.reply).view().status == 480);

  std::string ack = options;
  ack.replace(0, 7, "ACK");
  ack.replace(ack.find("7 OPTIONS"), 9, "7 ACK");
  const auto a = answer_incoming(ack, false, "ours");
  CHECK(a.what == incoming::kind::request);
  CHECK(a.reply.empty());
}

TEST_CASE("responder: a CRLF ping on a stream gets a CRLF pong, nothing else does") {
  CHECK(answer_incoming("\r\n\r\n", true, "t").reply == "\r\n");
  CHECK(answer_incoming("\r\n\r\n", true, "t").what == incoming::kind::keepalive);
  CHECK(answer_incoming("\r\n", true, "t").reply.empty());       // a pong is not answered
  CHECK(answer_incoming("\r\n\r\n", false, "t").reply.empty());  // nor a datagram
  std::string ok = options;
  ok.replace(0, ok.find("\r\n"), "SIP/2.0 200 OK");
  const auto resp = answer_incoming(ok, false, "t");
  CHECK(resp.what == incoming::kind::response);
  CHECK(resp.reply.empty());
  const auto junk = answer_incoming("hello there", false, "t");
  CHECK(junk.what == incoming::kind::garbage);
  CHECK(junk.reply.empty());
}
