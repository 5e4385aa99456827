#include "impl/server/itp/faults.hpp"

#include <array>

namespace parley::itp {
namespace {

constexpr std::array<fault_info, 20> table{{
    {fault::no_joined, "no-joined", "never sends JOINED to the other users", "ITP-IDENT-05"},
    {fault::wrong_fail_code, "wrong-fail-code", "answers a name in use with FAIL04 instead of FAIL01", "ITP-IDENT-03"},
    {fault::accept_long_name, "accept-long-name", "accepts 15-character user names", "ITP-IDENT-02"},
    {fault::never_ping, "never-ping", "never sends PING", "ITP-PING-01"},
    {fault::ignore_pong, "ignore-pong", "ignores PONG: no FAIL05 and the pong timer is not reset",
     "ITP-PING-02 ITP-PING-04"},
    {fault::echo_bcst, "echo-bcst", "sends BCST back to its sender too", "ITP-BCST-03"},
    {fault::split_command, "split-command", "treats the end of each TCP read as the end of a line", "ITP-FRAME-02"},
    {fault::drop_pm, "drop-pm", "acknowledges PM but never delivers NPM", "ITP-PM-01"},
    {fault::no_left, "no-left", "never sends LEFT", "ITP-LEFT-01 ITP-LEFT-02 ITP-PING-06"},
    {fault::users_dash, "users-dash", "separates the USERS list with '-' instead of ':'", "ITP-USERS-01"},
    {fault::pm_to_self, "pm-to-self", "delivers a PM (and a PM_SESSIONKEY) to its own sender instead of FAIL08",
     "ITP-PM-03 ITP-KEY-04"},
    {fault::stale_pubkey, "stale-pubkey", "keeps sending the public keys of users who left", "ITP-KEY-05"},
    {fault::no_crlf, "no-crlf", "keeps the CR of a CRLF line ending as part of the line", "ITP-FRAME-01"},
    {fault::no_presence, "no-presence", "never sends JOINED nor LEFT",
     "ITP-IDENT-05 ITP-LEFT-01 ITP-LEFT-02 ITP-PING-06"},
    {fault::ping_on_connect, "ping-on-connect",
     "PINGs every connection as soon as it opens, before login, and drops it without PONG", "ITP-PING-05"},
    {fault::reset_rapid_connects, "reset-rapid-connects",
     "resets (RST, before INIT) a connection opened less than 100 ms after the previous one", "ITP-CONN-04"},
    {fault::crash_on_long_name, "crash-on-long-name",
     "the process exits (status 1) on an IDENT whose name is longer than 14 characters", "ITP-IDENT-02"},
    {fault::racy_users_order, "racy-users-order",
     "lists USERS reversed every second time, as a server that loses a race half the time (made repeatable)",
     "ITP-USERS-03", core::fault_kind::racy},
    {fault::no_login_timeout, "no-login-timeout", "never ends a connection that does not log in", "ITP-CONN-05"},
    {fault::crash_on_13_digit_name, "crash-on-13-digit-name",
     "the process exits (status 1) on an IDENT of a valid name of exactly 13 bytes that holds a digit",
     "ITP-CONN-04", core::fault_kind::fuzz},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::itp
