#include "impl/server/peerchat/faults.hpp"

#include <array>

namespace parley::peerchat {
namespace {

constexpr std::array<fault_info, 19> table{{
    {fault::no_startchat, "no-startchat", "sends no STARTCHAT after both users accepted a port", "PC-START-01"},
    {fault::list_includes_self, "list-includes-self", "lists the requester among the users of LISTUSERS", "PC-LIST-01"},
    {fault::no_bare_ok, "no-bare-ok", "writes no OK after an accepted CHAT, only the PORT lines", "PC-CHAT-04"},
    {fault::target_asked_first, "target-asked-first", "offers each port to the target before the requester", "PC-PORT-02"},
    {fault::port_out_of_range, "port-out-of-range", "draws ports from 1024-65535 instead of 40000-59999", "PC-PORT-01"},
    {fault::startchat_after_retries, "startchat-after-retries", "sends STARTCHAT after 20 refused rounds instead of the error", "PC-PORT-04"},
    {fault::no_port_timeout, "no-port-timeout", "waits for an answer to PORT forever", "PC-PORT-05"},
    {fault::stray_ok_unknown, "stray-ok-unknown", "answers an OK nobody asked for with ERROR Operation_unknown", "PC-PORT-06"},
    {fault::keep_name_after_close, "keep-name-after-close", "keeps a closed connection's name taken", "PC-REG-05"},
    {fault::own_address, "own-address", "puts 0.0.0.0 (its own wildcard address) in STARTCHAT, not the other user's", "PC-START-02"},
    {fault::allow_self_chat, "allow-self-chat", "starts a negotiation for CHAT with one's own name", "PC-CHAT-02"},
    {fault::crlf_lines, "crlf-lines", "ends every line it writes with CR LF", "PC-LINE-01"},
    // Not a bug: a whole peerchat/1-only server, the original's profile. It breaks no rule; the suite must
    // detect the profile and SKIP the peerchat/2 cases (spec §5.1, PC-HELLO-02).
    {fault::hello_v1_only, "hello-v1-only", "a peerchat/1-only server: answers HELLO peerchat/2 with a bare HELLO, ignores REGISTER's key field, never sends keys", "",
     core::fault_kind::variant},
    {fault::drop_key, "drop-key", "never appends the other user's key to STARTCHAT", "PC-KEY-02"},
    {fault::no_register_timeout, "no-register-timeout", "never closes a connection that does not register", "PC-CONN-04"},
    {fault::hello_any_argument, "hello-any-argument", "answers HELLO with any argument (HELLO peerchat/3) with HELLO peerchat/2", "PC-HELLO-02"},
    {fault::refuse_when_full, "refuse-when-full",
     "answers ERROR Server_full when full, though some connection has not registered and could make room",
     "PC-LIMIT-02"},
    {fault::crash_on_13_digit_register, "crash-on-13-digit-register",
     "the process exits (status 1) on REGISTER of a valid 13-byte name holding a digit", "PC-CONN-03",
     core::fault_kind::fuzz},
    {fault::name_check_url_unreserved, "name-check-url-unreserved",
     "checks names as RFC 3986 unreserved characters (the name rule's and '~'), so a name with a '~' registers",
     "PC-REG-04", core::fault_kind::fuzz},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::peerchat
