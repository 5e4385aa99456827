#include "impl/client/peerchat/faults.hpp"

#include <array>

namespace parley::peerchat {
namespace {

constexpr std::array<client_fault_info, 22> table{{
    {client_fault::tight_connect, "tight-connect", "sends its Connects in bursts with no pause while connecting", "PC-UDP-05"},
    {client_fault::no_keepalive, "no-keepalive", "never sends a keep-alive, in either version", "PC-KEEP-01 PC-KEEP-03"},
    {client_fault::ignore_close, "ignore-close", "ignores the peer's Close (plain or sealed) and goes on", "PC-CLOSE-03 PC-KEEP-03"},
    {client_fault::any_user, "any-user", "accepts datagrams whose user field is not the peer's name", "PC-UDP-08"},
    {client_fault::no_replay_window, "no-replay-window", "takes a replayed peerchat/2 record again: shows it, and it resets the peer timeout", "PC-REPLAY-01 PC-REPLAY-02"},
    {client_fault::trust_any_key, "trust-any-key", "accepts a peer key that differs from the contact list", "PC-TRUST-02"},
    {client_fault::ignore_announced_key, "ignore-announced-key", "accepts a peer key other than the one STARTCHAT announced", "PC-HS-05"},
    {client_fault::single_ok, "single-ok", "answers a peerchat/1 server's PORT with one OK, not two", "PC-CLI-03"},
    {client_fault::answer_malformed, "answer-malformed", "answers a malformed datagram with a Connect", "PC-UDP-08"},
    {client_fault::answer_answers, "answer-answers", "answers echoes of its own Connects too, so connected peers ping-pong", "PC-UDP-06"},
    {client_fault::registered_only, "registered-only", "takes only REGISTERED as a registration, not the seed's REGISTER <name> OK", "PC-CLI-02"},
    {client_fault::substring_dispatch, "substring-dispatch", "takes any server line containing PORT for a PORT line, as the original client", "PC-CLI-01"},
    {client_fault::accept_taken_port, "accept-taken-port", "accepts a PORT whose UDP port it could not bind", "PC-CLI-03"},
    {client_fault::never_give_up, "never-give-up", "goes on sending Connect or HELLO to a silent peer for ever", "PC-UDP-05 PC-HS-07"},
    {client_fault::seed_layout_msg, "seed-layout-msg", "sends its user's text in the seed's layout (name MSG text), not the original's", "PC-UDP-02"},
    {client_fault::msg_needs_connect, "msg-needs-connect", "drops a Msg that arrives before any Connect", "PC-UDP-07"},
    {client_fault::case_sensitive_types, "case-sensitive-types", "takes datagram types only as the original spells them (drops CONNECT, msg, KEEPALIVE)", "PC-UDP-03"},
    {client_fault::raw_text, "raw-text", "sends a typed line as it is: one Msg however long, CR kept", "PC-UDP-04"},
    {client_fault::no_peer_timeout, "no-peer-timeout", "never ends a chat whose peer went silent, in either version", "PC-KEEP-02 PC-KEEP-03"},
    {client_fault::one_close, "one-close", "ends a chat with one Close (plain or sealed), not three", "PC-CLOSE-03 PC-KEEP-03"},
    {client_fault::version_from_startchat, "version-from-startchat", "speaks peerchat/2 exactly when STARTCHAT carries a key, whatever its registration and contacts say", "PC-TRUST-03"},
    {client_fault::hello_wrong_name, "hello-wrong-name", "names another user than itself in its peerchat/2 HELLO", "PC-HS-02"},
}};

}  // namespace

std::span<const client_fault_info> all_client_faults() noexcept { return table; }

std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept {
  return core::find_fault<client_fault>(table, name);
}

}  // namespace parley::peerchat
