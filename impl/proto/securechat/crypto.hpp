// securechat's cryptography, fixed by interoperability with the original (spec §6, §7): the join is signed
// with RSA PKCS#1 v1.5 / SHA-256 over `{"name": "<name>"}`, private texts are one RSA PKCS#1 v1.5 block to
// the recipient's key, both hex. The spec's "Security considerations" say what this costs.
#pragma once

#include <string>
#include <string_view>

#include "impl/core/crypto/pkey.hpp"
#include "impl/core/result.hpp"

namespace parley::securechat {

// SC-JOIN-08: 1..32 of [A-Za-z0-9_.-], no leading dot; such a name is always a safe file name.
bool valid_name(std::string_view name) noexcept;

// Keys of at least this size only (SC-KEY-01).
inline constexpr int min_rsa_bits = 2048;
bool acceptable_key(const core::pkey& key) noexcept;

// The exact bytes a JoinMessage signature covers (SC-JOIN-03): json.dumps({"name": name}, sort_keys=True).
std::string signed_join_bytes(std::string_view name);
// Lower-case hex of the signature. errc::invalid_key when the key is not a private RSA key.
result<std::string> sign_join(const core::pkey& private_key, std::string_view name);
// False for any signature that is not hex or does not verify with `public_key` over `name`.
bool verify_join(const core::pkey& public_key, std::string_view name, std::string_view signature_hex) noexcept;

// The longest text (bytes of UTF-8) one PKCS#1 v1.5 block under `public_key` carries: k - 11.
std::size_t max_private_text(const core::pkey& public_key) noexcept;
// Hex of the RSA PKCS#1 v1.5 encryption of `text`. errc::crypto_failure when it is too long for one block.
result<std::string> encrypt_private_text(const core::pkey& public_key, std::string_view text);
// errc::invalid_hex or errc::authentication_failed (wrong key, corrupted, bad padding).
result<std::string> decrypt_private_text(const core::pkey& private_key, std::string_view hex);

// A fresh random (version 4) UUID in its usual text form, as the original's message ids.
std::string new_message_id();

}  // namespace parley::securechat
