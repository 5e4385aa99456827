// itp's session watcher: a relayed BCST or NPM must name the user who sent it (ITP-BCST-02, ITP-PM-01). The
// itp server takes the sender from the login, so a wrong name is the server's mistake, not a client's lie.
#pragma once

#include <memory>

#include "conformance/engine/adapter.hpp"

namespace parley::conform::itp_watch {

std::unique_ptr<session_watcher> make_sender_watcher();

}  // namespace parley::conform::itp_watch
