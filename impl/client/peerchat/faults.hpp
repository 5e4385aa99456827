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
  no_replay_window,  // shows a replayed record again (PC-REPLAY-01)
  trust_any_key,     // accepts a changed contact key without a word (PC-TRUST-02)
  ignore_announced_key,  // accepts a key other than STARTCHAT's (PC-HS-05)
  single_ok,         // answers a peerchat/1 server's PORT with one OK instead of two (PC-CLI-03)
  answer_malformed,  // answers a malformed datagram with a Connect (PC-UDP-08)
  answer_answers,    // answers every Connect, echoes of its own included: connected peers ping-pong (PC-UDP-06)
};

using client_fault_info = core::fault_info<client_fault>;

std::span<const client_fault_info> all_client_faults() noexcept;
std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept;

}  // namespace parley::peerchat
