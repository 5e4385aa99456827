#include "conformance/engine/peer_queue.hpp"

#include <fstream>
#include <sstream>

namespace parley::conform {
namespace {

// "0100007F:1F90" -> 8080; the address part is not needed: ports tell sockets of one machine apart.
std::optional<unsigned> port_of(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  try {
    return static_cast<unsigned>(std::stoul(endpoint.substr(colon + 1), nullptr, 16));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<std::size_t> unread_by_peer(unsigned short peer_port, unsigned short our_port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue ...
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues;
      if (!(fields >> slot >> local >> remote >> state >> queues)) continue;
      if (port_of(local) != peer_port || port_of(remote) != our_port) continue;
      auto colon = queues.find(':');
      if (colon == std::string::npos) return std::nullopt;
      try {
        return static_cast<std::size_t>(std::stoul(queues.substr(colon + 1), nullptr, 16));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace parley::conform
