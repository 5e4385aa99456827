// parley-server securechat: the reference securechat server (spec/securechat/spec.md) on the generic host,
// over WebSocket, with public keys from a key store directory.
#include <filesystem>
#include <iostream>

#include "impl/core/key_store.hpp"
#include "impl/proto/securechat/crypto.hpp"
#include "impl/server/programs.hpp"
#include "impl/server/securechat/hub.hpp"

namespace parley::server_main {
namespace {

// Spec §9: the store is read on every join, so keys added later are found.
std::optional<securechat::known_key> find_key(const core::key_store& store, std::string_view name) {
  auto found = store.load_public(name);
  if (!found || !securechat::acceptable_key(found->key)) return std::nullopt;
  return securechat::known_key{std::move(found->key), std::move(found->pem)};
}

}  // namespace

int run_securechat(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(securechat::all_faults());
    return 0;
  }
  auto keys = args.get("--keys");
  if (!keys) throw cli::usage_error("securechat needs --keys DIR, the directory of the users' public keys");
  std::filesystem::path dir(*keys);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw cli::usage_error("--keys " + *keys + " is not a directory (make one with: parley-conform keys --out DIR --users alice,bob)");

  securechat::hub_options options;
  options.keys = [store = core::key_store(dir)](std::string_view name) { return find_key(store, name); };
  options.login_timeout = millis(args.number("--login-timeout", 60000, 10, 3'600'000));
  if (auto name = args.get("--fault")) {
    auto f = securechat::fault_from_name(*name);
    if (!f) throw cli::usage_error("unknown fault '" + *name + "' (see --list-faults)");
    options.planted = *f;
  }
  securechat::hub hub(options);
  host::host_options transport;
  transport.transport = host::transport::websocket;
  transport.max_message = securechat::max_message_bytes;
  return serve(hub, "securechat", args, securechat::default_port, transport);
}

}  // namespace parley::server_main
