#include "impl/server/sslmessager/faults.hpp"

#include <array>

namespace parley::sslmessager {
namespace {

constexpr std::array<fault_info, 12> table{{
    {fault::spoofable_sender, "spoofable-sender", "relays MSG with whatever sender name the client wrote"},
    {fault::unknown_user_kills_all, "unknown-user-kills-all", "an AUTH for an unknown user ends every connection"},
    {fault::accept_second_login, "accept-second-login", "accepts a login of a user who is already online"},
    {fault::silent_before_auth, "silent-before-auth", "ignores a MSG before AUTH instead of END * <incorrect protocol>"},
    {fault::no_cnt, "no-cnt", "says nothing when the target of a MSG is offline"},
    {fault::no_check, "no-check", "never sends CHECK"},
    {fault::no_trailing_space, "no-trailing-space", "ends its lines with \\r\\n but no space before them"},
    {fault::end_to_wrong_socket, "end-to-wrong-socket", "sends a protocol error's END to the user the line names"},
    {fault::keep_name_after_drop, "keep-name-after-drop", "keeps a user online after its connection dropped"},
    {fault::no_fragments, "no-fragments", "ignores a message that never gets a line ending"},
    {fault::no_end_reply, "no-end-reply", "closes on a client's END without END <end accepted>"},
    {fault::relay_to_everyone, "relay-to-everyone", "relays each MSG to every online user"},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::sslmessager
