// netcheck/transport.hpp — one client flow to one endpoint over UDP, TCP or TLS.
//
// A flow connects, sends bytes and receives whole messages; it knows nothing of SIP: the
// caller passes a framer that says how long the first complete message in the buffered bytes
// is. Everything runs on the caller's io_context (one thread, no strands, no mutexes).
//
// Contract shared by every operation:
// - Every step has a deadline. A timeout is a result (errc::connect_timeout,
//   errc::tls_handshake_timeout, errc::send_timeout, errc::receive_timeout) with the elapsed
//   time recorded, never a bare operation_aborted.
// - Handlers are never called from inside the initiating function; they run on the
//   io_context. They are always called exactly once, even after close() or after the flow
//   handle is destroyed (then with boost::asio::error::operation_aborted as std::error_code,
//   i.e. `ec == std::errc::operation_canceled`). A handler that captures `this` of an object
//   that may be gone must check for that first (or capture a shared_ptr).
// - At most one connect, one send and one receive may be outstanding at a time; a send and a
//   receive may be outstanding together (UDP retransmissions while waiting for the answer).
//   A second operation of the same kind completes with errc::busy.
// - OS errors pass through as std::error_code in the system category: compare with
//   std::errc::connection_refused (TCP RST, or ICMP port unreachable on a connected UDP
//   socket), std::errc::connection_reset, std::errc::host_unreachable, …
#pragma once

#include "netcheck/tls_report.hpp"
#include "netcheck/common.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace netcheck {

// transport and to_string(transport): netcheck/common.hpp (shared with rfc3263.hpp)

// The address as text, as address::to_string() writes it ("192.0.2.7", "2001:db8::1"),
// IPv4 without inet_ntop's printf: a batch writes its addresses into every request.
std::string address_text(const boost::asio::ip::address& a);

// Where to connect. `host` is the name the certificate must match and the SNI (TLS only):
// a DNS name (SNI + X509_VERIFY_PARAM_set1_host), an IP literal (no SNI,
// X509_VERIFY_PARAM_set1_ip_asc) or empty (no SNI, name not checked: report.name_checked
// stays false).
struct endpoint_spec {
  transport proto = transport::udp;
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  std::string host;
  std::string to_string() const;  // "tls:[::1]:5061 (sip.test)"
};

// How long is the first complete message in `buffered`?
//   > 0  its length in bytes (a value larger than buffered.size() means "the message will
//        be this long, read more"; above max_message it is errc::message_too_large)
//   = 0  no complete message yet, read more
//   < 0  the bytes cannot be a message (errc::malformed_message; the flow's framing is lost)
// For UDP the datagram is the message; the framer (if any) only validates it: < 0 is
// malformed_message, anything else accepts the whole datagram.
using framer = std::function<std::ptrdiff_t(std::string_view buffered)>;

inline constexpr std::size_t max_datagram = 65535;
inline constexpr std::size_t default_max_message = 64 * 1024;

struct flow_options {
  // Local address and/or port to bind before connecting (Via/Contact may need a fixed
  // port); unset / 0 lets the kernel choose.
  std::optional<boost::asio::ip::address> local_address;
  std::uint16_t local_port = 0;
  // Largest message a stream flow accepts; the receive buffer never grows beyond it.
  std::size_t max_message = default_max_message;
  // SO_RCVBUF for the socket (0: the system default). A UDP socket shared by many flows
  // needs room for a burst of answers; the kernel caps it at net.core.rmem_max.
  std::size_t socket_receive_buffer = 0;
};

// One received message (or, on malformed_message / truncated_message / message_too_large,
// the offending bytes as evidence — at most max_message of them).
struct received {
  std::string bytes;
  std::chrono::milliseconds elapsed{0};  // from async_receive to completion
};

namespace detail {
class flow_impl;
}

class flow {
 public:
  using connect_handler = std::function<void(std::error_code)>;
  using send_handler = std::function<void(std::error_code, std::chrono::milliseconds elapsed)>;
  using receive_handler = std::function<void(std::error_code, received)>;

  // `tls` is required for transport::tls (std::invalid_argument otherwise) and must outlive
  // the flow's operations. Nothing happens on the network until async_connect.
  flow(boost::asio::io_context& io, endpoint_spec remote, flow_options options = {}, tls_context* tls = nullptr);
  // A flow over another implementation (a shared link: netcheck/link.hpp).
  explicit flow(std::shared_ptr<detail::flow_impl> impl);
  // Closes the flow; pending handlers still run (with operation_aborted).
  ~flow();
  flow(flow&&) noexcept;
  flow& operator=(flow&&) noexcept;
  flow(const flow&) = delete;
  flow& operator=(const flow&) = delete;

  // UDP: opens a *connected* socket (no packet is sent; ICMP errors then surface on the next
  // send/receive). TCP: connects; refused (RST) → std::errc::connection_refused, no answer
  // → errc::connect_timeout. TLS: TCP, then the handshake with SNI and recorded
  // verification, within the same deadline; a handshake that fails →
  // errc::tls_handshake_failed or errc::tls_handshake_timeout, a certificate that does not
  // verify → errc::tls_verify_failed (unless tls_options::insecure); tls() tells why.
  // The flow is closed after any failure.
  void async_connect(std::chrono::milliseconds timeout, connect_handler handler);

  // Sends all of `bytes` (one datagram for UDP). A send timeout closes the flow (a stream
  // with a partial write cannot carry another message). The flow copies `bytes` when it
  // has to keep them (a stream write, a datagram that must wait for room): the caller's
  // buffer need not outlive the call.
  void async_send(std::string_view bytes, std::chrono::milliseconds timeout, send_handler handler);

  // UDP only, for a socket shared by many flows (netcheck/link.hpp): sends the datagram
  // now if the socket has room. nullopt when it has not (EAGAIN: nothing was sent, use
  // async_send) or when the flow is not a connected UDP flow; otherwise the send's result.
  // The one operation here that completes inside the call.
  std::optional<std::error_code> try_send(std::string_view bytes);

  // UDP only, for a shared socket: from now on every datagram, and every error of the
  // socket (an ICMP refusal), goes to `sink` as it arrives, from the read's completion
  // handler, until the flow is closed; async_receive is then unavailable (errc::busy).
  // The view is valid during the call only. The sink may close the flow. Returns false
  // (and does nothing) unless the flow is a connected UDP flow with no receive pending.
  using datagram_sink = std::function<void(std::error_code, std::string_view datagram)>;
  bool receive_each(datagram_sink sink);

  // Receives the next message. A receive timeout does not disturb the flow: a read may stay
  // in flight, and what it brings is kept for the next async_receive. Bytes after a message
  // stay buffered. Stream EOF: errc::connection_closed when nothing is buffered,
  // errc::truncated_message otherwise. `timeout` may be no_timeout: no timer at all (a
  // shared link's read, which waits as long as the link is open).
  static constexpr std::chrono::milliseconds no_timeout = std::chrono::milliseconds::max();
  void async_receive(framer frame, std::chrono::milliseconds timeout, receive_handler handler);

  // Ends a pending async_receive now, as if its timeout had expired (errc::receive_timeout,
  // the handler posted, the read left in flight as after a timeout): for a caller that
  // listens in slices and has stopped waiting. Nothing happens without a pending receive.
  void stop_waiting() noexcept;

  // Closes the socket now (no TLS close_notify); idempotent.
  void close() noexcept;

  bool is_open() const noexcept;  // connected and not closed
  const endpoint_spec& remote() const noexcept;
  // The local address and port actually in use (for Via / Contact); nullopt before connect.
  std::optional<boost::asio::ip::address> local_address() const;
  std::uint16_t local_port() const noexcept;
  // Time of the TCP connect and of the TLS handshake (nullopt when not done).
  std::optional<std::chrono::milliseconds> connect_time() const noexcept;
  std::optional<std::chrono::milliseconds> handshake_time() const noexcept;
  // What the TLS handshake showed (empty report for UDP/TCP or before the handshake).
  const tls_report& tls() const noexcept;
  // Bytes buffered after the last message returned (stream flows).
  std::size_t buffered() const noexcept;

 private:
  std::shared_ptr<detail::flow_impl> impl_;
};

}  // namespace netcheck
