#include "impl/server/securechat/faults.hpp"

#include <array>

namespace parley::securechat {
namespace {

constexpr std::array<fault_info, 13> table{{
    {fault::accept_bad_signature, "accept-bad-signature", "welcomes a join whose signature does not verify"},
    {fault::accept_duplicate_name, "accept-duplicate-name", "lets a second session join under a name already in use"},
    {fault::welcome_without_joiner, "welcome-without-joiner", "leaves the joiner out of its own WelcomeMessage"},
    {fault::no_add_user, "no-add-user", "never sends AddUserMessage to the other users"},
    {fault::add_user_to_joiner, "add-user-to-joiner", "sends the joiner an AddUserMessage about itself too"},
    {fault::no_remove_on_drop, "no-remove-on-drop", "sends RemoveUserMessage on Leave only, not when a connection drops"},
    {fault::trust_from_name, "trust-from-name", "routes messages with the from_name the client wrote"},
    {fault::echo_public, "echo-public", "sends a RoutedPublicMessage back to its sender too"},
    {fault::error_without_id, "error-without-id", "sends every ErrorMessage with ref_message_id null"},
    {fault::keep_open_before_join, "keep-open-before-join", "answers \"Must join first\" but keeps the connection open"},
    {fault::silent_unknown_recipient, "silent-unknown-recipient", "drops a private message to an unknown user without an error"},
    {fault::close_on_invalid_json, "close-on-invalid-json", "ends the session after answering \"Invalid JSON\""},
    {fault::answer_client_error, "answer-client-error", "answers a client's ErrorMessage with \"Unknown message type\""},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::securechat
