// parley-client sslmessager: drives the sslmessager agent over TLS (tcp_driver.hpp) after verifying the
// server as spec §3.3 says: a SPKI pin, a CA file, the system trust store, or (--insecure) not at all.
#include <fstream>
#include <iostream>

#include <openssl/x509.h>

#include "impl/cli/secret.hpp"
#include "impl/client/programs.hpp"
#include "impl/client/sslmessager/agent.hpp"
#include "impl/client/tcp_driver.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/key_store.hpp"

namespace parley::client_main {
namespace {

using driver = tcp_driver<sslmessager::agent, sslmessager::agent_output, true>;

std::string render_human(const client::event& e) {
  auto f = [&](const char* name) { return core::printable(e.field(name)); };  // SSLM-CLIENT-09
  if (e.type == "logged_in") return "* logged in as " + f("name");
  if (e.type == "message") return "<" + f("from") + "> " + f("text");
  if (e.type == "offline") return "* " + f("name") + " is not online";
  if (e.type == "target") return "* writing to " + f("name");
  if (e.type == "ended") return std::string(e.field("violation") == "true" ? "! " : "* ") + "server ended the session: " + f("reason");
  if (e.type == "error") return "! " + f("code") + ": " + f("text");
  if (e.type == "disconnected") return "* disconnected: " + f("reason");
  if (e.type == "goodbye") return "* goodbye";
  if (e.type == "help") return f("text");
  return {};
}

// "sha256:AB:CD…" or "abcd…" -> 64 lower-case hex digits; "" when it is not a SHA-256.
std::string normal_pin(std::string pin) {
  if (pin.rfind("sha256:", 0) == 0) pin = pin.substr(7);
  std::string hex;
  for (char c : pin) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex.size() == 64 ? hex : std::string{};
}

std::string presented_pin(driver::socket_type& s) {
  X509* cert = SSL_get1_peer_certificate(s.native_handle());
  if (!cert) return {};
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  X509_free(cert);
  if (size <= 0) return {};
  auto digest = core::sha256(byte_view(der, static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return core::to_hex(digest);
}

// SSLM-TRUST-01..04: exactly one way to trust the server, checked before AUTH is sent.
void set_up_trust(driver& d, const cli::args& args, const std::string& host) {
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
    d.on_handshake([wanted](driver::socket_type& s) -> std::string {
      std::string got = presented_pin(s);
      if (got == wanted) return {};
      return "the server's key does not match --pin (it presented sha256:" + got + ")";
    });
    return;
  }
  if (args.has("--insecure")) {
    context.set_verify_mode(ssl::verify_none);
    std::cerr << "parley-client: WARNING: --insecure: the server is not verified; anyone on the path can read "
                 "the password\n";
    return;
  }
  boost::system::error_code ec;
  if (auto ca = args.get("--ca")) context.load_verify_file(*ca, ec);
  else context.set_default_verify_paths(ec);
  if (ec) throw cli::usage_error("cannot load the trusted certificates: " + ec.message());
  context.set_verify_mode(ssl::verify_peer);
  context.set_verify_callback(ssl::host_name_verification(host));
}

}  // namespace

int run_sslmessager(const cli::args& args) {
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  std::string password;
  if (auto file = args.get("--password-file")) {
    std::ifstream in(*file);
    if (!in || !std::getline(in, password)) throw cli::usage_error("cannot read --password-file " + *file);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else {
    password = cli::read_secret("password: ", "no terminal to ask for the password: use --password-file FILE");
  }
  sslmessager::agent agent({*name, password});
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script))
    throw cli::usage_error("cannot read --script " + script);
  std::string host = args.get_or("--host", "127.0.0.1");
  driver d(agent, !script.empty(), args.has("--log-wire"), render_human);
  set_up_trust(d, args, host);
  auto port = static_cast<unsigned short>(args.number("--port", sslmessager::default_port, 1, 65535));
  int code = d.run(host, port, script);
  std::cout.flush();
  return code != 0 ? code : (agent.logged_in() ? 0 : 1);
}

}  // namespace parley::client_main
