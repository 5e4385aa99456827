// Owning handle for an OpenSSL EVP_PKEY, plus key generation and the encodings the protocols put on the
// wire (SPKI DER/PEM for public keys, PKCS#8 PEM for private ones).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "impl/core/bytes.hpp"
#include "impl/core/errc.hpp"
#include "impl/core/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;  // keeps <openssl/evp.h> out of every includer

namespace parley::core {

enum class key_type { rsa, ed25519, other };

class pkey {
public:
  pkey() = default;
  // Takes ownership. Whether the key holds its private half is found by a trial export, which for a
  // public key is a failed encoder search (tens of microseconds); the factories below know and skip it.
  explicit pkey(EVP_PKEY* owned) noexcept;
  // Copies share the key: EVP_PKEY is reference-counted and never modified after it is made.
  pkey(const pkey& other) noexcept;
  pkey& operator=(const pkey& other) noexcept;
  pkey(pkey&&) noexcept = default;
  pkey& operator=(pkey&&) noexcept = default;

  static result<pkey> generate_rsa(int bits);
  static result<pkey> generate_ed25519();
  // errc::invalid_key unless the text holds exactly the expected kind of key.
  static result<pkey> from_private_pem(std::string_view pem);
  static result<pkey> from_public_pem(std::string_view pem);
  static result<pkey> from_public_der(byte_view der);
  // The 32 raw bytes of an Ed25519 public key (RFC 8032), as peerchat carries them. errc::invalid_key
  // when OpenSSL refuses them.
  static result<pkey> from_raw_ed25519_public(byte_view raw);

  EVP_PKEY* get() const noexcept { return key_.get(); }
  explicit operator bool() const noexcept { return key_ != nullptr; }
  key_type type() const noexcept;
  int bits() const noexcept;
  bool has_private() const noexcept { return private_; }

  bytes public_der() const;         // SubjectPublicKeyInfo; encoded once per key, its copies included
  std::string public_pem() const;   // "-----BEGIN PUBLIC KEY-----" ...
  std::string private_pem() const;  // PKCS#8, unencrypted; empty for a public-only key
  // SHA-256 of the SPKI DER, lower-case hex: what users compare out of band.
  std::string fingerprint() const;

private:
  pkey(EVP_PKEY* owned, bool has_private);

  struct deleter {
    void operator()(EVP_PKEY* k) const noexcept;
  };
  // OpenSSL 3 encodes through its encoder framework (tens of microseconds a key), and uids, fingerprints
  // and login directories ask for the same key's DER again and again: it is made on first use, once.
  struct der_cache {
    std::once_flag once;
    bytes der;
  };
  std::unique_ptr<EVP_PKEY, deleter> key_;
  std::shared_ptr<der_cache> der_;  // shared by the copies, which hold the same EVP_PKEY
  bool private_ = false;
};

}  // namespace parley::core
