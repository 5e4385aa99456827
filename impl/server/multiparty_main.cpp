// parley-server multiparty: the reference multiparty server (spec/multiparty/spec.md) on the generic host,
// over TCP. Its private key is server.pem in the key store; the users file lists who may log in, in the
// directory's order, and the store holds their public keys.
#include <filesystem>
#include <iostream>

#include "impl/core/key_store.hpp"
#include "impl/server/multiparty/directory.hpp"
#include "impl/server/multiparty/hub.hpp"
#include "impl/server/programs.hpp"

namespace parley::server_main {

int run_multiparty(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(multiparty::all_faults());
    return 0;
  }
  auto keys = args.get("--keys");
  auto users = args.get("--users");
  if (!keys) throw cli::usage_error("multiparty needs --keys DIR, the directory with server.pem and the users' public keys");
  if (!users) throw cli::usage_error("multiparty needs --users FILE, the names who may log in, one per line");
  std::error_code ec;
  if (!std::filesystem::is_directory(*keys, ec))
    throw cli::usage_error("--keys " + *keys +
                           " is not a directory (make one with: parley-conform keys --out DIR --users server,alice,bob)");

  multiparty::hub_options options;
  auto server_key = core::key_store(*keys).load_private("server");
  if (!server_key) throw cli::usage_error("no server key: " + *keys + "/server.pem must hold the server's RSA private key");
  options.server_key = std::move(*server_key);
  auto directory = multiparty::load_directory(*users, *keys);
  if (directory.problem.empty()) directory.problem = multiparty::directory_problem(directory.users, options.server_key);
  if (!directory.problem.empty()) throw cli::usage_error(directory.problem);
  options.users = std::move(directory.users);
  options.status_interval = millis(args.number("--status-interval", 30000, 50, 86'400'000));
  if (auto name = args.get("--fault")) {
    auto f = multiparty::fault_from_name(*name);
    if (!f) throw cli::usage_error("unknown fault '" + *name + "' (see --list-faults)");
    options.planted = *f;
  }
  // Clients pin the server's key: its fingerprint lets an operator check the copy they hand out. On stderr,
  // so that stdout's first line stays "parley-server multiparty listening on ..." (scripts wait for it).
  std::cerr << "parley-server multiparty: " << options.users.size() << " users; server key SHA-256 "
            << options.server_key.fingerprint() << std::endl;
  multiparty::hub hub(std::move(options));
  host::host_options transport;
  transport.max_message = multiparty::max_frame;
  return serve(hub, "multiparty", args, multiparty::default_port, transport);
}

}  // namespace parley::server_main
