#include "probe/reach/responder.hpp"

#include "probe/reach/transaction.hpp"
#include "sip/headers.hpp"
#include "sip/parse.hpp"
#include "sip/serialize.hpp"

namespace probe::reach {

namespace {

// RFC 3261 §8.2.6.2: the headers a response copies from its request, in the request's
// order; the To gains our tag unless the request is inside a dialog already.
std::string response_to(const sip::message_view& req, int status, std::string_view reason, std::string_view to_tag) {
  sip::message_view r;
  r.version = "SIP/2.0";
  r.status = status;
  r.reason = reason;
  std::string to;
  for (const auto& h : req.headers) {
    switch (h.id) {
      case sip::header_id::via:
      case sip::header_id::from:
      case sip::header_id::call_id:
      case sip::header_id::cseq: r.headers.push_back({sip::canonical_name(h.id), h.value, h.id}); break;
      case sip::header_id::to: {
        sip::name_addr parsed;
        to = std::string(h.value);
        if (sip::get::to(req, parsed) || parsed.tag().empty()) to += ";tag=" + std::string(to_tag);
        r.headers.push_back({"To", to, h.id});
        break;
      }
      default: break;
    }
  }
  if (req.method == "OPTIONS") {
    // RFC 3261 §11.2: what this user agent would accept; it takes no session.
    r.headers.push_back({"Allow", "OPTIONS, ACK", sip::header_id::allow});
    r.headers.push_back({"Accept", "application/sdp", sip::header_id::accept});
  }
  r.headers.push_back({"User-Agent", sip::default_user_agent(), sip::header_id::user_agent});
  r.headers.push_back({"Content-Length", "0", sip::header_id::content_length});
  return sip::serialize(r);
}

}  // namespace

incoming answer_incoming(std::string_view bytes, bool stream, std::string_view to_tag) {
  incoming in;
  if (is_keepalive(bytes)) {
    in.what = incoming::kind::keepalive;
    // RFC 5626 §4.4.1: a double CRLF is a ping, answered with a single CRLF (the pong).
    if (stream && bytes.find("\r\n\r\n") != std::string_view::npos) in.reply = "\r\n";
    return in;
  }
  sip::message_view m;
  if (sip::parse(bytes, m, stream ? sip::framing::stream : sip::framing::datagram).ec) return in;
  if (!m.is_request()) {
    in.what = incoming::kind::response;
    return in;
  }
  in.what = incoming::kind::request;
  in.method = std::string(m.method);
  std::string_view cid;
  if (!sip::get::call_id(m, cid)) in.call_id = std::string(cid);
  if (m.method == "ACK") return in;
  in.reply = m.method == "OPTIONS" ? response_to(m, 200, "OK", to_tag) : response_to(m, 480, "Temporarily Unavailable", to_tag);
  return in;
}

}  // namespace probe::reach
