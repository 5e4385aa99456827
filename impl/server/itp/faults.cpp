#include "impl/server/itp/faults.hpp"

#include <array>

namespace parley::itp {
namespace {

constexpr std::array<fault_info, 13> table{{
    {fault::no_joined, "no-joined", "never sends JOINED to the other users"},
    {fault::wrong_fail_code, "wrong-fail-code", "answers a name in use with FAIL04 instead of FAIL01"},
    {fault::accept_long_name, "accept-long-name", "accepts 15-character user names"},
    {fault::never_ping, "never-ping", "never sends PING"},
    {fault::ignore_pong, "ignore-pong", "ignores PONG: no FAIL05 and the pong timer is not reset"},
    {fault::echo_bcst, "echo-bcst", "sends BCST back to its sender too"},
    {fault::split_command, "split-command", "treats the end of each TCP read as the end of a line"},
    {fault::drop_pm, "drop-pm", "acknowledges PM but never delivers NPM"},
    {fault::no_left, "no-left", "never sends LEFT"},
    {fault::users_dash, "users-dash", "separates the USERS list with '-' instead of ':'"},
    {fault::pm_to_self, "pm-to-self", "delivers a PM to its own sender instead of FAIL08"},
    {fault::stale_pubkey, "stale-pubkey", "keeps sending the public keys of users who left"},
    {fault::no_crlf, "no-crlf", "keeps the CR of a CRLF line ending as part of the line"},
}};

}  // namespace

std::span<const fault_info> all_faults() noexcept { return table; }

std::optional<fault> fault_from_name(std::string_view name) noexcept { return core::find_fault(all_faults(), name); }

}  // namespace parley::itp
