// Deliberate bugs the reference server can plant (`parley-server itp --fault NAME`), so that every
// conformance case is shown to fail against a server that breaks its rule. Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::itp {

enum class fault {
  none,
  no_joined,         // never sends JOINED                               ITP-IDENT-05
  wrong_fail_code,   // a name in use gets FAIL04 instead of FAIL01      ITP-IDENT-03
  accept_long_name,  // accepts 15-character names                       ITP-IDENT-02
  never_ping,        // never sends PING                                 ITP-PING-01/02/03
  ignore_pong,       // PONG is ignored: no FAIL05, no reset of the timer ITP-PING-02/04
  echo_bcst,         // sends BCST back to its sender as well            ITP-BCST-03
  split_command,     // treats the end of each TCP read as end of line   ITP-FRAME-02
  drop_pm,           // acknowledges PM but never delivers NPM           ITP-PM-01
  no_left,           // never sends LEFT                                 ITP-LEFT-01/02
  users_dash,        // separates USERS with '-'                         ITP-USERS-01
  pm_to_self,        // delivers PM to the sender itself, no FAIL08      ITP-PM-03
  stale_pubkey,      // keeps the keys of users who left                 ITP-KEY-05
  no_crlf,           // keeps the '\r' of CRLF as part of the line       ITP-FRAME-01
  // Deviations seen in other people's servers, to prove the verdicts on them are exact:
  no_presence,           // never sends JOINED nor LEFT                  ITP-IDENT-05, ITP-LEFT-*, ITP-PING-06
  ping_on_connect,       // PINGs every connection at once, before login ITP-PING-05
  reset_rapid_connects,  // resets a connection opened < 100 ms after the previous one  ITP-CONN-04
  crash_on_long_name,    // the process exits on an IDENT name over 14 characters         ITP-IDENT-02
  racy_users_order,      // USERS in login order only half the time (a race)              ITP-USERS-03
  no_login_timeout,      // never ends a connection that does not log in                  ITP-CONN-05
  // Only fuzzing reaches these (no conformance case sends their trigger); parley-fuzz must find them.
  // Always appended last: the hub fuzzer's seeds pick faults by their place in the table.
  crash_on_13_digit_name,  // exits on a valid IDENT name of exactly 13 bytes with a digit   ITP-CONN-04
};

using fault_info = core::fault_info<fault>;

std::span<const fault_info> all_faults() noexcept;
std::optional<fault> fault_from_name(std::string_view name) noexcept;

}  // namespace parley::itp
