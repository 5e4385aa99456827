// ChaCha20-Poly1305 (RFC 8439): peerchat/2's record cipher. Constant-time in software, so it needs no AES
// hardware to be safe, and its 12-byte nonce is built from a record counter that never repeats.
#pragma once

#include "impl/core/bytes.hpp"
#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

namespace parley::core {

inline constexpr std::size_t chacha_key_size = 32;
inline constexpr std::size_t chacha_nonce_size = 12;
inline constexpr std::size_t chacha_tag_size = 16;

// Returns ciphertext || tag.
result<bytes> chacha20_poly1305_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext);
// Input: ciphertext || tag. errc::authentication_failed when the tag does not verify.
result<bytes> chacha20_poly1305_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed);

}  // namespace parley::core
