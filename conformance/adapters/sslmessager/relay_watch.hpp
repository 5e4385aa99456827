// sslmessager's session watcher: a RELAY must carry the sender that sent its MSG (SSLM-MSG-02: the server
// checks the sender field against the logged-in name), and come from a logged-in connection (SSLM-AUTH-01).
#pragma once

#include <memory>

#include "conformance/engine/adapter.hpp"

namespace parley::conform::sslmessager_watch {

std::unique_ptr<session_watcher> make_relay_watcher();

}  // namespace parley::conform::sslmessager_watch
