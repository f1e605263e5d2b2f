// netcheck/flow_impl.hpp — what a netcheck::flow delegates to (internal).
//
// Two kinds exist: a flow with its own socket (transport.cpp) and a flow that shares one
// socket or connection with others (link.cpp). Both keep the contract of transport.hpp.
#pragma once

#include "netcheck/transport.hpp"

namespace netcheck::detail {

class flow_impl {
 public:
  virtual ~flow_impl() = default;
  virtual void async_connect(std::chrono::milliseconds timeout, flow::connect_handler handler) = 0;
  virtual void async_send(std::string_view bytes, std::chrono::milliseconds timeout, flow::send_handler handler) = 0;
  // Only a flow with its own UDP socket has these (see transport.hpp).
  virtual std::optional<std::error_code> try_send(std::string_view) { return std::nullopt; }
  virtual bool receive_each(flow::datagram_sink) { return false; }
  virtual void async_receive(framer frame, std::chrono::milliseconds timeout, flow::receive_handler handler) = 0;
  virtual void stop_waiting() noexcept = 0;
  virtual void close() noexcept = 0;
  virtual bool is_open() const noexcept = 0;
  virtual const endpoint_spec& remote() const noexcept = 0;
  virtual std::optional<boost::asio::ip::address> local_address() const = 0;
  virtual std::uint16_t local_port() const noexcept = 0;
  virtual std::optional<std::chrono::milliseconds> connect_time() const noexcept = 0;
  virtual std::optional<std::chrono::milliseconds> handshake_time() const noexcept = 0;
  virtual const tls_report& tls() const noexcept = 0;
  virtual std::size_t buffered() const noexcept = 0;
};

}  // namespace netcheck::detail
