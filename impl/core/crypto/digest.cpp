#include "impl/core/crypto/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

#include "impl/core/crypto/fetched.hpp"

namespace parley::core {
namespace {

struct mac_ctx_deleter {
  void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter>;

// This thread's HMAC-SHA256 context, its digest set once: setting it by name fetches SHA-256 again, and
// OpenSSL's own HKDF does that for every extract. Re-keyed for every HMAC, so no state carries over, and
// re-keyed with zeros after each HKDF (forget_key), so no derived key stays in it either (PC-REC-04).
EVP_MAC_CTX* hmac_sha256_ctx() {
  thread_local mac_ctx_ptr ctx = []() -> mac_ctx_ptr {
    EVP_MAC* mac = detail::hmac_mac();
    mac_ctx_ptr made(mac ? EVP_MAC_CTX_new(mac) : nullptr);
    char digest[] = "SHA256";  // OSSL_PARAM wants a non-const pointer; OpenSSL only reads it
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (!made || EVP_MAC_CTX_set_params(made.get(), params) != 1) return nullptr;
    return made;
  }();
  return ctx.get();
}

// HMAC-SHA256(key, first || second || third) into out (32 bytes).
bool hmac_sha256(byte_view key, byte_view first, byte_view second, byte_view third, std::uint8_t* out) {
  EVP_MAC_CTX* ctx = hmac_sha256_ctx();
  // HMAC pads a short key with zeros, so the empty key (RFC 5869's absent salt) is 32 zero bytes, which
  // unlike a null pointer OpenSSL takes as a key.
  static constexpr std::uint8_t zeros[32] = {};
  if (key.empty()) key = zeros;
  std::size_t size = 0;
  return ctx && EVP_MAC_init(ctx, key.data(), key.size(), nullptr) == 1 &&
         EVP_MAC_update(ctx, first.data(), first.size()) == 1 && EVP_MAC_update(ctx, second.data(), second.size()) == 1 &&
         EVP_MAC_update(ctx, third.data(), third.size()) == 1 && EVP_MAC_final(ctx, out, &size, 32) == 1 && size == 32;
}

void forget_key() {
  static constexpr std::uint8_t zeros[32] = {};
  if (EVP_MAC_CTX* ctx = hmac_sha256_ctx()) EVP_MAC_init(ctx, zeros, sizeof zeros, nullptr);
}

}  // namespace

bytes sha256(byte_view data) {
  bytes out(32);
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, detail::sha256_md(), nullptr) != 1) std::abort();
  return out;
}

// RFC 5869 over HMAC-SHA256, written out rather than through OpenSSL's HKDF, which fetches HMAC and SHA-256
// by name on every call: for the short keys derived per login or handshake that was most of the cost.
result<bytes> hkdf_sha256(byte_view secret, byte_view salt, byte_view info, std::size_t length) {
  if (length == 0 || length > 255 * 32) return errc::crypto_failure;
  std::uint8_t prk[32];
  if (!hmac_sha256(salt, secret, {}, {}, prk)) {  // extract
    forget_key();
    return errc::crypto_failure;
  }
  bytes out;
  out.reserve(length + 32);
  std::uint8_t block[32];
  byte_view previous;  // T(0) is empty
  for (std::uint8_t counter = 1; out.size() < length; ++counter) {  // expand: T(i) = HMAC(PRK, T(i-1) || info || i)
    if (!hmac_sha256(prk, previous, info, byte_view(&counter, 1), block)) {
      OPENSSL_cleanse(prk, sizeof prk);
      OPENSSL_cleanse(out.data(), out.size());
      forget_key();
      return errc::crypto_failure;
    }
    out.insert(out.end(), block, block + 32);
    previous = byte_view(block, 32);
  }
  OPENSSL_cleanse(prk, sizeof prk);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(out.data() + length, out.size() - length);
  forget_key();
  out.resize(length);
  return out;
}

bytes random_bytes(std::size_t count) {
  bytes out(count);
  if (count > 0 && RAND_bytes(out.data(), static_cast<int>(count)) != 1) std::abort();
  return out;
}

bool equal_constant_time(byte_view a, byte_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace parley::core
