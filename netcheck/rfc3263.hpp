// netcheck/rfc3263.hpp — locating a SIP server (RFC 3263 §4) without knowing SIP.
//
// The planner takes a host, an optional port and transport, and the services to look for, and
// walks NAPTR → SRV → A/AAAA. It is split in two:
//   * pure policy: rank_naptr, srv_fallback, order_srv, next_queries, build_plan. They see
//     only values (a cache of query results), so the whole walk is table-tested without DNS;
//   * async_locate: the driver. It asks next_queries what is missing, sends those queries in
//     parallel on a resolver, and repeats until nothing is missing or the deadline passes;
//     then build_plan orders the targets (RFC 2782 weighted choice with the caller's RNG).
#pragma once

#include "netcheck/dns.hpp"
#include "netcheck/common.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace netcheck {

// transport, to_string(transport), transport_from_string, is_ip_literal: netcheck/common.hpp

// How a target was found: an IP literal as given, a NAPTR → SRV chain, SRV without NAPTR
// (RFC 3263 §4.2 fallback), or A/AAAA of the host itself (explicit port or no SRV).
enum class found_by { literal, naptr, srv, a };
std::string_view to_string(found_by f) noexcept;  // "literal", "naptr", "srv", "a"

struct locate_request {
  std::string host;                   // domain name or IP literal (IPv6 without brackets)
  std::optional<std::uint16_t> port;  // explicit port: no NAPTR/SRV (RFC 3263 §4.2)
  std::optional<transport> forced;    // transport= parameter or --transport
  bool secure = false;                // sips: only TLS
  transport_set supported{transport::udp, transport::tcp, transport::tls};
  // RFC 3263 §4.1 picks one transport when DNS names none (an IP literal, an explicit port,
  // or a domain without NAPTR/SRV): UDP for sip:, TLS for sips:. Checks that want to know
  // what answers on every transport (reach, diagnose) set this to list them all.
  bool every_transport = false;
};

struct locate_limits {
  std::size_t max_queries = 96;               // DNS queries for one resolution
  std::size_t max_targets = 64;               // targets in the result
  std::chrono::milliseconds deadline{10000};  // the whole resolution (async_locate)
};

// ---- pure policy ----------------------------------------------------------------------

// is_ip_literal: netcheck/common.hpp
std::uint16_t default_port(transport t) noexcept;  // 5060, 5061 for tls
// The transports the request allows, in RFC 3263 §4.1 preference when nothing else decides:
// sips → {tls}; forced → {forced}; else the supported ones in udp, tcp, tls order.
std::vector<transport> allowed_transports(const locate_request& req);
// The transports of a target that DNS did not choose (IP literal, explicit port, plain
// A/AAAA): RFC 3263 §4.1 says UDP for sip: and TLS for sips: unless a transport is forced;
// with every_transport, all of allowed_transports().
std::vector<transport> direct_transports(const locate_request& req);
// RFC 3263 §4.1: "SIP+D2U" → udp, "SIP+D2T" → tcp, "SIPS+D2T" → tls (case-insensitive).
std::optional<transport> naptr_service_transport(std::string_view service) noexcept;

// One NAPTR record with the planner's verdict. `rejected` is empty when the record is
// followed, else why not ("regexp rewrite not supported", "transport not allowed", …).
struct naptr_choice {
  naptr_record record;
  std::optional<transport> t;
  std::string rejected;
};
// Sorted by order then preference (stable); usable ones have an empty `rejected`.
std::vector<naptr_choice> rank_naptr(const std::vector<naptr_record>& records, const locate_request& req);

// RFC 3263 §4.1 without NAPTR: _sips._tcp, _sip._tcp, _sip._udp (the allowed ones).
struct srv_service {
  transport t;
  std::string name;
};
std::vector<srv_service> srv_fallback(const locate_request& req);

// True when an SRV answer says "decidedly not available" (RFC 2782: one record, target ".").
bool srv_unavailable(const std::vector<srv_record>& records) noexcept;

// RFC 2782 ordering: ascending priority; within one priority a weighted random choice
// repeated until the group is empty. Weight-0 records go first in the running sum, so they
// are chosen only when the draw is 0 (a small chance) unless all weights are 0, in which
// case the choice is uniform. Records with target "." are removed.
std::vector<srv_record> order_srv(std::vector<srv_record> records, std::mt19937& rng);

// The results obtained so far, in the order the queries were sent.
struct dns_cache {
  std::vector<query_result> queries;
  const query_result* find(std::string_view name, rr_type type) const noexcept;
};

struct query_key {
  std::string name;
  rr_type type;
  bool operator==(const query_key&) const = default;
};

// The queries the plan still needs given `cache` (none: the plan is complete).
std::vector<query_key> next_queries(const locate_request& req, const dns_cache& cache);

// One node of the resolution tree. Parents come before their children in resolution::nodes.
struct plan_node {
  enum class kind { query, naptr, srv, note };
  kind k = kind::note;
  int parent = -1;             // index into nodes, -1 for a root
  std::size_t query = 0;       // kind::query: index into resolution::queries
  naptr_record naptr;          // kind::naptr
  srv_record srv;              // kind::srv
  std::optional<transport> t;  // kind::naptr/srv: the transport this branch serves
  std::string note;            // kind::naptr: why it was not followed; kind::note: text
};

struct target {
  transport t = transport::udp;
  std::string host;     // the name the address came from (the literal itself for found_by literal)
  std::string address;  // IP literal
  std::uint16_t port = 0;
  netcheck::found_by found_by = found_by::a;  // written as "via" in reports
};

struct resolution {
  std::vector<query_result> queries;  // every query sent, in order
  std::vector<plan_node> nodes;
  std::vector<target> targets;  // the order a client tries them in
  // Empty when targets were found. Otherwise why not: a dns_status error code (nxdomain,
  // servfail…) of `failed_query`, or service_unavailable / no_usable_records / timeout.
  std::error_code error;
  std::optional<std::size_t> failed_query;  // index into queries: the record to cite
  bool deadline_reached = false;
  bool limited = false;  // a locate_limits bound was hit
  std::chrono::milliseconds elapsed{0};
};

// Builds the final plan from `cache`. Queries the plan needs but that are missing (the
// deadline passed) are shown as not sent and count as timeouts. Consumes `rng` only for SRV.
resolution build_plan(const locate_request& req, const dns_cache& cache, std::mt19937& rng, const locate_limits& limits = {});

// ---- async driver ---------------------------------------------------------------------

// Resolves `req` on `res`. Completion: void(resolution), posted on the resolver's executor.
// `res` and `rng` must outlive the operation. At the deadline the answers still missing are
// recorded as timeouts and the handler runs; queries left in c-ares end by their own
// timeouts (call resolver::cancel() to end them at once).
void async_locate(resolver& res, locate_request req, locate_limits limits, std::mt19937& rng,
                  std::function<void(resolution)> handler);

}  // namespace netcheck
