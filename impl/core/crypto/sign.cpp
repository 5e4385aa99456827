#include "impl/core/crypto/sign.hpp"

#include <openssl/evp.h>

#include "impl/core/crypto/fetched.hpp"

namespace parley::core {
namespace {

bool fits(const pkey& key, signature_scheme scheme) {
  return key && (scheme == signature_scheme::ed25519 ? key.type() == key_type::ed25519
                                                     : key.type() == key_type::rsa);
}
// Ed25519 hashes internally and must be given no digest.
const EVP_MD* digest_for(signature_scheme scheme) {
  return scheme == signature_scheme::ed25519 ? nullptr : detail::sha256_md();
}

}  // namespace

result<bytes> sign(const pkey& key, signature_scheme scheme, byte_view message) {
  if (!fits(key, scheme) || !key.has_private()) return errc::invalid_key;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return errc::crypto_failure;
  std::size_t size = 0;
  bytes out;
  bool ok = EVP_DigestSignInit(ctx, nullptr, digest_for(scheme), nullptr, key.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &size, message.data(), message.size()) == 1;
  if (ok) {
    out.resize(size);
    ok = EVP_DigestSign(ctx, out.data(), &size, message.data(), message.size()) == 1;
    out.resize(size);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return errc::crypto_failure;
  return out;
}

result<bool> verify(const pkey& key, signature_scheme scheme, byte_view message, byte_view signature) {
  if (!fits(key, scheme)) return errc::invalid_key;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return errc::crypto_failure;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, digest_for(scheme), nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return errc::authentication_failed;
  return true;
}

}  // namespace parley::core
