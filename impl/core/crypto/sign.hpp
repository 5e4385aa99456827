// Signatures: RSA PKCS#1 v1.5 with SHA-256 (securechat's join, as its original) and Ed25519.
#pragma once

#include "impl/core/crypto/pkey.hpp"

namespace parley::core {

enum class signature_scheme { rsa_pkcs1_sha256, ed25519 };

// errc::invalid_key when the key does not fit the scheme or has no private half.
result<bytes> sign(const pkey& key, signature_scheme scheme, byte_view message);
// errc::authentication_failed when the signature does not verify; errc::invalid_key for a wrong key type.
result<bool> verify(const pkey& key, signature_scheme scheme, byte_view message, byte_view signature);

}  // namespace parley::core
