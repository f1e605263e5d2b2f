// netcheck/dns.hpp — an asynchronous DNS resolver: c-ares driven by the caller's io_context.
//
// One thread, one io_context: c-ares never blocks and never starts a thread. Its sockets are
// watched with asio::posix::stream_descriptor (ARES_OPT_SOCK_STATE_CB) and its retry timer is
// one asio::steady_timer fed from ares_timeout().
//
// Queries are sent with ares_query and ARES_FLAG_NOSEARCH: the name is asked as given, never
// completed with the search list of /etc/resolv.conf. ARES_FLAG_IGNTC is deliberately NOT set:
// a UDP answer with the TC bit is retried over TCP, as RFC 1035 §4.2.1 and RFC 7766 require
// (a zone with many NAPTR/SRV records easily exceeds 512 bytes). ARES_FLAG_NOCHECKRESP is
// set: a SERVFAIL or REFUSED answer is reported as such (servfail/refused) instead of being
// retried on the next server and ending as ARES_ECONNREFUSED; the price is no fail-over to
// a second server on SERVFAIL, which a diagnosis would rather show than hide.
//
// The answer of every query is reduced to a query_result value: status, the smallest TTL of
// the answer section, the elapsed time and the records (at most max_records_per_answer).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace netcheck {

enum class rr_type { naptr, srv, a, aaaa };
std::string_view to_string(rr_type t) noexcept;  // "NAPTR", "SRV", "A", "AAAA"

// The outcome of one query, as the resolution plan and the dns_failure diagnosis see it.
enum class dns_status { ok, nxdomain, nodata, servfail, refused, timeout, malformed, other };
std::string_view to_string(dns_status s) noexcept;     // "ok", "nxdomain", …
std::error_code to_error_code(dns_status s) noexcept;  // errc::nxdomain…; ok → {}

// Maps a c-ares status: ARES_ENOTFOUND → nxdomain, ARES_ENODATA → nodata, ARES_ESERVFAIL →
// servfail, ARES_EREFUSED/ARES_ECONNREFUSED → refused, ARES_ETIMEOUT/ARES_ECANCELLED →
// timeout, ARES_EBADRESP/ARES_EFORMERR/ARES_EBADNAME… → malformed, the rest → other.
dns_status status_from_ares(int ares_status) noexcept;

// Named bounds: a hostile or broken zone cannot make us allocate without limit.
inline constexpr std::size_t max_records_per_answer = 64;

struct naptr_record {
  std::uint16_t order = 0;
  std::uint16_t preference = 0;
  std::string flags;
  std::string service;
  std::string regexp;
  std::string replacement;  // "" when the replacement is the root "."
};

struct srv_record {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;  // "" when the target is the root "." (service not available)
};

struct query_result {
  std::string name;
  rr_type type = rr_type::a;
  dns_status status = dns_status::other;
  int ares_status = 0;               // the raw c-ares code, for the record
  std::string detail;                // human words for a non-ok status ("" when ok)
  std::optional<std::uint32_t> ttl;  // smallest TTL in the answer section; none without answers
  std::chrono::milliseconds elapsed{0};
  // Exactly one of these is filled, according to `type`.
  std::vector<naptr_record> naptr;
  std::vector<srv_record> srv;
  std::vector<std::string> addresses;  // text form: "127.0.0.1", "::1"
  bool capped = false;                 // the answer held more than max_records_per_answer records

  std::size_t record_count() const noexcept;
};

// Pure reply handling (what the c-ares callback does, testable with crafted answers):
// fills status, detail, ttl and records of `r` (whose name and type are set) from the status
// and answer bytes c-ares passed to the query callback. A successful answer that does not
// parse gives malformed; one without a record of the asked type gives nodata.
void parse_answer(query_result& r, int ares_status, const unsigned char* abuf, int alen,
                  std::size_t max_records = max_records_per_answer);

// The smallest TTL of the answer section of a DNS message; nullopt when the message has no
// answer or cannot be walked (truncated, bad name compression).
std::optional<std::uint32_t> min_answer_ttl(const unsigned char* msg, std::size_t len) noexcept;

// A DNS server address: "IPv4", "IPv4:port", "[IPv6]", "[IPv6]:port" or a bare "IPv6".
// Names are rejected (errc::bad_server_address): the resolver cannot resolve its own server.
struct server_address {
  std::string ip;
  std::uint16_t port = 53;
  bool v6 = false;
  std::string to_string() const;  // "127.0.0.1:53", "[::1]:5353"
};
std::error_code parse_server(std::string_view text, server_address& out);

struct resolver_settings {
  std::vector<std::string> servers;         // empty: /etc/resolv.conf (c-ares default)
  std::chrono::milliseconds timeout{2000};  // first try per server; c-ares doubles it per round
  int tries = 2;                            // rounds through the server list
};

// The resolver. Not copyable or movable; it must outlive nothing in flight: destroying it
// drops pending queries silently (their handlers are never called).
class resolver {
 public:
  // Completion: void(query_result). Always posted to the io_context, never called from
  // inside async_query or from inside c-ares.
  using handler = std::function<void(query_result)>;

  // Throws std::system_error errc::bad_server_address (the message names the bad entry).
  // Opens nothing: the c-ares channel (and with it /etc/resolv.conf) is made by the first
  // query or servers() call; when it cannot be made, each query completes with status
  // other and a detail that says why.
  resolver(boost::asio::io_context& io, const resolver_settings& settings);
  ~resolver();
  resolver(const resolver&) = delete;
  resolver& operator=(const resolver&) = delete;

  boost::asio::any_io_executor get_executor() const;

  // Asks `name` (as given, no search list) for `type`, class IN.
  void async_query(std::string name, rr_type type, handler h);

  // Ends every pending query now; their handlers receive status timeout with detail
  // "cancelled". Used when an overall deadline passes.
  void cancel();

  std::size_t pending() const noexcept;
  // The servers in use, "127.0.0.1:5353" form (from /etc/resolv.conf when none was given;
  // empty when the channel cannot be made).
  std::vector<std::string> servers() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace netcheck
