#include "impl/core/crypto/fetched.hpp"

#include <openssl/evp.h>

namespace parley::core::detail {
namespace {

// Function-local statics: fetched by the first caller, thread-safe, never freed (OpenSSL's own
// algorithm objects are shared and reference-counted, and the process ends before they would matter).
const EVP_CIPHER* cipher(const char* name, const EVP_CIPHER* implicit) {
  EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, name, nullptr);
  return fetched ? fetched : implicit;
}

}  // namespace

const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  return md;
}

const EVP_CIPHER* aes_gcm_cipher(std::size_t key_size) {
  static const EVP_CIPHER* aes128 = cipher("AES-128-GCM", EVP_aes_128_gcm());
  static const EVP_CIPHER* aes256 = cipher("AES-256-GCM", EVP_aes_256_gcm());
  if (key_size == 16) return aes128;
  if (key_size == 32) return aes256;
  return nullptr;
}

const EVP_CIPHER* aes_ecb_cipher(std::size_t key_size) {
  static const EVP_CIPHER* aes128 = cipher("AES-128-ECB", EVP_aes_128_ecb());
  static const EVP_CIPHER* aes192 = cipher("AES-192-ECB", EVP_aes_192_ecb());
  static const EVP_CIPHER* aes256 = cipher("AES-256-ECB", EVP_aes_256_ecb());
  if (key_size == 16) return aes128;
  if (key_size == 24) return aes192;
  if (key_size == 32) return aes256;
  return nullptr;
}

const EVP_CIPHER* chacha20_poly1305_cipher() {
  static const EVP_CIPHER* chacha = cipher("ChaCha20-Poly1305", EVP_chacha20_poly1305());
  return chacha;
}

EVP_MAC* hmac_mac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace parley::core::detail
