// parley-server sslmessager: the reference sslmessager server (spec/sslmessager/spec.md) on the generic
// host over TLS, with the scrypt users file; and `parley-server sslmessager adduser`, which adds a user to
// that file (spec §8.4).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <unistd.h>

#include <openssl/ssl.h>

#include "impl/cli/secret.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/core/crypto/x509.hpp"
#include "impl/core/key_store.hpp"
#include "impl/server/programs.hpp"
#include "impl/server/sslmessager/hub.hpp"

namespace parley::server_main {
namespace {

// From standard input (one line) when it is not a terminal; otherwise prompted twice without echo.
std::string read_new_password() {
  if (!isatty(STDIN_FILENO)) {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  std::string first = cli::read_secret("password: ", "");
  std::string second = cli::read_secret("again: ", "");
  if (first != second) throw cli::usage_error("the two passwords differ");
  return first;
}

// The key must be there and belong to the certificate: said here in one line, before TLS says it less
// clearly. `key_flag` is the --key given, if any (without it the key is looked for in the --cert file).
void check_key(const std::string& key_pem, const std::string& certificate_pin, const std::string& cert_file,
               const std::optional<std::string>& key_flag) {
  auto key = core::pkey::from_private_pem(key_pem);
  if (!key) {
    if (!key_flag)
      throw cli::usage_error("--cert " + cert_file + " holds no private key: give the key's file with --key PEM "
                             "(without --key the --cert file must hold both)");
    throw cli::usage_error("--key " + *key_flag + " holds no unencrypted PEM private key");
  }
  if (key->fingerprint() != certificate_pin)
    throw cli::usage_error("the private key in " + key_flag.value_or(cert_file) +
                           " does not belong to the certificate in " + cert_file);
}

// The faults that live in the TLS layer, as changes to the server's context; nothing for the others.
std::function<void(SSL_CTX*)> tls_fault(sslmessager::fault planted) {
  if (planted == sslmessager::fault::accept_legacy_tls)
    return [](SSL_CTX* context) {
      SSL_CTX_set_min_proto_version(context, TLS1_VERSION);
      SSL_CTX_clear_options(context, SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
      // TLS 1.0 and 1.1 need SHA-1 and CBC suites, which the default security level refuses.
      SSL_CTX_set_security_level(context, 0);
      SSL_CTX_set_cipher_list(context, "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:@SECLEVEL=0");
    };
  if (planted == sslmessager::fault::ask_client_certificate)
    return [](SSL_CTX* context) {
      // A request, not a demand: no FAIL_IF_NO_PEER_CERT, and whatever comes is accepted.
      SSL_CTX_set_verify(context, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    };
  return {};
}

int add_user(const cli::args& args) {
  auto file = args.get("--users");
  auto name = args.get("--name");
  if (!file || !name) throw cli::usage_error("adduser needs --users FILE and --name NAME");
  if (!sslmessager::valid_name(*name)) throw cli::usage_error("'" + *name + "' is not a valid name (1 to 32 of A-Z a-z 0-9 _ . -)");
  std::string text;
  if (std::filesystem::exists(*file)) {
    auto existing = core::read_file(*file);
    if (!existing) throw cli::usage_error("cannot read " + *file);
    text = *existing;
    auto parsed = sslmessager::parse_users(text);
    if (!parsed.problem.empty()) throw cli::usage_error(*file + ": " + parsed.problem);
    if (parsed.users.contains(*name) && !args.has("--replace"))
      throw cli::usage_error(*name + " is already in " + *file + " (--replace sets a new password)");
  }
  std::string password = read_new_password();
  if (!sslmessager::valid_password(password))
    throw cli::usage_error("a password is 1 to 128 visible characters, no spaces");
  sslmessager::scrypt_params params;
  params.n = static_cast<std::uint64_t>(args.number("--scrypt-n", 32768, 16384, 1048576));
  if (!sslmessager::valid_params(params)) throw cli::usage_error("--scrypt-n must be a power of two from 16384 to 1048576");
  auto entry = sslmessager::make_entry(*name, password, params);
  if (!entry) throw cli::usage_error("cannot hash the password: " + entry.error().message());
  // Every line but the replaced user's, then the new one; written whole to a temporary file, then renamed.
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    if (line.rfind(*name + ":", 0) == 0) continue;
    out += line + "\n";
  }
  out += sslmessager::format_entry(*entry) + "\n";
  std::string temporary = *file + ".tmp" + std::to_string(getpid());
  {
    std::ofstream f(temporary, std::ios::trunc);
    f << out;
    if (!f) throw cli::usage_error("cannot write " + temporary);
  }
  std::filesystem::permissions(temporary, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::rename(temporary, *file);
  std::cout << "added " << *name << " to " << *file << "\n";
  return 0;
}

}  // namespace

int run_sslmessager(const cli::args& args) {
  if (!args.positional().empty() && args.positional()[0] == "adduser") return add_user(args);
  if (!args.positional().empty()) throw cli::usage_error("unexpected argument '" + args.positional()[0] + "'");
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(sslmessager::all_faults());
    return 0;
  }
  auto cert = args.get("--cert");
  auto users = args.get("--users");
  if (!cert || !users)
    throw cli::usage_error("sslmessager needs --cert PEM [--key PEM] --users FILE (make them with: parley-conform certs "
                           "--out DIR, and parley-server sslmessager adduser --users FILE --name NAME)");
  auto key = args.get("--key").value_or(*cert);  // one PEM file may hold certificate and key (SSLM-TLS-03)
  auto cert_pem = core::read_file(*cert);
  auto key_pem = core::read_file(key);
  auto users_text = core::read_file(*users);
  if (!cert_pem) throw cli::usage_error("cannot read --cert " + *cert);
  if (!key_pem) throw cli::usage_error("cannot read --key " + key);
  if (!users_text) throw cli::usage_error("cannot read --users " + *users);
  auto parsed = sslmessager::parse_users(*users_text);
  if (!parsed.problem.empty()) throw cli::usage_error(*users + ": " + parsed.problem);
  auto pin = core::public_key_pin(*cert_pem);
  if (!pin) throw cli::usage_error("--cert " + *cert + " holds no PEM certificate");
  check_key(*key_pem, *pin, *cert, args.get("--key"));

  sslmessager::hub_options options;
  options.users = std::move(parsed.users);
  options.check_interval = millis(args.number("--check-interval", 60000, 50, 86'400'000));
  options.login_timeout = millis(args.number("--login-timeout", 120000, 100, 86'400'000));
  if (auto name = args.get("--fault")) {
    auto f = sslmessager::fault_from_name(*name);
    if (!f) throw cli::usage_error("unknown fault '" + *name + "' (see --list-faults)");
    options.planted = *f;
  }
  auto planted = options.planted;
  // Clients pin this (SSLM-TLS-08). On stderr: stdout's first line stays the "listening on" line.
  std::cerr << "parley-server sslmessager: " << options.users.size() << " users; pin sha256:" << *pin << std::endl;
  sslmessager::hub hub(std::move(options));
  host::host_options transport;
  transport.transport = host::transport::tls;
  transport.tls_certificate_pem = *cert_pem;
  transport.tls_key_pem = *key_pem;
  transport.write_timeout = millis(10000);  // SSLM-CONN-07, SSLM-CHECK-03
  transport.redact_input = [redact = std::make_shared<sslmessager::auth_redactor>()](core::conn_id conn,
                                                                                  std::string_view chunk) {
    return (*redact)(conn, chunk);
  };
  transport.tls_fault = tls_fault(planted);
  return serve(hub, "sslmessager", args, sslmessager::default_port, transport);
}

}  // namespace parley::server_main
