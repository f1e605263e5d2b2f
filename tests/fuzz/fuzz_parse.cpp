// libFuzzer target: the datagram and stream parsers, the stream framer, every typed
// accessor on whatever parsed, validate(), serialize() round trip, to_owned() and
// parse_uri(). Must never crash, hang or trip a sanitizer.
#include "sip/headers.hpp"
#include "sip/message.hpp"
#include "sip/parse.hpp"
#include "sip/uri.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok) {
  if (!ok) std::abort();  // an invariant broke: report it as a crash
}

void exercise(const sip::message_view& m) {
  sip::via v;
  std::vector<sip::via> vs;
  sip::name_addr na;
  std::vector<sip::name_addr> contacts;
  bool star = false;
  sip::cseq cs;
  sip::retry_after ra;
  std::uint32_t n = 0;
  std::string_view sv;
  std::vector<std::string_view> list;
  if (!sip::get::top_via(m, v)) (void)v.rport(), (void)v.received(), (void)v.branch();
  (void)sip::get::vias(m, vs);
  if (!sip::get::from(m, na)) (void)na.addr.to_string();
  if (!sip::get::to(m, na)) (void)na.tag();
  (void)sip::get::call_id(m, sv);
  (void)sip::get::cseq(m, cs);
  if (!sip::get::contacts(m, contacts, star))
    for (const auto& c : contacts) (void)c.expires(), (void)c.q(), (void)c.addr.host_port();
  (void)sip::get::expires(m, n);
  (void)sip::get::min_expires(m, n);
  (void)sip::get::content_length(m, n);
  (void)sip::get::max_forwards(m, n);
  (void)sip::get::retry_after(m, ra);
  (void)sip::get::user_agent(m, sv);
  (void)sip::get::server(m, sv);
  (void)sip::get::allow(m, list);
  (void)sip::get::www_authenticate(m, list);
  (void)sip::get::proxy_authenticate(m, list);
  (void)sip::get::authorization(m, list);
  (void)sip::get::proxy_authorization(m, list);
  for (const auto& h : m.headers) (void)m.values(h.id, list), (void)m.values(h.name, list);
  (void)sip::validate(m);
  if (m.is_request()) {
    sip::uri u;
    if (!sip::parse_uri(m.request_uri, u)) {
      sip::uri again;
      check(!sip::parse_uri(u.to_string(), again) && again.to_string() == u.to_string());
    }
  }

  // What parsed leniently must parse again after serialization, with the same headers.
  sip::parse_options lenient;
  lenient.lenient = true;
  lenient.max_message = 1 << 20;
  std::string wire = sip::serialize(m);
  sip::message_view back;
  auto r = sip::parse(wire, back, sip::framing::datagram, lenient);
  check(!r.ec && back.headers.size() == m.headers.size());

  sip::owned_message owned = sip::to_owned(m);
  sip::owned_message moved = std::move(owned);
  check(sip::serialize(moved.view()) == wire);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  sip::uri u;
  if (!sip::parse_uri(in, u)) {
    sip::uri again;
    check(!sip::parse_uri(u.to_string(), again) && again.to_string() == u.to_string());
  }

  sip::message_view m;
  sip::parse_options strict;
  sip::parse_options lenient;
  lenient.lenient = true;
  for (const auto* opt : {&strict, &lenient}) {
    auto r = sip::parse(in, m, sip::framing::datagram, *opt);
    check(r.ec != sip::errc::need_more);
    if (r.ec) check(r.offset <= size && r.line >= 1);
    if (!r.ec) exercise(m);
    r = sip::parse(in, m, sip::framing::stream, *opt);
    check(r.consumed <= size);
    if (!r.ec) {
      check(r.consumed > 0);
      exercise(m);
    }
  }

  // The framer must give the same messages whether the bytes come at once or split.
  auto drain = [](sip::stream_framer& f, std::vector<std::string>& out) {
    sip::message_view mv;
    for (int guard = 0; guard < 100000; ++guard) {
      auto r = f.next(mv);
      if (r.ec == sip::errc::need_more || f.failed()) return;
      out.push_back(r.ec ? "error:" + r.ec.message() : sip::serialize(mv));
    }
    check(false);  // no progress: a hang
  };
  std::vector<std::string> whole, split;
  sip::stream_framer a, b;
  if (!a.append(in)) drain(a, whole);
  std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  if (!b.append(in.substr(0, cut))) drain(b, split);
  if (!b.append(in.substr(cut))) drain(b, split);
  if (!a.failed() && !b.failed()) check(whole == split);
  return 0;
}
