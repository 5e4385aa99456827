// Why a peerchat line or datagram was refused by the codec. The wire's ERROR codes are text (rendezvous.hpp).
#pragma once

#include <system_error>

namespace parley::peerchat {

enum class errc {
  unknown_command = 1,  // empty, unknown, lower-case or server-only command (PC-LINE-04)
  bad_syntax,           // REGISTER/CHAT with a missing, empty or extra field (PC-ERR-02)
  invalid_name,         // a name outside the grammar (PC-REG-04)
  bad_key,              // a key field that is not ed25519:<64 lower-case hex> of a valid point (PC-KEY-02)
  malformed_datagram,   // NUL, oversize, missing fields or an unknown type (PC-UDP-03, PC-UDP-04)
  too_short,            // a peerchat/2 datagram shorter than its kind's fixed part (PC-HS-01)
  unknown_kind,         // first byte not 0xB2 or an unknown kind byte (PC-HS-01)
  wrong_peer,           // a HELLO naming someone else, or a second HELLO with another key (PC-HS-02)
  no_keys,              // a SEALED record before both HELLOs were seen (PC-HS-03)
  bad_tag,              // a SEALED record that does not authenticate (PC-REC-01)
  replayed,             // a seq already accepted or below the window (PC-REPLAY-01)
  bad_record,           // an opened record of unknown type or wrong body length (PC-REC-03)
  bad_signature,        // an AUTH whose signature does not verify (PC-HS-05)
  not_connected,        // MSG/KEEPALIVE/CLOSE before the peer's AUTH was accepted (PC-HS-06)
  weak_secret,          // X25519 produced the all-zero secret (PC-HS-03)
  exhausted,            // the sending seq reached 2^32 (PC-REC-02)
};

const std::error_category& peerchat_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), peerchat_category()}; }

}  // namespace parley::peerchat

template <>
struct std::is_error_code_enum<parley::peerchat::errc> : std::true_type {};
