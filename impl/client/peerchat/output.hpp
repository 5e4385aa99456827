// What the peerchat agent asks of its driver: lines for the server, UDP work, and events for the user.
// The agent never touches a socket; the driver (impl/client/peerchat_main.cpp) or a test does what is asked.
#pragma once

#include <string>
#include <vector>

#include "impl/client/common/event.hpp"

namespace parley::peerchat {

using event = client::event;

// UDP ports are local port numbers on the address of the TCP connection to the server, so that two
// clients on one host (127.0.0.1 and 127.0.0.2) can both use port n (PC-CLI-03, spec §12 R10).
struct udp_request {
  enum class kind {
    bind,     // bind `port`; answer with agent::on_bind_result(port, ok, ...)
    release,  // close the socket of `port`; nothing more arrives on it
    send,     // send `data` from the socket of `port` to address:remote_port
  } what = kind::send;
  unsigned port = 0;
  std::string address;
  unsigned remote_port = 0;
  std::string data;
};

struct agent_output {
  std::vector<std::string> sends;  // whole lines with their LF, one write each
  std::vector<udp_request> udp;    // in order
  std::vector<event> events;
  bool contacts_changed = false;   // the contact list should be saved (agent::contacts())
  bool close = false;              // close the TCP connection once the sends are written
};

}  // namespace parley::peerchat
