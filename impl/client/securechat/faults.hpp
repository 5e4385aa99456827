// Deliberate bugs the reference client can plant (`parley-client securechat --fault NAME`), so that every
// client-role conformance case can be shown to fail. Each breaks exactly the rules its table entry
// declares (spec/securechat/spec.md §10). Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::securechat {

enum class client_fault {
  none,
  send_before_welcome,        // runs typed commands at once, before the Welcome (SC-CLIENT-01)
  sign_compact_json,          // signs {"name":"NAME"} without the space (SC-CLIENT-02)
  keep_old_key,               // shows a changed key but keeps encrypting to the old one (SC-CLIENT-03)
  drop_on_unknown_remove,     // ends the session on a RemoveUserMessage for a stranger (SC-CLIENT-04)
  keep_removed_user,          // shows the user left but still sends to it (SC-CLIENT-05)
  show_ciphertext,            // shows a private message's hex instead of its text (SC-CLIENT-06)
  decrypt_error_without_ref,  // answers an undecryptable private message with ref_message_id null (SC-CLIENT-07)
  accept_unknown_sender,      // shows a stranger's public message without a reply (SC-CLIENT-08)
  truncate_long_private,      // cuts a private text to one RSA block instead of refusing it (SC-CLIENT-09)
  talk_after_leave,           // after LeaveMessage stays connected and goes on sending (SC-CLIENT-10)
  crash_on_garbage,           // aborts on a server message it cannot decode (SC-CLIENT-11)
};

using client_fault_info = core::fault_info<client_fault>;

std::span<const client_fault_info> all_client_faults() noexcept;
std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept;

}  // namespace parley::securechat
