#include "impl/core/crypto/chacha.hpp"

#include <openssl/evp.h>

#include <memory>

namespace parley::core {
namespace {

struct ctx_deleter {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

int isize(std::size_t n) { return static_cast<int>(n); }

bool sizes_ok(byte_view key, byte_view nonce) {
  return key.size() == chacha_key_size && nonce.size() == chacha_nonce_size;
}

}  // namespace

result<bytes> chacha20_poly1305_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext) {
  if (!sizes_ok(key, nonce)) return errc::invalid_key;
  ctx_ptr ctx(EVP_CIPHER_CTX_new());
  bytes out(plaintext.size() + chacha_tag_size);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), EVP_chacha20_poly1305(), key.data(), nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(), isize(plaintext.size())) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return errc::crypto_failure;
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, isize(chacha_tag_size), out.data() + total) != 1)
    return errc::crypto_failure;
  out.resize(static_cast<std::size_t>(total) + chacha_tag_size);
  return out;
}

result<bytes> chacha20_poly1305_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed) {
  if (!sizes_ok(key, nonce)) return errc::invalid_key;
  if (sealed.size() < chacha_tag_size) return errc::authentication_failed;
  std::size_t body = sealed.size() - chacha_tag_size;
  ctx_ptr ctx(EVP_CIPHER_CTX_new());
  bytes out(body);
  int len = 0;
  // OpenSSL takes the expected tag through a non-const pointer but only reads it.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + body);
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), EVP_chacha20_poly1305(), key.data(), nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(), isize(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, isize(chacha_tag_size), tag) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1) return errc::authentication_failed;
  out.resize(static_cast<std::size_t>(total + len));
  return out;
}

}  // namespace parley::core
