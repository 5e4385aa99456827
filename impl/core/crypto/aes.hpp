// AES. GCM is the authenticated cipher Parley uses; ECB exists only to read the itp Java client's legacy
// private messages and must not be used to send anything.
#pragma once

#include "impl/core/bytes.hpp"
#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

namespace parley::core {

inline constexpr std::size_t gcm_nonce_size = 12;
inline constexpr std::size_t gcm_tag_size = 16;

// key: 16 or 32 bytes; nonce: 12 bytes; tag: 12..16 bytes (multiparty's MTP uses 12). Returns
// ciphertext || tag.
result<bytes> aes_gcm_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext,
                           std::size_t tag_size = gcm_tag_size);
// Input: ciphertext || tag. errc::authentication_failed when the tag does not verify.
result<bytes> aes_gcm_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed,
                           std::size_t tag_size = gcm_tag_size);

// AES-ECB with PKCS#7 padding (Java's "AES/ECB/PKCS5Padding"). key: 16, 24 or 32 bytes.
result<bytes> aes_ecb_encrypt(byte_view key, byte_view plaintext);
result<bytes> aes_ecb_decrypt(byte_view key, byte_view ciphertext);

}  // namespace parley::core
