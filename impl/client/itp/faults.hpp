// Deliberate bugs the reference itp client can plant (`parley-client itp --fault NAME`), so that every
// client-role conformance case can be shown to fail. Each breaks exactly the rules its table entry
// declares. Never enabled by default.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "impl/core/fault_table.hpp"
#include "impl/core/result.hpp"
#include "impl/proto/itp/pm_crypto.hpp"

namespace parley::itp {

enum class client_fault {
  none,
  ident_before_init,       // IDENT as soon as it connects (ITP-CLIENT-01)
  no_pong,                 // never answers PING (ITP-CLIENT-02)
  no_pubkey,               // never announces its public key (ITP-CLIENT-03)
  cr_line_ends,            // ends its lines with a lone CR (ITP-CLIENT-04)
  quit_without_waiting,    // closes right after QUIT, before the answer (ITP-CLIENT-05)
  close_on_unknown_line,   // closes on a server line it does not know (ITP-CLIENT-06)
  trim_typed_text,         // trims the spaces around a typed broadcast (ITP-CLIENT-07)
  no_line_limit,           // sends a typed text however long its line gets (ITP-CLIENT-08)
  refuse_small_keys,       // refuses other users' RSA keys under 2048 bits (ITP-CRYPTO-01)
  session_key_every_pm,    // a new session key before every PM (ITP-CRYPTO-02)
  unprefixed_session_key,  // the session key token without its "oaep256." prefix (ITP-CRYPTO-03)
  fixed_nonce,             // the same GCM nonce for every PM body (ITP-CRYPTO-04)
  legacy_authenticated,    // shows PMs read with legacy tokens as authenticated (ITP-CRYPTO-05)
  show_undecryptable,      // shows a body that fails to decrypt as a message (ITP-CRYPTO-06)
  keep_keys_of_leavers,    // keeps a user's keys after LEFT (ITP-CRYPTO-07)
  no_acks,                 // never sends OK PM_PUBKEY / OK PM_SESSIONKEY (ITP-CRYPTO-08)
  // Only fuzzing reaches it (kind fuzz, kept last): no case names a user of 13 bytes.
  crash_on_13_digit_name,  // aborts on a server line naming a 13-byte user with a digit (ITP-CLIENT-06)
};

using client_fault_info = core::fault_info<client_fault>;

std::span<const client_fault_info> all_client_faults() noexcept;
std::optional<client_fault> client_fault_from_name(std::string_view name) noexcept;

// The fixed-nonce fault's body: a Parley body token sealed under an all-zero nonce, every time.
result<std::string> seal_body_with_fixed_nonce(const session_key& key, std::string_view from, std::string_view to,
                                               std::string_view text);

}  // namespace parley::itp
