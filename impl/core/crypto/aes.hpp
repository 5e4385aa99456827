// AES. GCM is the authenticated cipher Parley uses; ECB exists only to read the itp Java client's legacy
// private messages and must not be used to send anything.
#pragma once

#include <array>
#include <memory>

#include "impl/core/bytes.hpp"
#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;  // keeps <openssl/evp.h> out of every includer

namespace parley::core {

inline constexpr std::size_t gcm_nonce_size = 12;
inline constexpr std::size_t gcm_tag_size = 16;

// key: 16 or 32 bytes; nonce: 12 bytes; tag: 12..16 bytes (multiparty's MTP uses 12). Returns
// ciphertext || tag.
result<bytes> aes_gcm_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext,
                           std::size_t tag_size = gcm_tag_size);
// Input: ciphertext || tag. errc::authentication_failed when the tag does not verify.
result<bytes> aes_gcm_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed,
                           std::size_t tag_size = gcm_tag_size);

// One key for a stream of messages (a multiparty session seals each direction's frames under one key):
// the OpenSSL context is keyed once, on first use, and each message only sets its nonce, where the
// functions above key a context per call (a key schedule and GHASH table each time, and OpenSSL 3 asks the
// provider for the key and IV lengths by name). seal() and open() behave as those do. Each direction has
// its own context, so an object serves one conversation at a time; copies get their own contexts. The key
// and the contexts (which OpenSSL wipes when it frees them) go with the object.
class aes_gcm_key {
public:
  aes_gcm_key() = default;                 // no key: seal and open give errc::invalid_key
  explicit aes_gcm_key(byte_view key);     // 16 or 32 bytes, else seal and open give errc::invalid_key
  aes_gcm_key(const aes_gcm_key& other);
  aes_gcm_key(aes_gcm_key&& other) noexcept;
  aes_gcm_key& operator=(const aes_gcm_key& other);
  aes_gcm_key& operator=(aes_gcm_key&& other) noexcept;
  ~aes_gcm_key();

  result<bytes> seal(byte_view nonce, byte_view aad, byte_view plaintext, std::size_t tag_size = gcm_tag_size);
  result<bytes> open(byte_view nonce, byte_view aad, byte_view sealed, std::size_t tag_size = gcm_tag_size);

  byte_view key() const noexcept { return byte_view(key_.data(), size_); }
  friend bool operator==(const aes_gcm_key& a, const aes_gcm_key& b) noexcept;

  struct ctx_deleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept;
  };
  using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

private:
  std::array<std::uint8_t, 32> key_{};
  std::size_t size_ = 0;
  ctx_ptr sealer_, opener_;
};

// AES-ECB with PKCS#7 padding (Java's "AES/ECB/PKCS5Padding"). key: 16, 24 or 32 bytes.
result<bytes> aes_ecb_encrypt(byte_view key, byte_view plaintext);
result<bytes> aes_ecb_decrypt(byte_view key, byte_view ciphertext);

}  // namespace parley::core
