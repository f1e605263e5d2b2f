// probe/reach/transaction.hpp — the non-INVITE client transaction of RFC 3261 §17.1.2, on a
// connected netcheck::flow.
//
// Over UDP the request is retransmitted on Timer E (T1 doubling up to T2; T2 once a
// provisional response arrived); over TCP/TLS it is sent once. The transaction ends at the
// first final response that matches it (RFC 3261 §17.1.3: top Via branch and CSeq
// method), at Timer F (64·T1), or at the caller's deadline, whichever comes first.
// Responses to other transactions, requests, and replies that are not SIP are counted
// and kept as evidence, never fatal.
#pragma once

#include "netcheck/transport.hpp"
#include "sip/message.hpp"
#include "sip/serialize.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace probe::reach {

struct sip_timers {
  std::chrono::milliseconds t1{500};   // RFC 3261 §17.1.1.1: RTT estimate
  std::chrono::milliseconds t2{4000};  // maximum retransmit interval for non-INVITE
};

struct transaction_spec {
  std::string wire;    // the serialized request
  std::string branch;  // our Via branch
  std::string method;  // "REGISTER", "OPTIONS"
  std::uint32_t cseq = 0;
  std::chrono::milliseconds timeout{10000};  // capped at Timer F
  sip_timers timers;
  // --trace: called with every message sent ("sent") and received ("received").
  std::function<void(std::string_view direction, std::string_view bytes)> trace;
};

struct transaction_result {
  // Empty when a final response arrived. Otherwise: netcheck::errc::receive_timeout (no
  // final response), std::errc::connection_refused (ICMP port unreachable / RST),
  // netcheck::errc::malformed_message (a stream that could not be framed), or whatever
  // the flow reported.
  std::error_code ec;
  std::optional<sip::owned_message> response;  // the final response
  std::vector<int> provisional;                // 1xx statuses kept (keep_provisional)
  int provisional_count = 0;                   // 1xx responses received, all of them
  int retransmissions = 0;
  double rtt_ms = -1;  // first send to the final response
  double elapsed_ms = 0;
  std::vector<std::string> malformed;  // why each non-SIP reply was rejected (bounded)
  int stray = 0;                       // responses to other transactions, and requests
};

// The 1xx responses a transaction keeps: each one while there are at most
// max_provisional_kept, beyond that only the first and the latest — a registrar stuck in
// a loop may send thousands, and the report shows them as a count. `count` counts all.
inline constexpr std::size_t max_provisional_kept = 8;
void keep_provisional(std::vector<int>& kept, int& count, int status);

// "UDP", "TCP" or "TLS": the Via transport of a flow (RFC 3261 §20.42).
std::string via_transport(netcheck::transport t);

// The transaction of the request `spec` describes (its wire, branch, method and CSeq), or
// nullopt when sip::build_wire refuses the spec.
std::optional<transaction_spec> transaction_for(const sip::request_spec& spec, const sip_timers& timers,
                                                std::chrono::milliseconds timeout);

// Runs one transaction on `f` (connected). `done` runs once on the flow's io_context.
// `f` must outlive the operation.
void async_transaction(netcheck::flow& f, transaction_spec spec, std::function<void(transaction_result)> done);

// The framer a stream flow needs to cut SIP messages (RFC 3261 §18.3, Content-Length).
// A run of CR/LF before a message (RFC 5626 §3.5.1 keep-alives) is cut as a message of
// its own, so keep-alives never count towards a message's size limit.
netcheck::framer sip_framer(netcheck::transport t);

// True for bytes that are only CR and LF: a keep-alive (RFC 5626 §3.5.1, §4.4.1), which
// a transaction skips, on a stream or in a datagram.
bool is_keepalive(std::string_view bytes) noexcept;

// The key a shared link routes SIP answers by (netcheck/link.hpp): the branch of the top
// Via, which a response copies from its request (RFC 3261 §17.1.3). Found by a plain scan
// of the header section; "" when there is none.
std::string_view sip_message_key(std::string_view bytes) noexcept;

}  // namespace probe::reach
