// An observer of the raw bytes that pass through impl/net's sockets, for captures (parley-conform --pcap)
// and TLS key logs (--keylog). It sees what the socket itself reads and writes: for TLS the records, for
// WebSocket the frames and the HTTP upgrade. A stream or socket made without a tap pays nothing for this.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "impl/core/clock.hpp"

namespace parley::net {

// One end of a connection or datagram: a numeric IPv4 or IPv6 address and a port.
struct endpoint {
  std::string address;
  unsigned short port = 0;
};

// Seen from the socket's owner: `out` is what it wrote, `in` what it read.
enum class direction : unsigned char { out, in };

// What happens on one TCP connection, in the order it happened. Called from the thread that uses the
// stream; an implementation shared between streams of several threads locks for itself.
class connection_tap {
public:
  virtual ~connection_tap() = default;
  // Bytes the socket wrote (out) or read (in), as the kernel took or gave them.
  virtual void on_bytes(direction d, std::string_view bytes, time_point at) = 0;
  // The end of one direction: out, the owner shut down, closed (FIN) or reset (RST) the socket; in, a read
  // saw the peer's FIN (end of stream) or RST. At most once per direction, but for an RST after a FIN.
  virtual void on_end(direction d, bool reset, time_point at) = 0;
};

class traffic_tap {
public:
  virtual ~traffic_tap() = default;
  // A TCP connection is established: `local` is the owner's end; `initiated` when the owner connected (not
  // accepted). The returned observer lives as long as the socket; nullptr: nothing more about it.
  virtual std::unique_ptr<connection_tap> on_open(const endpoint& local, const endpoint& remote, bool initiated,
                                                  time_point at) = 0;
  // A UDP datagram the owner's socket bound at `local` sent to (out) or received from (in) `remote`.
  virtual void on_datagram(direction d, const endpoint& local, const endpoint& remote, std::string_view bytes,
                           time_point at) = 0;
  // One line of TLS secrets in the NSS key log format (SSLKEYLOGFILE), without its newline, for each TLS
  // handshake the owner makes or accepts.
  virtual void on_tls_secret(std::string_view line) = 0;
};

}  // namespace parley::net
