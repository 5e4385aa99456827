// Errors of the protocol-independent core (encodings, framing, crypto, key store).
#pragma once

#include <system_error>

namespace parley::core {

enum class errc {
  invalid_hex = 1,
  invalid_base64,
  line_too_long,
  crypto_failure,       // OpenSSL refused; the detail is in its error queue, not in the result
  authentication_failed,// AEAD tag or signature did not verify
  invalid_key,          // unparsable, wrong type or unacceptable size
  key_not_found,
  io_failure,
};

const std::error_category& core_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), core_category()}; }

}  // namespace parley::core

template <>
struct std::is_error_code_enum<parley::core::errc> : std::true_type {};
