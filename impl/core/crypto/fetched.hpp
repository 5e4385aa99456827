// The OpenSSL algorithms core/crypto uses on every message, fetched once. OpenSSL 3 looks an algorithm up
// by name each time EVP_sha256(), EVP_aes_256_gcm() and the like are used (an implicit fetch: a lock and
// string compares), which for a short frame costs more than the hashing or sealing itself. These come
// from the default library context on first use and are kept for the life of the process; should a
// fetch fail, the implicit form is returned, which behaves as before.
#pragma once

#include <cstddef>

typedef struct evp_md_st EVP_MD;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_mac_st EVP_MAC;

namespace parley::core::detail {

const EVP_MD* sha256_md();
const EVP_CIPHER* aes_gcm_cipher(std::size_t key_size);  // nullptr unless 16 or 32
const EVP_CIPHER* aes_ecb_cipher(std::size_t key_size);  // nullptr unless 16, 24 or 32
const EVP_CIPHER* chacha20_poly1305_cipher();
EVP_MAC* hmac_mac();  // nullptr when the fetch fails: HMAC has no implicit form

}  // namespace parley::core::detail
