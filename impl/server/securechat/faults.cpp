#include "impl/server/securechat/faults.hpp"

#include <array>

namespace parley::securechat {
namespace {

constexpr std::array<fault_info, 13> table{{
    {fault::accept_bad_signature, "accept-bad-signature", "welcomes a join whose signature does not verify",
     "SC-JOIN-04 SC-JOIN-05"},
    {fault::accept_duplicate_name, "accept-duplicate-name", "lets a second session join under a name already in use",
     "SC-JOIN-07"},
    {fault::welcome_without_joiner, "welcome-without-joiner", "leaves the joiner out of its own WelcomeMessage",
     "SC-WELCOME-02"},
    {fault::no_add_user, "no-add-user", "never sends AddUserMessage to the other users", "SC-USER-01"},
    {fault::add_user_to_joiner, "add-user-to-joiner", "sends the joiner an AddUserMessage about itself too",
     "SC-USER-01"},
    {fault::no_remove_on_drop, "no-remove-on-drop",
     "notices a dropped connection only when it next writes to it: the user lingers, listed, with no RemoveUserMessage",
     "SC-USER-04"},
    {fault::trust_from_name, "trust-from-name", "routes messages with the from_name the client wrote",
     "SC-PUB-02 SC-PRIV-02"},
    {fault::echo_public, "echo-public", "sends a RoutedPublicMessage back to its sender too", "SC-PUB-03"},
    {fault::error_without_id, "error-without-id", "sends every ErrorMessage with ref_message_id null", "SC-ERR-01"},
    {fault::keep_open_before_join, "keep-open-before-join",
     "refuses a first message or a join with an ErrorMessage but keeps the connection open", "SC-JOIN-02"},
    {fault::silent_unknown_recipient, "silent-unknown-recipient",
     "drops a private message to an unknown user without an error", "SC-PRIV-03"},
    {fault::close_on_invalid_json, "close-on-invalid-json", "ends the session after answering \"Invalid JSON\"",
     "SC-MSG-03"},
    {fault::answer_client_error, "answer-client-error", "answers a client's ErrorMessage with \"Unknown message type\"",
     "SC-ERR-03"},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::securechat
