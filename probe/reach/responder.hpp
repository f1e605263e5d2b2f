// probe/reach/responder.hpp — the user-agent server side of a registered flow: what sipprobe
// answers when a request (or a keep-alive) arrives on the connection or socket it registered.
//
// Pure: bytes in, the bytes to send back out. The caller (probe/registration/inbound.hpp)
// moves them; nothing here touches a socket.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace probe::reach {

// Requests one registered flow answers at most, and the largest it reads: a registrar
// that loops or floods the flow cannot make the probe answer forever.
inline constexpr int max_requests_answered = 32;

// What arrived, and what to send back.
struct incoming {
  enum class kind { keepalive, request, response, garbage };
  kind what = kind::garbage;
  std::string method;   // a request's method
  std::string call_id;  // a request's Call-ID
  std::string reply;    // the bytes to send back ("" when nothing)
};

// Reads one message that arrived on a registered flow (`stream`: TCP/TLS) and says what
// to send back:
//  - a CRLF keep-alive ping "\r\n\r\n" on a stream gets the pong "\r\n" (RFC 5626 §4.4.1);
//    a lone CRLF (a pong, or padding) gets nothing, nor does one in a datagram;
//  - OPTIONS gets 200 OK with Allow and Accept (RFC 3261 §11.2); ACK gets nothing (it
//    answers nothing, §17.1.1.3); any other request 480 Temporarily Unavailable — sipprobe
//    is not a phone and takes no call or message;
//  - responses and bytes that are not SIP get nothing.
// The response copies Via (every value, in order), From, To (adding `to_tag` when the To
// has no tag), Call-ID and CSeq from the request (RFC 3261 §8.2.6.2).
incoming answer_incoming(std::string_view bytes, bool stream, std::string_view to_tag);

}  // namespace probe::reach
