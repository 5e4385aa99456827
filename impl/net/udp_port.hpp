// The event-driven side of UDP (channel.hpp's for datagrams): one bound port on the owner's Asio loop that
// hands over every datagram whole and sends to any address. For a peer-to-peer client (peerchat's chat
// ports); the blocking udp_socket of stream.hpp is the conformance engine's.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "impl/core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace parley::net {

class udp_port {
public:
  virtual ~udp_port() = default;
  virtual unsigned short port() const = 0;
  // Queues one datagram; a send that fails is lost, as a datagram may be.
  virtual void send_to(const std::string& address, unsigned short port, std::string data) = 0;
  // No more datagrams in or out; the receive handler is not called again.
  virtual void close() = 0;
};

// A datagram as it came: whole (up to 65,535 bytes, so an oversized one is seen, not cut), with the
// sender's address (an IPv4-mapped IPv6 address as plain IPv4) and port. Valid until the handler returns.
using datagram_handler = std::function<void(std::string_view data, const std::string& from, unsigned short from_port)>;

// Binds `local_address`:`port` (0: any free port) and receives on `io` until close().
result<std::shared_ptr<udp_port>> open_udp_port(boost::asio::io_context& io, const std::string& local_address,
                                                unsigned short port, datagram_handler on_datagram);

}  // namespace parley::net
