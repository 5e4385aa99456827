// How much a peer on this machine has not read yet: the kernel's table of TCP sockets (/proc/net/tcp and
// tcp6) shows every socket's receive queue, the peer's included, since on loopback it is a socket of this
// machine. The engine types into a client under test only once the client has read what it was sent.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace parley::conform {

// The bytes waiting, unread by its process, in the receive queue of the TCP socket whose local port is
// `peer_port` and whose remote port is `our_port`; nullopt when no such socket is listed (not on this
// machine, or already gone).
std::optional<std::size_t> unread_by_peer(unsigned short peer_port, unsigned short our_port);

}  // namespace parley::conform
