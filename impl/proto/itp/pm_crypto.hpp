// End-to-end protection of private messages (spec/itp/spec.md, "End-to-end encryption", ITP-CRYPTO-*).
// The server never calls any of this: it relays the tokens untouched.
//
//   public key token   base64(DER SubjectPublicKeyInfo), RSA 1024..4096 bits
//   session key token  "oaep256." base64(RSA-OAEP-SHA256(recipient key, 32 random bytes))
//   body token         "gcm." base64(nonce[12] || AES-256-GCM(key, nonce, aad, text) || tag[16])
//                      aad = "itp-pm <from> <to>", so a body cannot be replayed in the other direction
//                      or re-addressed by the server
//   legacy tokens      (the Java implementation; read, never written by the reference client)
//                      session key: base64(RSA-PKCS1v1.5(key, base64(16-byte AES key)))
//                      body: base64(AES-128-ECB-PKCS5(text)); no '.' in either, which is how they are told apart
#pragma once

#include <string>

#include "impl/core/crypto/pkey.hpp"
#include "impl/core/result.hpp"
#include "impl/proto/itp/errc.hpp"

namespace parley::itp {

inline constexpr std::string_view session_key_prefix = "oaep256.";
inline constexpr std::string_view body_prefix = "gcm.";
inline constexpr int min_rsa_bits = 1024;
inline constexpr int max_rsa_bits = 4096;

struct session_key {
  bytes key;
  bool legacy = false;  // came as a legacy token: messages under it are not authenticated
};

std::string encode_public_key(const core::pkey& key);
// errc::invalid_key unless the token is canonical base64 of an RSA SPKI of an accepted size.
result<core::pkey> decode_public_key(std::string_view token);

session_key make_session_key();  // 32 random bytes
result<std::string> wrap_session_key(const core::pkey& recipient, const session_key& key);
result<session_key> unwrap_session_key(const core::pkey& own_private, std::string_view token);

result<std::string> seal_body(const session_key& key, std::string_view from, std::string_view to,
                              std::string_view text);
// errc::decrypt_failed when the token does not authenticate under `key` for this direction.
result<std::string> open_body(const session_key& key, std::string_view from, std::string_view to,
                              std::string_view token);

// Legacy writers, for interoperability tests only.
result<std::string> wrap_legacy_session_key(const core::pkey& recipient, const bytes& aes128_key);
result<std::string> seal_legacy_body(const bytes& aes128_key, std::string_view text);

}  // namespace parley::itp
