#include "impl/core/crypto/aes.hpp"

#include <openssl/evp.h>

#include <memory>

#include "impl/core/crypto/fetched.hpp"

namespace parley::core {
namespace {

struct ctx_deleter {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

const EVP_CIPHER* gcm_for(std::size_t key_size) { return detail::aes_gcm_cipher(key_size); }
const EVP_CIPHER* ecb_for(std::size_t key_size) { return detail::aes_ecb_cipher(key_size); }
int isize(std::size_t n) { return static_cast<int>(n); }

}  // namespace

result<bytes> aes_gcm_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext, std::size_t tag_size) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (!cipher || nonce.size() != gcm_nonce_size || tag_size < 12 || tag_size > 16) return errc::invalid_key;
  ctx_ptr ctx(EVP_CIPHER_CTX_new());
  bytes out(plaintext.size() + tag_size);
  int len = 0;
  int total = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher, key.data(), nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(), isize(plaintext.size())) != 1)
    return errc::crypto_failure;
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return errc::crypto_failure;
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, isize(tag_size), out.data() + total) != 1)
    return errc::crypto_failure;
  out.resize(static_cast<std::size_t>(total) + tag_size);
  return out;
}

result<bytes> aes_gcm_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed, std::size_t tag_size) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (!cipher || nonce.size() != gcm_nonce_size || tag_size < 12 || tag_size > 16) return errc::invalid_key;
  if (sealed.size() < tag_size) return errc::authentication_failed;
  std::size_t body = sealed.size() - tag_size;
  ctx_ptr ctx(EVP_CIPHER_CTX_new());
  bytes out(body);
  int len = 0;
  // The tag is only compared in Final; OpenSSL wants a writable pointer but does not write to it.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + body);
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), cipher, key.data(), nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(), isize(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, isize(tag_size), tag) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return errc::authentication_failed;
  out.resize(static_cast<std::size_t>(total + len));
  return out;
}

result<bytes> aes_ecb_encrypt(byte_view key, byte_view plaintext) {
  const EVP_CIPHER* cipher = ecb_for(key.size());
  if (!cipher) return errc::invalid_key;
  ctx_ptr ctx(EVP_CIPHER_CTX_new());
  bytes out(plaintext.size() + 16);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher, key.data(), nullptr, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(), isize(plaintext.size())) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return errc::crypto_failure;
  out.resize(static_cast<std::size_t>(total + len));
  return out;
}

result<bytes> aes_ecb_decrypt(byte_view key, byte_view ciphertext) {
  const EVP_CIPHER* cipher = ecb_for(key.size());
  if (!cipher) return errc::invalid_key;
  // Padded ECB is whole blocks, at least one: anything else fails without a cipher context.
  if (ciphertext.empty() || ciphertext.size() % 16 != 0) return errc::authentication_failed;
  ctx_ptr ctx(EVP_CIPHER_CTX_new());
  bytes out(ciphertext.size() + 16);
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), cipher, key.data(), nullptr, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, ciphertext.data(), isize(ciphertext.size())) != 1)
    return errc::authentication_failed;
  int total = len;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return errc::authentication_failed;
  out.resize(static_cast<std::size_t>(total + len));
  return out;
}

}  // namespace parley::core
