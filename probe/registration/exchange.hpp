// probe/registration/exchange.hpp — one registration exchange over one connected flow (a
// netcheck::flow): REGISTER, answer the challenge, retry on stale nonce and on 423, read
// the bindings, remove our own.
#pragma once

#include "probe/core/catalog.hpp"
#include "probe/core/expected.hpp"
#include "probe/core/report.hpp"
#include "probe/core/secret.hpp"
#include "probe/reach/transaction.hpp"
#include "probe/registration/interrupt.hpp"
#include "sip/random.hpp"
#include "sip/serialize.hpp"
#include "sip/uri.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace probe::registration {

struct account {
  sip::uri aor;                // sip:alice@example.com (sips: for TLS-only)
  std::string auth_user;       // digest username; the AOR user when empty
  secret credentials;          // password or HA1; may be empty (then challenges end the run)
  std::string expected_realm;  // --realm: warn (realm_mismatch) when the server's differs
};

struct register_settings {
  std::uint32_t expires = 3600;
  bool keep = false;                     // leave our binding in place
  bool query = false;                    // REGISTER without Contact: list bindings only
  std::optional<std::string> contact;    // --contact: the Contact URI to register
  std::string user_agent;                // empty: sipprobe/<version>
  std::vector<sip::header_field> extra;  // --header
  reach::sip_timers timers;
  std::function<void(std::string_view direction, std::string_view bytes)> trace;  // --trace
  // --inbound: while registered, check that a request to the AOR reaches the registered
  // flow (probe/registration/inbound.hpp); not with --query, --expires 0 or a shared link.
  bool inbound = false;
  // --nat-lifetime: after an inbound check that reached us, measure how long the NAT keeps
  // an idle UDP binding, up to this many seconds (probe/registration/nat_lifetime.hpp).
  std::optional<std::chrono::seconds> nat_lifetime;
  std::function<void(const std::string&)> progress;  // the measurement's progress lines
  // RFC 5627: register the Contact with this +sip.instance ("urn:uuid:…") and Supported: gruu,
  // so the registrar gives it a GRUU that reaches this binding alone (--nat-lifetime).
  std::string instance;
  bool ladder = true;  // write the ladder's notes (a batch prints one line per account, no ladder)
};

// What one registration on one flow produced. `network_error` is set when no SIP final
// response settled the first request (timeout, refusal, garbage): the caller may fail
// over to another target, or reason about the network (catalog: network-level).
struct exchange_outcome {
  diagnosis primary;
  std::vector<finding> findings;
  std::vector<transaction_record> transactions;
  std::optional<registration_record> registration;
  std::error_code network_error;
  bool sip_answered = false;           // at least one SIP response arrived
  std::vector<std::string> malformed;  // replies that were not SIP
  int final_status = 0;                // of the latest request
  std::string redirect_to;             // a 3xx's first Contact URI ("" otherwise)
};

// What the 2xx of a registration said about our binding, for a check that runs while the
// binding is in place (the inbound check, probe/registration/inbound.hpp).
struct registered_facts {
  std::string contact;                 // the Contact we registered
  std::string received;                // Via received= of the 2xx ("" when absent)
  std::optional<std::uint16_t> rport;  // Via rport=N of the 2xx
  std::string gruu;                    // the pub-gruu of our Contact (with settings.instance), or ""
};
// Called once after a 2xx registered our binding, before it is removed (or the exchange
// ends with --keep); the exchange goes on when `proceed` is called, once. The time it
// takes does not count against the exchange's deadline: the removal still gets its share.
using while_registered = std::function<void(const registered_facts&, std::function<void()> proceed)>;

// Runs the registration on `f` (connected) until `deadline`. `ids` makes branch, tag,
// Call-ID and cnonce. Everything passed by reference must outlive the operation; `done`
// runs once on the flow's io_context. With `interrupt` requested no new REGISTER is sent
// (the one in flight is waited for, a binding it made is removed) and a run without its
// verdict ends as `interrupted`; abandoned, a flow the caller closed ends it at once.
// `hook`, when set, runs while the binding is in place (above).
void async_register_on_flow(netcheck::flow& f, const account& acct, const register_settings& settings, sip::id_factory& ids,
                            std::chrono::steady_clock::time_point deadline, std::function<void(exchange_outcome)> done,
                            const run_interrupt* interrupt = nullptr, while_registered hook = {});

// The AOR as the user wrote it: "sip:alice@example.com", "sips:…", or "alice@example.com";
// or one line on why it is not a SIP AOR with a user (without the text: it may hold a
// password, sip:user:password@host).
expected<sip::uri, std::string> parse_aor(const std::string& text);

}  // namespace probe::registration
