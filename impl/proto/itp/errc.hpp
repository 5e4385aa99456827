// Why an itp line was refused by the codec. Wire error codes (FAILnn) are a separate enum: fail_code.hpp.
#pragma once

#include <system_error>

namespace parley::itp {

enum class errc {
  unknown_command = 1,  // first token is not a command of this direction (ITP-CMD-01)
  missing_argument,     // a command without the argument the grammar requires
  line_too_long,        // more than max_line bytes without a terminator (ITP-FRAME-05)
  invalid_key,          // a PM_PUBKEY token that is not an acceptable RSA SPKI
  invalid_token,        // a session key or PM body token that is not well-formed
  decrypt_failed,       // a session key or PM body that does not decrypt or authenticate
};

const std::error_category& itp_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), itp_category()}; }

}  // namespace parley::itp

template <>
struct std::is_error_code_enum<parley::itp::errc> : std::true_type {};
