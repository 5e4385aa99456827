// ChaCha20-Poly1305 (RFC 8439): peerchat/2's record cipher. Constant-time in software, so it needs no AES
// hardware to be safe, and its 12-byte nonce is built from a record counter that never repeats.
#pragma once

#include <array>
#include <memory>

#include "impl/core/bytes.hpp"
#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;  // keeps <openssl/evp.h> out of every includer

namespace parley::core {

inline constexpr std::size_t chacha_key_size = 32;
inline constexpr std::size_t chacha_nonce_size = 12;
inline constexpr std::size_t chacha_tag_size = 16;

// Returns ciphertext || tag.
result<bytes> chacha20_poly1305_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext);
// Input: ciphertext || tag. errc::authentication_failed when the tag does not verify.
result<bytes> chacha20_poly1305_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed);

// One key for a stream of records (peerchat/2 seals each direction's records under one key): the OpenSSL
// context is keyed once, on first use, and each record only sets its nonce, where the functions above
// make and key a context per record. seal() and open() behave as those do; each has its own context, so
// an object serves one direction of a conversation at a time. Copies get their own contexts; the key
// and the contexts (which OpenSSL wipes when it frees them) go with the object.
class chacha20_poly1305_key {
public:
  explicit chacha20_poly1305_key(byte_view key);  // seal and open give errc::invalid_key unless 32 bytes
  chacha20_poly1305_key(const chacha20_poly1305_key& other);
  chacha20_poly1305_key& operator=(const chacha20_poly1305_key&) = delete;
  ~chacha20_poly1305_key();

  result<bytes> seal(byte_view nonce, byte_view aad, byte_view plaintext);
  result<bytes> open(byte_view nonce, byte_view aad, byte_view sealed);

  struct ctx_deleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept;
  };
  using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

private:
  std::array<std::uint8_t, chacha_key_size> key_{};
  bool valid_ = false;
  ctx_ptr sealer_, opener_;
};

}  // namespace parley::core
