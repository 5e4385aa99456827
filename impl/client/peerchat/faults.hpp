// Deliberate bugs the reference client can plant (`parley-client peerchat --fault NAME`), so that a
// conformance case testing a client can be shown to fail. Each breaks exactly the rules its table entry
// declares (one defect; where the spec states it once per version, both versions' rules). Never enabled by
// default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::peerchat {

enum class client_fault {
  none,
  tight_connect,     // Connect with no pause while connecting; answers stay single (PC-UDP-05)
  no_keepalive,      // never sends KeepAliveToken / KEEPALIVE (PC-KEEP-01)
  ignore_close,      // goes on after the peer's Close (PC-CLOSE-03)
  any_user,          // accepts datagrams whose user is not the peer (PC-UDP-08)
  no_replay_window,  // takes a replayed record again: shown, and the peer timeout reset (PC-REPLAY-01, -02)
  trust_any_key,     // accepts a changed contact key without a word (PC-TRUST-02)
  ignore_announced_key,  // accepts a key other than STARTCHAT's (PC-HS-05)
  single_ok,         // answers a peerchat/1 server's PORT with one OK instead of two (PC-CLI-03)
  answer_malformed,  // answers a malformed datagram with a Connect (PC-UDP-08)
  answer_answers,    // answers every Connect, echoes of its own included: connected peers ping-pong (PC-UDP-06)
  registered_only,   // takes only REGISTERED as a registration, not the seed's REGISTER <name> OK (PC-CLI-02)
  substring_dispatch,  // finds PORT anywhere in a line, as the original client does (PC-CLI-01)
  accept_taken_port,   // accepts a PORT whose UDP port it could not bind (PC-CLI-03)
  never_give_up,       // goes on sending Connect / HELLO to a silent peer for ever (PC-UDP-05, PC-HS-07)
  seed_layout_msg,     // sends its user's text in the seed's layout, `name MSG text` (PC-UDP-02)
  msg_needs_connect,   // drops a Msg that comes before any Connect (PC-UDP-07)
  case_sensitive_types,  // takes datagram types only as the original spells them (PC-UDP-03)
  raw_text,            // sends a typed line as it is: one Msg, CR kept (PC-UDP-04)
  no_peer_timeout,     // never ends a chat whose peer went silent (PC-KEEP-02, PC-KEEP-03)
  one_close,           // sends one Close / CLOSE instead of three (PC-CLOSE-03, PC-KEEP-03)
  version_from_startchat,  // picks plain or secure from STARTCHAT's key alone (PC-TRUST-03)
  hello_wrong_name,    // names another user in its peerchat/2 HELLO (PC-HS-02)
};

using client_fault_info = core::fault_info<client_fault>;

std::span<const client_fault_info> all_client_faults() noexcept;
std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept;

}  // namespace parley::peerchat
