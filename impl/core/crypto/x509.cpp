#include "impl/core/crypto/x509.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"

namespace parley::core {
namespace {

struct x509_deleter {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct bio_deleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

bool is_ip_literal(const std::string& name) {
  return name.find_first_not_of("0123456789.") == std::string::npos || name.find(':') != std::string::npos;
}

}  // namespace

result<std::string> make_self_signed_certificate(const pkey& key, const std::string& name, int days) {
  x509_ptr cert(X509_new());
  if (!cert || !key.has_private()) return errc::invalid_key;
  auto serial = random_bytes(16);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) && X509_set_version(cert.get(), 2) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) && X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * days) &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  BN_free(bn);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  ok = ok && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), subject) == 1;
  if (ok) {
    std::string san = (is_ip_literal(name) ? "IP:" : "DNS:") + name;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    ok = ext && X509_add_ext(cert.get(), ext, -1) == 1;
    X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(cert.get(), key.get(), key.type() == key_type::ed25519 ? nullptr : EVP_sha256()) > 0;
  if (!ok) return errc::crypto_failure;
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return errc::crypto_failure;
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

result<std::string> certificate_pin(std::string_view certificate_pem) {
  bio_ptr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  x509_ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return errc::invalid_key;
  unsigned char* der = nullptr;
  int size = i2d_X509(cert.get(), &der);
  if (size <= 0) return errc::crypto_failure;
  auto digest = sha256(byte_view(der, static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return to_hex(digest);
}

result<std::string> public_key_pin(std::string_view certificate_pem) {
  bio_ptr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  x509_ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return errc::invalid_key;
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  if (size <= 0) return errc::crypto_failure;
  auto digest = sha256(byte_view(der, static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return to_hex(digest);
}

}  // namespace parley::core
