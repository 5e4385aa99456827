// Deliberate bugs the reference peerchat server can plant (`parley-server peerchat --fault NAME`), so that
// every conformance case is shown to fail against a server that breaks its rule. Each breaks exactly the
// rule its table entry declares (the fault matrix checks it). Several are the original implementation's
// own bugs (spec §12). hello-v1-only is a deviant rather than a bug: a whole peerchat/1-only server, which
// breaks no rule. Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::peerchat {

enum class fault {
  none,
  no_startchat,             // after both OKs nothing is sent (PC-START-01)
  list_includes_self,       // LISTUSERS lists the requester too (PC-LIST-01; the original)
  no_bare_ok,               // no `OK` between CHAT and the first PORT (PC-CHAT-04; the seed's flow)
  target_asked_first,       // each round asks the target before the requester (PC-PORT-02)
  port_out_of_range,        // ports drawn from 1024-65535 (PC-PORT-01)
  startchat_after_retries,  // after 20 refused rounds sends STARTCHAT anyway (PC-PORT-04; the original)
  no_port_timeout,          // waits for a PORT answer forever (PC-PORT-05; the original)
  stray_ok_unknown,         // an OK nobody asked for gets ERROR Operation_unknown (PC-PORT-06; the original)
  keep_name_after_close,    // a closed connection's name stays taken (PC-REG-05)
  own_address,              // STARTCHAT carries 0.0.0.0, the server's wildcard address (PC-START-02)
  allow_self_chat,          // CHAT for one's own name starts a negotiation (PC-CHAT-02)
  crlf_lines,               // every line ends in CR LF (PC-LINE-01)
  hello_v1_only,            // a peerchat/1-only server: bare HELLO, keys ignored (no rule broken)
  drop_key,                 // STARTCHAT never carries the other user's key (PC-KEY-02)
  no_register_timeout,      // never closes a connection that does not register (PC-CONN-04)
  hello_any_argument,       // HELLO with any argument is answered HELLO peerchat/2 (PC-HELLO-02)
  refuse_when_full,         // Server_full when full, though some connection has not registered (PC-LIMIT-02)
  // Only fuzzing reaches these (no case sends their trigger); always appended last (the hub fuzzer's seeds
  // pick faults by their place in the table).
  crash_on_13_digit_register,  // the process exits on REGISTER of a valid 13-byte name holding a digit (PC-CONN-03)
  name_check_url_unreserved,   // names are checked as RFC 3986 unreserved characters, so '~' passes (PC-REG-04)
};

using fault_info = core::fault_info<fault>;

std::span<const fault_info> all_faults() noexcept;
std::optional<fault> fault_from_name(std::string_view name) noexcept;

}  // namespace parley::peerchat
