// Self-signed certificates, for test servers and `parley-conform certs`: the seeds' TLS protocols use
// self-signed certificates, and clients trust them by CA file or by SHA-256 pin.
#pragma once

#include <string>

#include "impl/core/crypto/pkey.hpp"

namespace parley::core {

// A PEM certificate for `key`, valid from now for `days`, with CN and a DNS/IP subjectAltName of `name`.
result<std::string> make_self_signed_certificate(const pkey& key, const std::string& name, int days);

// SHA-256 of the DER certificate, lower-case hex: the pin a client compares (openssl x509 -fingerprint
// -sha256 prints the same bytes, upper-case with colons).
result<std::string> certificate_pin(std::string_view certificate_pem);

// SHA-256 of the certificate's SubjectPublicKeyInfo DER, lower-case hex: a pin that survives renewing the
// certificate with the same key (sslmessager's --pin, spec §3.3).
result<std::string> public_key_pin(std::string_view certificate_pem);

}  // namespace parley::core
