// Deliberate bugs the reference server can plant (`parley-server securechat --fault NAME`), so that every
// conformance case is shown to fail against a server that breaks its rule. Each table entry declares the
// rules it breaks: a conformance run against it FAILs exactly those. Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::securechat {

enum class fault {
  none,
  accept_bad_signature,      // welcomes a join whose signature does not verify      SC-JOIN-04/05
  accept_duplicate_name,     // lets a second session join under a name in use       SC-JOIN-07
  welcome_without_joiner,    // leaves the joiner out of its own Welcome             SC-WELCOME-02
  no_add_user,               // never sends AddUserMessage                           SC-USER-01
  add_user_to_joiner,        // sends the joiner its own AddUserMessage too          SC-USER-01
  no_remove_on_drop,         // a drop unnoticed until a write: the user lingers     SC-USER-04
  trust_from_name,           // routes with the from_name the client wrote           SC-PUB-02, SC-PRIV-02
  echo_public,               // sends RoutedPublicMessage back to its sender too     SC-PUB-03
  error_without_id,          // every ErrorMessage has ref_message_id null           SC-ERR-01
  keep_open_before_join,     // refuses before the join but keeps the connection     SC-JOIN-02
  silent_unknown_recipient,  // drops a private message to an unknown user silently  SC-PRIV-03
  close_on_invalid_json,     // ends the session after "Invalid JSON"                SC-MSG-03
  answer_client_error,       // answers a client's ErrorMessage with an ErrorMessage SC-ERR-03
  no_login_timeout,          // never closes a connection that does not join         SC-JOIN-10
  // Only fuzzing reaches these (no conformance case sends their trigger); parley-fuzz must find them.
  // Always appended last: the hub fuzzer's seeds pick faults by their place in the table.
  hang_on_near_miss_command,  // after the join, a _command one edit from a real one: serves nobody again  SC-CONN-03
};

using fault_info = core::fault_info<fault>;

std::span<const fault_info> all_faults() noexcept;
std::optional<fault> fault_from_name(std::string_view name) noexcept;

// The trigger of hang-on-near-miss-command: `command` is not a message type's name but one inserted,
// deleted or changed byte away from one (PublicMesage, Publi6cMessage), other than a letter in the other
// case. No conformance case sends such a name (their unknown ones, DanceMessage and Nope, are far from
// every type); parley-fuzz's bit flips and inserted bytes make them.
bool near_miss_command(std::string_view command) noexcept;

}  // namespace parley::securechat
