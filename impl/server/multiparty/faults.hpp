// Deliberate bugs the reference server can plant (`parley-server multiparty --fault NAME`), so that every
// conformance case is shown to fail against a server that breaks its rule. Never enabled by default.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::multiparty {

enum class fault {
  none,
  skip_tag_check,        // accepts frames whose GCM tag is wrong (the payload is used anyway)
  accept_replay,         // accepts a frame whose sqn is not last + 1
  ignore_uid,            // accepts frames whose uid is not the connection's
  accept_stale_login,    // accepts login timestamps however old
  accept_replayed_login, // accepts a login_req that repeats an earlier login's tk (a replay)
  reuse_sid,             // hands out the sid of a closed session again
  forward_to_nonmember,  // forwards msg_req parts to users who are not members (e.g. declined)
  alter_part,            // forwards msg_req parts with one character changed
  no_invite,             // creates the session but never sends invite_req
  anyone_may_close,      // lets any member close a session
  msg_after_close,       // routes messages in closed sessions
  no_status_check,       // never sends status_req to silent clients
  offline_status_lies,   // answers every status_req about a user with "Online"
  skip_sqn,              // numbers its frames after the login_res from 3: sqn 2 is never sent
  forward_claimed_uid,   // forwards a msg_req claiming another member's uid under that uid (a forged sender)
  // Only fuzzing reaches these (no conformance case sends their trigger); parley-fuzz must find them.
  // Always appended last: the hub fuzzer's seeds pick faults by their place in the table.
  crash_on_255_byte_answer,  // the process exits on a sealed invite_res whose answer is 255 bytes  MP-CONN-04
};

// The trigger of crash-on-255-byte-answer: the length of an invite_res payload that no conformance case
// sends ("Accept", "Deny" and the like are a few bytes) but parley-fuzz makes, growing a payload to 255
// bytes or putting a 255-byte name in its place; the frame is sealed again, so it reaches the hub.
inline constexpr std::size_t crash_answer_bytes = 255;

using fault_info = core::fault_info<fault>;

std::span<const fault_info> all_faults() noexcept;
std::optional<fault> fault_from_name(std::string_view name) noexcept;

}  // namespace parley::multiparty
