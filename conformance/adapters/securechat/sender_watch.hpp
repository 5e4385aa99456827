// securechat's session watcher: a RoutedPublicMessage or RoutedPrivateMessage must name the joined user of
// the connection that sent it (SC-PUB-02, SC-PRIV-02: the server sets from_name, whatever the client put in),
// and a connection that never joined is routed nothing it sent (SC-JOIN-02: its first message that is no
// join is refused and the connection closed). Given a way to check signatures, it also reports a
// WelcomeMessage that answers only joins whose signature does not verify (SC-JOIN-04).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "conformance/engine/adapter.hpp"

namespace parley::conform::securechat_watch {

// Whether `signature` is a valid join signature of `name` under the key the store holds for it; nullopt
// when the watcher cannot tell (a name the key store does not hold).
using join_verifier = std::function<std::optional<bool>(const std::string& name, const std::string& signature)>;

std::unique_ptr<session_watcher> make_sender_watcher(join_verifier verify = {});

}  // namespace parley::conform::securechat_watch
