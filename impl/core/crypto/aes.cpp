#include "impl/core/crypto/aes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "impl/core/crypto/fetched.hpp"

namespace parley::core {
namespace {

using ctx_ptr = aes_gcm_key::ctx_ptr;  // one owner type for every context this file makes

const EVP_CIPHER* gcm_for(std::size_t key_size) { return detail::aes_gcm_cipher(key_size); }
const EVP_CIPHER* ecb_for(std::size_t key_size) { return detail::aes_ecb_cipher(key_size); }
int isize(std::size_t n) { return static_cast<int>(n); }

// A GCM context per thread and direction, kept between calls and keyed anew by each: creating a context
// (and the provider state behind it) cost more than opening a small frame, and a multiparty peer opens
// one per frame. Passing the cipher again would rebuild that state, so it is passed only when it changes.
// Key and nonce are set on every call, so nothing of one message carries into the next.
EVP_CIPHER_CTX* keyed_gcm_context(const EVP_CIPHER* cipher, bool seal, byte_view key, byte_view nonce) {
  struct reusable {
    ctx_ptr ctx{EVP_CIPHER_CTX_new()};
    const EVP_CIPHER* cipher = nullptr;
  };
  thread_local reusable contexts[2];
  reusable& r = contexts[seal ? 1 : 0];
  if (!r.ctx) return nullptr;
  const EVP_CIPHER* fresh = r.cipher == cipher ? nullptr : cipher;
  r.cipher = nullptr;  // until this init succeeds, the next call starts over
  if (EVP_CipherInit_ex2(r.ctx.get(), fresh, key.data(), nonce.data(), seal ? 1 : 0, nullptr) != 1) return nullptr;
  r.cipher = cipher;
  return r.ctx.get();
}

// One message under a context that holds its key and nonce: the AAD, the text, then the tag.
result<bytes> seal_in(EVP_CIPHER_CTX* ctx, byte_view aad, byte_view plaintext, std::size_t tag_size) {
  bytes out(plaintext.size() + tag_size);
  int len = 0;
  if (!ctx || (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, out.data(), &len, plaintext.data(), isize(plaintext.size())) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_EncryptFinal_ex(ctx, out.data() + total, &len) != 1) return errc::crypto_failure;
  total += len;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, isize(tag_size), out.data() + total) != 1)
    return errc::crypto_failure;
  out.resize(static_cast<std::size_t>(total) + tag_size);
  return out;
}

result<bytes> open_in(EVP_CIPHER_CTX* ctx, byte_view aad, byte_view sealed, std::size_t tag_size) {
  std::size_t body = sealed.size() - tag_size;  // the callers checked sealed holds a tag
  bytes out(body);
  int len = 0;
  // The tag is only compared in Final; OpenSSL wants a writable pointer but does not write to it.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + body);
  if (!ctx || (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), isize(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx, out.data(), &len, sealed.data(), isize(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, isize(tag_size), tag) != 1)
    return errc::crypto_failure;
  int total = len;
  if (EVP_DecryptFinal_ex(ctx, out.data() + total, &len) != 1) return errc::authentication_failed;
  out.resize(static_cast<std::size_t>(total + len));
  return out;
}

bool usable(byte_view nonce, std::size_t tag_size) {
  return nonce.size() == gcm_nonce_size && tag_size >= 12 && tag_size <= 16;
}

// A context of a key object, keyed on its first use; each later use only sets the nonce.
EVP_CIPHER_CTX* nonced(ctx_ptr& ctx, byte_view key, bool seal, byte_view nonce) {
  if (!ctx) {
    ctx_ptr made(EVP_CIPHER_CTX_new());
    if (!made || EVP_CipherInit_ex2(made.get(), gcm_for(key.size()), key.data(), nullptr, seal ? 1 : 0, nullptr) != 1)
      return nullptr;
    ctx = std::move(made);
  }
  if (EVP_CipherInit_ex2(ctx.get(), nullptr, nullptr, nonce.data(), seal ? 1 : 0, nullptr) != 1) return nullptr;
  return ctx.get();
}

}  // namespace

result<bytes> aes_gcm_seal(byte_view key, byte_view nonce, byte_view aad, byte_view plaintext, std::size_t tag_size) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (!cipher || !usable(nonce, tag_size)) return errc::invalid_key;
  return seal_in(keyed_gcm_context(cipher, true, key, nonce), aad, plaintext, tag_size);
}

result<bytes> aes_gcm_open(byte_view key, byte_view nonce, byte_view aad, byte_view sealed, std::size_t tag_size) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (!cipher || !usable(nonce, tag_size)) return errc::invalid_key;
  if (sealed.size() < tag_size) return errc::authentication_failed;
  return open_in(keyed_gcm_context(cipher, false, key, nonce), aad, sealed, tag_size);
}

void aes_gcm_key::ctx_deleter::operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }

aes_gcm_key::aes_gcm_key(byte_view key) {
  if (key.size() != 16 && key.size() != 32) return;
  std::copy(key.begin(), key.end(), key_.begin());
  size_ = key.size();
}

aes_gcm_key::aes_gcm_key(const aes_gcm_key& other) : key_(other.key_), size_(other.size_) {}  // contexts: its own, later

aes_gcm_key::aes_gcm_key(aes_gcm_key&& other) noexcept { *this = std::move(other); }

aes_gcm_key& aes_gcm_key::operator=(const aes_gcm_key& other) {
  if (this != &other) *this = aes_gcm_key(other);
  return *this;
}

// A session's keys move with its connection: 32 bytes and two pointers, and the moved-from key wiped.
aes_gcm_key& aes_gcm_key::operator=(aes_gcm_key&& other) noexcept {
  if (this == &other) return *this;
  key_ = other.key_;
  size_ = other.size_;
  sealer_ = std::move(other.sealer_);
  opener_ = std::move(other.opener_);
  OPENSSL_cleanse(other.key_.data(), other.key_.size());
  other.size_ = 0;
  return *this;
}

aes_gcm_key::~aes_gcm_key() { OPENSSL_cleanse(key_.data(), key_.size()); }

bool operator==(const aes_gcm_key& a, const aes_gcm_key& b) noexcept {
  return a.size_ == b.size_ && CRYPTO_memcmp(a.key_.data(), b.key_.data(), a.size_) == 0;  // in constant time: keys
}

result<bytes> aes_gcm_key::seal(byte_view nonce, byte_view aad, byte_view plaintext, std::size_t tag_size) {
  if (size_ == 0 || !usable(nonce, tag_size)) return errc::invalid_key;
  return seal_in(nonced(sealer_, key(), true, nonce), aad, plaintext, tag_size);
}

result<bytes> aes_gcm_key::open(byte_view nonce, byte_view aad, byte_view sealed, std::size_t tag_size) {
  if (size_ == 0 || !usable(nonce, tag_size)) return errc::invalid_key;
  if (sealed.size() < tag_size) return errc::authentication_failed;
  return open_in(nonced(opener_, key(), false, nonce), aad, sealed, tag_size);
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
