// netcheck/link.hpp — many flows over one socket or connection per endpoint.
//
// A batch of registrations to one registrar does not need a socket each: the flows a
// link_pool opens share one UDP socket, or one TCP/TLS connection, per endpoint (RFC 3261
// §18.1.1 lets a client send many requests over one connection; RFC 5923 relies on it).
// Answers are routed by a key the caller takes from the bytes — for SIP the top Via
// branch, which a response copies from its request (RFC 3261 §17.1.3):
//  - a flow owns the keys of the messages it sent; an answer goes to the flow that owns
//    its key; an answer whose key nobody owns (a late retransmission) is dropped;
//  - an answer without a key (garbage on the port) goes to every flow that is waiting,
//    as evidence for each of them;
//  - errors of the shared socket (ICMP refusal, reset, EOF) go to every flow waiting; a
//    stream link that fails is forgotten, and the next flow opened connects anew.
// Each flow keeps the contract of transport.hpp (deadlines, handlers once, never inline).
// The first flow's async_connect connects the link; later ones join it, or complete at
// once when it is up. Everything runs on the pool's io_context, like a flow.
#pragma once

#include "netcheck/transport.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace netcheck {

// The routing key of a message ("" when it has none). The view points into `message`.
using message_key = std::function<std::string_view(std::string_view message)>;

class link_pool {
 public:
  // A shared UDP socket asks for this SO_RCVBUF unless `options` says otherwise.
  static constexpr std::size_t udp_receive_buffer = 4 * 1024 * 1024;

  // `options` and `tls` apply to every link (`tls` must outlive the pool when used);
  // `stream_framer` cuts messages on TCP/TLS links (a datagram is a message).
  link_pool(boost::asio::io_context& io, flow_options options, tls_context* tls, framer stream_framer, message_key key);
  ~link_pool();
  link_pool(const link_pool&) = delete;
  link_pool& operator=(const link_pool&) = delete;

  // A flow to `remote` over the shared link for it.
  flow open(const endpoint_spec& remote);
  // Closes every link: waiting flows complete with operation_aborted, later operations
  // with not_connected. Until this runs, an open link keeps a read pending on the
  // io_context.
  void close() noexcept;

  std::size_t links() const noexcept;        // links open or connecting now
  std::uint64_t connects() const noexcept;   // links ever connected (or tried)
  std::uint64_t unmatched() const noexcept;  // answers whose key nobody owned, dropped

 private:
  struct state;
  std::shared_ptr<state> s_;
};

}  // namespace netcheck
