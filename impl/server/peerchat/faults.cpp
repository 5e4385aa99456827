#include "impl/server/peerchat/faults.hpp"

#include <array>

namespace parley::peerchat {
namespace {

constexpr std::array<fault_info, 15> table{{
    {fault::no_startchat, "no-startchat", "sends no STARTCHAT after both users accepted a port"},
    {fault::list_includes_self, "list-includes-self", "lists the requester among the users of LISTUSERS"},
    {fault::no_bare_ok, "no-bare-ok", "writes no OK after an accepted CHAT, only the PORT lines"},
    {fault::target_asked_first, "target-asked-first", "offers each port to the target before the requester"},
    {fault::port_out_of_range, "port-out-of-range", "draws ports from 1024-65535 instead of 40000-59999"},
    {fault::startchat_after_retries, "startchat-after-retries", "sends STARTCHAT after 20 refused rounds instead of the error"},
    {fault::no_port_timeout, "no-port-timeout", "waits for an answer to PORT forever"},
    {fault::stray_ok_unknown, "stray-ok-unknown", "answers an OK nobody asked for with ERROR Operation_unknown"},
    {fault::keep_name_after_close, "keep-name-after-close", "keeps a closed connection's name taken"},
    {fault::own_address, "own-address", "puts 0.0.0.0 (its own wildcard address) in STARTCHAT, not the other user's"},
    {fault::allow_self_chat, "allow-self-chat", "starts a negotiation for CHAT with one's own name"},
    {fault::crlf_lines, "crlf-lines", "ends its HELLO replies with CR LF"},
    {fault::hello_v1_only, "hello-v1-only", "answers HELLO peerchat/2 with a bare HELLO"},
    {fault::drop_key, "drop-key", "never appends the other user's key to STARTCHAT"},
    {fault::no_register_timeout, "no-register-timeout", "never closes a connection that does not register"},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::peerchat
