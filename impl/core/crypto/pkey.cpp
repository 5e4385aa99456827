#include "impl/core/crypto/pkey.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"

namespace parley::core {
namespace {

struct bio_deleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string{};
}

// A fresh key pair, or nullptr.
EVP_PKEY* generate(const char* algorithm, int rsa_bits) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr);
  if (!ctx) return nullptr;
  EVP_PKEY* key = nullptr;
  bool ok = EVP_PKEY_keygen_init(ctx) == 1 &&
            (rsa_bits == 0 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, rsa_bits) == 1) &&
            EVP_PKEY_generate(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return key;
}

// Whether `der` is shaped as one DER SEQUENCE that spans it exactly, as every SubjectPublicKeyInfo is. A
// check this cheap turns away most of what is not a key before OpenSSL's decoders (tens of microseconds
// each) see it: peers send key tokens, and fuzzers send anything.
bool one_der_sequence(byte_view der) {
  if (der.size() < 2 || der[0] != 0x30) return false;
  std::size_t length = der[1];
  std::size_t header = 2;
  if (length & 0x80) {
    std::size_t n = length & 0x7f;
    if (n == 0 || n > 3 || der.size() < 2 + n) return false;
    length = 0;
    for (std::size_t i = 0; i < n; ++i) length = (length << 8) | der[2 + i];
    header += n;
  }
  return header + length == der.size();
}

}  // namespace

void pkey::deleter::operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }

pkey::pkey(EVP_PKEY* owned) noexcept : key_(owned) {
  // A key is private when OpenSSL can export its private half; public-only keys fail this.
  if (owned) {
    der_ = std::make_shared<der_cache>();
    bio_ptr bio(BIO_new(BIO_s_mem()));
    private_ = bio && PEM_write_bio_PKCS8PrivateKey(bio.get(), owned, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  }
}

pkey::pkey(EVP_PKEY* owned, bool has_private)
    : key_(owned), der_(owned ? std::make_shared<der_cache>() : nullptr), private_(owned && has_private) {}

pkey::pkey(const pkey& other) noexcept : private_(other.private_) {
  if (other.key_ && EVP_PKEY_up_ref(other.key_.get()) == 1) {
    key_.reset(other.key_.get());
    der_ = other.der_;
  }
}

pkey& pkey::operator=(const pkey& other) noexcept {
  if (this != &other) *this = pkey(other);
  return *this;
}

result<pkey> pkey::generate_rsa(int bits) {
  EVP_PKEY* key = generate("RSA", bits);
  if (!key) return errc::crypto_failure;
  return pkey(key, true);
}

result<pkey> pkey::generate_ed25519() {
  EVP_PKEY* key = generate("ED25519", 0);
  if (!key) return errc::crypto_failure;
  return pkey(key, true);
}

result<pkey> pkey::from_private_pem(std::string_view pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return errc::crypto_failure;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!key) return errc::invalid_key;
  return pkey(key, true);
}

result<pkey> pkey::from_public_pem(std::string_view pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return errc::crypto_failure;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!key) return errc::invalid_key;
  return pkey(key, false);
}

result<pkey> pkey::from_public_der(byte_view der) {
  if (!one_der_sequence(der)) return errc::invalid_key;
  const unsigned char* p = der.data();
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (!key) return errc::invalid_key;
  if (p != der.data() + der.size()) {  // trailing bytes: not one canonical SPKI
    EVP_PKEY_free(key);
    return errc::invalid_key;
  }
  return pkey(key, false);
}

result<pkey> pkey::from_raw_ed25519_public(byte_view raw) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size());
  if (!key) return errc::invalid_key;
  return pkey(key, false);
}

key_type pkey::type() const noexcept {
  if (!key_) return key_type::other;
  if (EVP_PKEY_is_a(key_.get(), "RSA")) return key_type::rsa;
  if (EVP_PKEY_is_a(key_.get(), "ED25519")) return key_type::ed25519;
  return key_type::other;
}

int pkey::bits() const noexcept { return key_ ? EVP_PKEY_get_bits(key_.get()) : 0; }

bytes pkey::public_der() const {
  if (!key_ || !der_) return {};
  std::call_once(der_->once, [this] {
    unsigned char* out = nullptr;
    int size = i2d_PUBKEY(key_.get(), &out);
    if (size <= 0) return;  // stays empty, as it would every time
    der_->der.assign(out, out + size);
    OPENSSL_free(out);
  });
  return der_->der;
}

std::string pkey::public_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!key_ || !bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return {};
  return bio_text(bio.get());
}

std::string pkey::private_pem() const {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!key_ || !private_ || !bio ||
      PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return {};
  return bio_text(bio.get());
}

std::string pkey::fingerprint() const { return to_hex(sha256(public_der())); }

}  // namespace parley::core
