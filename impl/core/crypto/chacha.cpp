#include "impl/core/crypto/chacha.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

#include "impl/core/crypto/fetched.hpp"

namespace parley::core {
namespace {

int isize(std::size_t n) { return static_cast<int>(n); }

// A context with the cipher and `key` set, ready for seal_in or open_in; nullptr on failure.
chacha20_poly1305_key::ctx_ptr keyed_context(byte_view key, bool seal) {
  chacha20_poly1305_key::ctx_ptr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), detail::chacha20_poly1305_cipher(), key.data(), nullptr, seal ? 1 : 0,
                                 nullptr) != 1)
    return nullptr;
  return ctx;
}

// One record under a keyed context: only the nonce is set anew, which starts a fresh message.
result<bytes> seal_in(EVP_CIPHER_CTX* ctx, byte_view nonce, byte_view aad, byte_view plaintext) {
  bytes out(plaintext.size() + chacha_tag_size);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(), isize(plaintext.size())) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_EncryptFinal_ex(ctx, out.data() + total, &len) != 1) return errc::crypto_failure;
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, isize(chacha_tag_size), out.data() + total) != 1)
    return errc::crypto_failure;
  out.resize(static_cast<std::size_t>(total) + chacha_tag_size);
  return out;
}

result<bytes> open_in(EVP_CIPHER_CTX* ctx, byte_view nonce, byte_view aad, byte_view sealed) {
  if (sealed.size() < chacha_tag_size) return errc::authentication_failed;
  std::size_t body = sealed.size() - chacha_tag_size;
  bytes out(body);
  int len = 0;
  // OpenSSL takes the expected tag through a non-const pointer but only reads it.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + body);
  if (!ctx || EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx, out.data(), &len, sealed.data(), isize(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, isize(chacha_tag_size), tag) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_DecryptFinal_ex(ctx, out.data() + total, &len) != 1) return errc::authentication_failed;
  out.resize(static_cast<std::size_t>(total + len));
  return out;
}

}  // namespace

void chacha20_poly1305_key::ctx_deleter::operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }

chacha20_poly1305_key::chacha20_poly1305_key(byte_view key) : valid_(key.size() == chacha_key_size) {
  if (valid_) std::copy(key.begin(), key.end(), key_.begin());
}

chacha20_poly1305_key::chacha20_poly1305_key(const chacha20_poly1305_key& other)
    : key_(other.key_), valid_(other.valid_) {}

chacha20_poly1305_key::~chacha20_poly1305_key() { OPENSSL_cleanse(key_.data(), key_.size()); }

result<bytes> chacha20_poly1305_key::seal(byte_view nonce, byte_view aad, byte_view plaintext) {
  if (!valid_ || nonce.size() != chacha_nonce_size) return errc::invalid_key;
  if (!sealer_) sealer_ = keyed_context(key_, true);
  return seal_in(sealer_.get(), nonce, aad, plaintext);
}

result<bytes> chacha20_poly1305_key::open(byte_view nonce, byte_view aad, byte_view sealed) {
  if (!valid_ || nonce.size() != chacha_nonce_size) return errc::invalid_key;
  if (!opener_) opener_ = keyed_context(key_, false);
  return open_in(opener_.get(), nonce, aad, sealed);
}

result<bytes> chacha20_poly1305_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext) {
  return chacha20_poly1305_key(key).seal(nonce, aad, plaintext);
}

result<bytes> chacha20_poly1305_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed) {
  return chacha20_poly1305_key(key).open(nonce, aad, sealed);
}

}  // namespace parley::core
