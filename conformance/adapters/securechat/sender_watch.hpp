// securechat's session watcher: a RoutedPublicMessage or RoutedPrivateMessage must name the joined user of
// the connection that sent it (SC-PUB-02, SC-PRIV-02: the server sets from_name, whatever the client put in),
// and a connection that never joined is routed nothing it sent (SC-JOIN-02: its first message that is no
// join is refused and the connection closed).
#pragma once

#include <memory>

#include "conformance/engine/adapter.hpp"

namespace parley::conform::securechat_watch {

std::unique_ptr<session_watcher> make_sender_watcher();

}  // namespace parley::conform::securechat_watch
