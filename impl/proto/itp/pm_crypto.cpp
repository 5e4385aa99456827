#include "impl/proto/itp/pm_crypto.hpp"

#include "impl/core/crypto/aes.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/rsa_cipher.hpp"
#include "impl/core/encoding.hpp"

namespace parley::itp {
namespace {

std::string aad_for(std::string_view from, std::string_view to) {
  return "itp-pm " + std::string(from) + " " + std::string(to);
}

}  // namespace

std::string encode_public_key(const core::pkey& key) { return core::to_base64(key.public_der()); }

result<core::pkey> decode_public_key(std::string_view token) {
  auto der = core::from_base64(token);
  if (!der) return errc::invalid_key;
  auto key = core::pkey::from_public_der(*der);
  if (!key || key->type() != core::key_type::rsa || key->bits() < min_rsa_bits || key->bits() > max_rsa_bits)
    return errc::invalid_key;
  return key;
}

session_key make_session_key() { return {core::random_bytes(32), false}; }

result<std::string> wrap_session_key(const core::pkey& recipient, const session_key& key) {
  auto wrapped = core::rsa_encrypt(recipient, core::rsa_padding::oaep_sha256, key.key);
  if (!wrapped) return wrapped.error();
  return std::string(session_key_prefix) + core::to_base64(*wrapped);
}

result<session_key> unwrap_session_key(const core::pkey& own_private, std::string_view token) {
  bool modern = token.starts_with(session_key_prefix);
  if (modern) token.remove_prefix(session_key_prefix.size());
  else if (token.find('.') != std::string_view::npos) return errc::invalid_token;  // unknown scheme
  auto wrapped = core::from_base64(token);
  if (!wrapped) return errc::invalid_token;
  auto padding = modern ? core::rsa_padding::oaep_sha256 : core::rsa_padding::pkcs1_v15;
  auto key = core::rsa_decrypt(own_private, padding, *wrapped);
  if (!key) return errc::decrypt_failed;
  if (modern) {
    if (key->size() != 32) return errc::decrypt_failed;
    return session_key{std::move(*key), false};
  }
  // The Java client wraps the base64 text of its AES key, not the key itself.
  auto raw = core::from_base64(as_chars(*key));
  if (!raw || (raw->size() != 16 && raw->size() != 24 && raw->size() != 32)) return errc::decrypt_failed;
  return session_key{std::move(*raw), true};
}

result<std::string> seal_body(const session_key& key, std::string_view from, std::string_view to,
                              std::string_view text) {
  // A random 96-bit nonce per message: a session key encrypts far fewer than 2^32 messages, so the
  // collision probability stays negligible without any state shared between the two peers.
  auto nonce = core::random_bytes(core::gcm_nonce_size);
  auto sealed = core::aes_gcm_seal(key.key, nonce, as_bytes(aad_for(from, to)), as_bytes(text));
  if (!sealed) return sealed.error();
  nonce.insert(nonce.end(), sealed->begin(), sealed->end());
  return std::string(body_prefix) + core::to_base64(nonce);
}

result<std::string> open_body(const session_key& key, std::string_view from, std::string_view to,
                              std::string_view token) {
  if (key.legacy) {
    // A legacy session key only ever protects legacy bodies, and a legacy body needs a legacy key:
    // accepting a mix would let an attacker downgrade an authenticated conversation.
    if (token.find('.') != std::string_view::npos) return errc::invalid_token;
    auto ct = core::from_base64(token);
    if (!ct) return errc::invalid_token;
    auto plain = core::aes_ecb_decrypt(key.key, *ct);
    if (!plain) return errc::decrypt_failed;
    return to_string(*plain);
  }
  if (!token.starts_with(body_prefix)) return errc::invalid_token;
  token.remove_prefix(body_prefix.size());
  auto raw = core::from_base64(token);
  if (!raw || raw->size() < core::gcm_nonce_size + core::gcm_tag_size) return errc::invalid_token;
  byte_view all(*raw);
  auto plain = core::aes_gcm_open(key.key, all.first(core::gcm_nonce_size), as_bytes(aad_for(from, to)),
                                  all.subspan(core::gcm_nonce_size));
  if (!plain) return errc::decrypt_failed;
  return to_string(*plain);
}

result<std::string> wrap_legacy_session_key(const core::pkey& recipient, const bytes& aes128_key) {
  auto wrapped = core::rsa_encrypt(recipient, core::rsa_padding::pkcs1_v15, as_bytes(core::to_base64(aes128_key)));
  if (!wrapped) return wrapped.error();
  return core::to_base64(*wrapped);
}

result<std::string> seal_legacy_body(const bytes& aes128_key, std::string_view text) {
  auto ct = core::aes_ecb_encrypt(aes128_key, as_bytes(text));
  if (!ct) return ct.error();
  return core::to_base64(*ct);
}

}  // namespace parley::itp
