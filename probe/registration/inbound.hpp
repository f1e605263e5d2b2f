// probe/registration/inbound.hpp — can the account receive calls? After a registration, an
// OPTIONS whose Request-URI is the AOR goes through the registrar from a second socket, so
// it travels registrar → registered Contact as a call would (RFC 3261 §10, §16: the
// location service routes it). The registered flow answers it (probe/reach/responder.hpp);
// the second socket sees the final response.
#pragma once

#include "netcheck/transport.hpp"
#include "probe/core/report.hpp"
#include "probe/reach/transaction.hpp"
#include "sip/random.hpp"
#include "sip/uri.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace probe::registration {

// The verdict of one check: the final status of the OPTIONS (0: none) and whether the
// registered flow saw it. reached = a 2xx and the flow saw it; not_reached = no final
// response, 408, or a 2xx the flow never saw (someone else answered); rejected = any other
// final response (404 unknown user, 480 no binding, 403, …).
std::string_view classify_inbound(int status, bool arrived) noexcept;

struct inbound_request {
  sip::uri aor;
  std::string request_uri;                   // where to send it instead of the AOR (a GRUU: one binding alone); "" = the AOR
  std::chrono::milliseconds timeout{10000};  // for the connect and the OPTIONS together
  reach::sip_timers timers;
  std::function<void(std::string_view direction, std::string_view bytes)> trace;  // --trace
};

struct inbound_outcome {
  inbound_record record;
  bool arrived = false;         // the registered flow saw our OPTIONS
  int requests_seen = 0;        // requests the registered flow saw (ours among them)
  int keepalives_answered = 0;  // RFC 5626 pings answered with a pong
  std::string reason;           // the final response's reason phrase, or what happened instead
  std::string second_local;     // "127.0.0.1:40312": where the OPTIONS was sent from
  // Our own Via (our branch) as the registered flow received it, when its sent-by is not
  // the one we sent: "10.0.0.2:5062 arrived as 203.0.113.7:5062". A proxy adds its Via
  // and never changes ours (RFC 3261 §16.6); a SIP ALG in the path does.
  std::string via_rewritten;
};

// The sip_alg_suspected finding of an inbound check whose Via arrived rewritten.
std::optional<finding> inbound_alg_finding(const inbound_outcome& o);

// The evidence of an inbound check that did not reach: what arrived where, the Contact the
// registrar holds against the address it saw (Via received/rport of the 2xx). `registered`
// is the registered flow's local address ("127.0.0.1:40000"), `through` the registrar's.
struct inbound_context {
  std::string aor;
  std::string transport;  // "udp", "tcp", "tls"
  std::string registered;
  std::string through;
  std::string contact;
  std::string received;
  std::optional<std::uint16_t> rport;
};
std::vector<std::string> inbound_evidence(const inbound_outcome& o, const inbound_context& c);

// Connects `second` (not yet connected: same transport and registrar as `registered`),
// sends the OPTIONS on it and, while it is in flight, answers what arrives on `registered`
// (connected; nothing else may be receiving on it). `done` runs once, after the OPTIONS
// ended and `registered` has no receive of ours pending, so the caller may send on it
// again. Both flows and `ids` must outlive the operation.
void async_inbound(netcheck::flow& registered, netcheck::flow& second, const inbound_request& req, sip::id_factory& ids,
                   std::function<void(inbound_outcome)> done);

}  // namespace probe::registration
