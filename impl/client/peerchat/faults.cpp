#include "impl/client/peerchat/faults.hpp"

#include <array>

namespace parley::peerchat {
namespace {

constexpr std::array<client_fault_info, 10> table{{
    {client_fault::tight_connect, "tight-connect", "sends its Connects in bursts with no pause while connecting", "PC-UDP-05"},
    {client_fault::no_keepalive, "no-keepalive", "never sends a keep-alive, in either version", "PC-KEEP-01 PC-KEEP-03"},
    {client_fault::ignore_close, "ignore-close", "ignores the peer's Close (plain or sealed) and goes on", "PC-CLOSE-03 PC-KEEP-03"},
    {client_fault::any_user, "any-user", "accepts datagrams whose user field is not the peer's name", "PC-UDP-08"},
    {client_fault::no_replay_window, "no-replay-window", "shows a replayed peerchat/2 record again", "PC-REPLAY-01"},
    {client_fault::trust_any_key, "trust-any-key", "accepts a peer key that differs from the contact list", "PC-TRUST-02"},
    {client_fault::ignore_announced_key, "ignore-announced-key", "accepts a peer key other than the one STARTCHAT announced", "PC-HS-05"},
    {client_fault::single_ok, "single-ok", "answers a peerchat/1 server's PORT with one OK, not two", "PC-CLI-03"},
    {client_fault::answer_malformed, "answer-malformed", "answers a malformed datagram with a Connect", "PC-UDP-08"},
    {client_fault::answer_answers, "answer-answers", "answers echoes of its own Connects too, so connected peers ping-pong", "PC-UDP-06"},
}};

}  // namespace

std::span<const client_fault_info> all_client_faults() noexcept { return table; }

std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept {
  return core::find_fault<client_fault>(table, name);
}

}  // namespace parley::peerchat
