// peerchat's session watcher: a REGISTER the server answered with success must have been one it was bound to
// refuse for nothing. Its name obeys the grammar (PC-REG-04) and, on a connection the server greeted as
// peerchat/2, its key field is a well-formed key (PC-KEY-02).
#pragma once

#include <memory>

#include "conformance/engine/adapter.hpp"

namespace parley::conform::peerchat_watch {

std::unique_ptr<session_watcher> make_register_watcher();

}  // namespace parley::conform::peerchat_watch
