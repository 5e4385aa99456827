#include "impl/client/securechat/faults.hpp"

#include <array>

namespace parley::securechat {
namespace {

constexpr std::array<client_fault_info, 11> table{{
    {client_fault::send_before_welcome, "send-before-welcome", "sends what the user types at once, before the WelcomeMessage", "SC-CLIENT-01"},
    {client_fault::sign_compact_json, "sign-compact-json", "signs {\"name\":\"NAME\"} (no space after the colon) in its JoinMessage", "SC-CLIENT-02"},
    {client_fault::keep_old_key, "keep-old-key", "shows that an AddUserMessage changed a key, but keeps encrypting to the old one", "SC-CLIENT-03"},
    {client_fault::drop_on_unknown_remove, "drop-on-unknown-remove", "ends the session (close 1000) on a RemoveUserMessage for a user it does not know", "SC-CLIENT-04"},
    {client_fault::keep_removed_user, "keep-removed-user", "shows that a user left, but keeps its key and still sends it private messages", "SC-CLIENT-05"},
    {client_fault::show_ciphertext, "show-ciphertext", "shows a private message's encrypted_text instead of the decrypted text", "SC-CLIENT-06"},
    {client_fault::decrypt_error_without_ref, "decrypt-error-without-ref", "answers an undecryptable private message with ref_message_id null", "SC-CLIENT-07"},
    {client_fault::accept_unknown_sender, "accept-unknown-sender", "shows a public message from an unknown sender and sends no ErrorMessage", "SC-CLIENT-08"},
    {client_fault::truncate_long_private, "truncate-long-private", "cuts a private text too long for one RSA block to fit, and sends it", "SC-CLIENT-09"},
    {client_fault::talk_after_leave, "talk-after-leave", "after its LeaveMessage stays connected and sends what the user types", "SC-CLIENT-10"},
    {client_fault::crash_on_garbage, "crash-on-garbage",
     "aborts on a server message it cannot decode (not JSON, an unknown _command, a field of the wrong type)", "SC-CLIENT-11"},
}};

}  // namespace

std::span<const client_fault_info> all_client_faults() noexcept { return table; }

std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept {
  return core::find_fault<client_fault>(table, name);
}

}  // namespace parley::securechat
