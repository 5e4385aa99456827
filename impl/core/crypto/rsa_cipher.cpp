#include "impl/core/crypto/rsa_cipher.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "impl/core/crypto/fetched.hpp"

namespace parley::core {
namespace {

struct ctx_deleter {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, ctx_deleter>;

bool set_padding(EVP_PKEY_CTX* ctx, rsa_padding padding) {
  if (padding == rsa_padding::pkcs1_v15) return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_oaep_md(ctx, detail::sha256_md()) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, detail::sha256_md()) == 1;
}

}  // namespace

result<bytes> rsa_encrypt(const pkey& public_key, rsa_padding padding, byte_view plaintext) {
  if (!public_key || public_key.type() != key_type::rsa) return errc::invalid_key;
  ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, public_key.get(), nullptr));
  std::size_t size = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || !set_padding(ctx.get(), padding) ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &size, plaintext.data(), plaintext.size()) != 1)
    return errc::crypto_failure;
  bytes out(size);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &size, plaintext.data(), plaintext.size()) != 1)
    return errc::crypto_failure;
  out.resize(size);
  return out;
}

result<bytes> rsa_decrypt(const pkey& private_key, rsa_padding padding, byte_view ciphertext) {
  if (!private_key || private_key.type() != key_type::rsa || !private_key.has_private()) return errc::invalid_key;
  ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, private_key.get(), nullptr));
  std::size_t size = 0;
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 || !set_padding(ctx.get(), padding) ||
      EVP_PKEY_decrypt(ctx.get(), nullptr, &size, ciphertext.data(), ciphertext.size()) != 1)
    return errc::authentication_failed;
  bytes out(size);
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &size, ciphertext.data(), ciphertext.size()) != 1)
    return errc::authentication_failed;
  out.resize(size);
  return out;
}

}  // namespace parley::core
