#include "impl/server/securechat/faults.hpp"

#include <array>
#include <utility>
#include <variant>

#include "impl/proto/securechat/codec.hpp"

namespace parley::securechat {
namespace {

constexpr std::array<fault_info, 15> table{{
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
    {fault::no_login_timeout, "no-login-timeout", "never closes a connection that does not join", "SC-JOIN-10"},
    {fault::hang_on_near_miss_command, "hang-on-near-miss-command",
     "stops serving everyone, connected or new (as a server stuck in a loop), on a joined user's message whose "
     "_command is one edit (not a change of case) away from a message type, such as PublicMesage",
     "SC-CONN-03", core::fault_kind::fuzz},
}};

// The message types' names, from the codec: a message's variant index is its type.
template <std::size_t... I>
std::array<std::string_view, sizeof...(I)> command_names(std::index_sequence<I...>) {
  return {command_name(message{std::in_place_index<I>})...};
}

bool one_edit_apart(std::string_view a, std::string_view b) noexcept {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return false;
  std::size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (a.size() == b.size()) return i < a.size() && a.substr(i + 1) == b.substr(i + 1);
  return a.substr(i) == b.substr(i + 1);
}

bool same_but_case(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

bool near_miss_command(std::string_view command) noexcept {
  static const auto names = command_names(std::make_index_sequence<std::variant_size_v<message>>{});
  for (auto name : names)
    if (one_edit_apart(command, name) && !same_but_case(command, name)) return true;
  return false;
}

}  // namespace parley::securechat
