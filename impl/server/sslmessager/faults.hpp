// Deliberate bugs the reference server can plant (`parley-server sslmessager --fault NAME`), so that every
// conformance case is shown to fail against a server that breaks its rule. Several are the original
// implementation's own bugs (WIRE-NOTES). Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "impl/core/fault_table.hpp"

namespace parley::sslmessager {

enum class fault {
  none,
  spoofable_sender,        // relays a MSG under whatever sender name it carries (the original)
  unknown_user_kills_all,  // an AUTH for an unknown user ends every connection (the original's crash)
  accept_second_login,     // logs a user in again while it is online
  silent_before_auth,      // ignores a MSG sent before AUTH instead of ending the connection
  no_cnt,                  // drops a MSG to an offline user without telling the sender
  no_check,                // never sends CHECK
  no_trailing_space,       // writes "ACCEPT aaa\r\n": the original client loses the last word
  end_to_wrong_socket,     // sends a protocol error's END to the user the line names (the original)
  keep_name_after_drop,    // a user whose connection drops stays online (the original)
  no_fragments,            // drops bytes that never get a line ending (the original client's CHECK-style sends)
  no_end_reply,            // closes on a client's END without END <end accepted>
  relay_to_everyone,       // relays a MSG for an online target to every online user, not just the target
  no_framing,              // takes each read as one message: no line splitting, no fragment timer (the original)
  unknown_user_kills_listener,  // after refusing an unknown user, stops accepting connections (a fragile server)
  // Only fuzzing reaches these (no case sends their trigger); always appended last (the hub fuzzer's seeds
  // pick faults by their place in the table).
  crash_on_13_digit_user,  // the process exits on an AUTH whose name is 13 bytes holding a digit  SSLM-CONN-03
  // In the TLS layer, not the hub: parley-server applies them to the TLS context (host_options::tls_fault).
  // After the fuzz-only ones, so that the places the hub fuzzer's seeds pick stay as they are.
  accept_legacy_tls,       // completes a handshake with a client that offers only TLS 1.0 and 1.1
  ask_client_certificate,  // asks every client for a certificate (and goes on without one)
};

using fault_info = core::fault_info<fault>;

std::span<const fault_info> all_faults() noexcept;
std::optional<fault> fault_from_name(std::string_view name) noexcept;

}  // namespace parley::sslmessager
