// How a parley-client over TLS decides to trust its server (sslmessager SSLM-TRUST-01..04, peerchat
// PC-TLS-03): a SPKI pin, a CA file with the host name, the system store, or (--insecure) nothing at all.
// Checked after the handshake and before the client's first line. Shared by the TLS clients' mains.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>
#include <iostream>
#include <string>
#include <string_view>

#include "impl/cli/args.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"

namespace parley::client_main {

// "sha256:AB:CD…" or "abcd…" -> 64 lower-case hex digits; "" when it is not a SHA-256.
inline std::string normal_pin(std::string pin) {
  if (pin.rfind("sha256:", 0) == 0) pin = pin.substr(7);
  std::string hex;
  for (char c : pin) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex.size() == 64 ? hex : std::string{};
}

// The SHA-256 of the server certificate's DER SubjectPublicKeyInfo, in hex; "" without a certificate.
inline std::string presented_pin(SSL* session) {
  X509* cert = session ? SSL_get1_peer_certificate(session) : nullptr;
  if (!cert) return {};
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  X509_free(cert);
  if (size <= 0) return {};
  auto digest = core::sha256(byte_view(der, static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return core::to_hex(digest);
}

// Exactly one way to trust the server, from --pin, --ca or --insecure (else the system store). `Driver` is
// a tcp_driver<…, true>. `exposed` says what --insecure puts at risk, for its warning.
template <class Driver>
void set_up_trust(Driver& d, const cli::args& args, const std::string& host, std::string_view exposed) {
  namespace ssl = boost::asio::ssl;
  int modes = args.has("--ca") + args.has("--pin") + args.has("--insecure");
  if (modes > 1) throw cli::usage_error("--ca, --pin and --insecure exclude each other");
  auto& context = d.tls_context();
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (auto pin = args.get("--pin")) {
    std::string wanted = normal_pin(*pin);
    if (wanted.empty()) throw cli::usage_error("--pin is sha256:<64 hex digits> (the server prints it at start)");
    context.set_verify_mode(ssl::verify_none);  // the pin decides, not a chain
    d.on_handshake([wanted](SSL* session) -> std::string {
      std::string got = presented_pin(session);
      if (got == wanted) return {};
      return "the server's key does not match --pin (it presented sha256:" + got + ")";
    });
    return;
  }
  if (args.has("--insecure")) {
    context.set_verify_mode(ssl::verify_none);
    std::cerr << "parley-client: WARNING: --insecure: the server is not verified; anyone on the path can read "
              << exposed << "\n";
    return;
  }
  boost::system::error_code ec;
  if (auto ca = args.get("--ca")) context.load_verify_file(*ca, ec);
  else context.set_default_verify_paths(ec);
  if (ec) throw cli::usage_error("cannot load the trusted certificates: " + ec.message());
  context.set_verify_mode(ssl::verify_peer);
  context.set_verify_callback(ssl::host_name_verification(host));
}

}  // namespace parley::client_main
