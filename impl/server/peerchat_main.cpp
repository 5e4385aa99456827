// parley-server peerchat: the reference peerchat rendezvous server (spec/peerchat/spec.md §3-§5, §8.1-8.2)
// on the generic host, plain TCP or, with a certificate, TLS only (PC-TLS-01).
#include <iostream>

#include "impl/core/crypto/x509.hpp"
#include "impl/core/key_store.hpp"
#include "impl/server/peerchat/hub.hpp"
#include "impl/server/programs.hpp"

namespace parley::server_main {

int run_peerchat(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(peerchat::all_faults());
    return 0;
  }
  peerchat::hub_options options;
  options.port_timeout = millis(args.number("--port-timeout", 10000, 10, 86'400'000));
  options.register_timeout = millis(args.number("--register-timeout", 60000, 10, 86'400'000));
  options.max_connections = static_cast<std::size_t>(args.number("--max-connections", 1024, 1, 1'000'000));
  if (auto name = args.get("--fault")) {
    auto f = peerchat::fault_from_name(*name);
    if (!f) throw cli::usage_error("unknown fault '" + *name + "' (see --list-faults)");
    options.planted = *f;
  }

  host::host_options transport;
  auto cert = args.get("--tls-cert");
  auto key = args.get("--tls-key");
  if (cert.has_value() != key.has_value()) throw cli::usage_error("--tls-cert and --tls-key go together");
  if (cert) {
    auto cert_pem = core::read_file(*cert);
    auto key_pem = core::read_file(*key);
    if (!cert_pem) throw cli::usage_error("cannot read --tls-cert " + *cert);
    if (!key_pem) throw cli::usage_error("cannot read --tls-key " + *key);
    auto pin = core::public_key_pin(*cert_pem);
    if (!pin) throw cli::usage_error("--tls-cert " + *cert + " holds no PEM certificate");
    // The host's TLS context allows TLS 1.2 (ECDHE with AEAD only) and 1.3 (PC-TLS-02).
    transport.transport = host::transport::tls;
    transport.tls_certificate_pem = *cert_pem;
    transport.tls_key_pem = *key_pem;
    // Clients pin this (PC-TLS-03). On stderr: stdout's first line stays the "listening on" line.
    std::cerr << "parley-server peerchat: TLS only; pin sha256:" << *pin << std::endl;
  }
  peerchat::hub hub(std::move(options));
  // The hub answers connections past --max-connections with ERROR Server_full (PC-LIMIT-01), so the host
  // must let a few more in than that; past those it refuses silently, which bounds the process.
  return serve(hub, "peerchat", args, peerchat::default_port, transport, 64);
}

}  // namespace parley::server_main
