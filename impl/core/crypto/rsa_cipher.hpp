// RSA encryption. OAEP (SHA-256, MGF1-SHA-256) is Parley's choice; PKCS#1 v1.5 exists only to interoperate
// with the original implementations (securechat, itp's Java client) and is never chosen for new designs.
#pragma once

#include "impl/core/crypto/pkey.hpp"

namespace parley::core {

enum class rsa_padding { oaep_sha256, pkcs1_v15 };

// errc::invalid_key for a non-RSA key; errc::crypto_failure when the plaintext is too long for the key.
result<bytes> rsa_encrypt(const pkey& public_key, rsa_padding padding, byte_view plaintext);
// errc::authentication_failed when the ciphertext does not decrypt (wrong key, corrupted, bad padding).
result<bytes> rsa_decrypt(const pkey& private_key, rsa_padding padding, byte_view ciphertext);

}  // namespace parley::core
