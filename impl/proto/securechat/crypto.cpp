#include "impl/proto/securechat/crypto.hpp"

#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/rsa_cipher.hpp"
#include "impl/core/crypto/sign.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/errc.hpp"
#include "impl/proto/securechat/codec.hpp"

namespace parley::securechat {
using parley::as_bytes;

bool valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 32 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

bool acceptable_key(const core::pkey& key) noexcept {
  return key && key.type() == core::key_type::rsa && key.bits() >= min_rsa_bits;
}

std::string signed_join_bytes(std::string_view name) { return "{\"name\": " + python_json_string(name) + "}"; }

result<std::string> sign_join(const core::pkey& private_key, std::string_view name) {
  auto signature = core::sign(private_key, core::signature_scheme::rsa_pkcs1_sha256, as_bytes(signed_join_bytes(name)));
  if (!signature) return signature.error();
  return core::to_hex(*signature);
}

bool verify_join(const core::pkey& public_key, std::string_view name, std::string_view signature_hex) noexcept {
  auto signature = core::from_hex(signature_hex);
  if (!signature || signature->empty()) return false;
  auto ok = core::verify(public_key, core::signature_scheme::rsa_pkcs1_sha256, as_bytes(signed_join_bytes(name)),
                         *signature);
  return ok && *ok;
}

std::size_t max_private_text(const core::pkey& public_key) noexcept {
  int bytes = public_key.bits() / 8;
  return bytes > 11 ? static_cast<std::size_t>(bytes - 11) : 0;
}

result<std::string> encrypt_private_text(const core::pkey& public_key, std::string_view text) {
  if (text.size() > max_private_text(public_key)) return core::errc::crypto_failure;
  auto sealed = core::rsa_encrypt(public_key, core::rsa_padding::pkcs1_v15, as_bytes(text));
  if (!sealed) return sealed.error();
  return core::to_hex(*sealed);
}

result<std::string> decrypt_private_text(const core::pkey& private_key, std::string_view hex) {
  auto sealed = core::from_hex(hex);
  if (!sealed) return sealed.error();
  auto plain = core::rsa_decrypt(private_key, core::rsa_padding::pkcs1_v15, *sealed);
  if (!plain) return plain.error();
  return parley::to_string(*plain);
}

std::string new_message_id() {
  auto b = core::random_bytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex = core::to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace parley::securechat
