// multiparty's session watcher: a msg_req the server forwards must carry, as its uid, the uid of the user
// who sent the line (MP-MSG-04: "uid = the sender"). The line's part is sealed end to end for the
// recipient, so a server that forwards it under another uid makes the recipient open it as from someone
// else: a forged sender behind valid crypto. The engine seals what it sends, so the adapter hands the
// watcher each frame's plaintext (session_watcher::sent_sealed) and the frames it opened (received).
#pragma once

#include <memory>

#include "conformance/engine/adapter.hpp"

namespace parley::conform::multiparty_watch {

std::unique_ptr<session_watcher> make_sender_watcher();

}  // namespace parley::conform::multiparty_watch
