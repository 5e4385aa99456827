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

// Spec §9: `<name>.public.pem` (the original's layout), else `<name>.pem` (the seed's), which may hold the
// public key or the private one. The store is read on every join, so keys added later are found.
std::optional<securechat::known_key> find_key(const std::filesystem::path& dir, std::string_view name) {
  // "x.public" would otherwise fall back to "x.public.pem", which is x's key: refuse the alias.
  if (name.ends_with(".public")) return std::nullopt;
  for (const char* suffix : {".public.pem", ".pem"}) {
    auto text = core::read_file(dir / (std::string(name) + suffix));
    if (!text) continue;
    if (auto key = core::pkey::from_public_pem(*text); key && securechat::acceptable_key(*key))
      return securechat::known_key{*key, *text};  // the store's PEM, byte for byte, as the original sends
    if (auto key = core::pkey::from_private_pem(*text); key && securechat::acceptable_key(*key)) {
      auto pub = core::pkey::from_public_pem(key->public_pem());
      if (pub) return securechat::known_key{*pub, key->public_pem()};
    }
    return std::nullopt;  // a file that is there but unusable is not silently skipped for the other one
  }
  return std::nullopt;
}

}  // namespace

int run_securechat(const cli::args& args) {
  if (args.has("--list-faults")) {
    for (const auto& f : securechat::all_faults()) std::cout << f.name << "\t" << f.description << "\n";
    return 0;
  }
  auto keys = args.get("--keys");
  if (!keys) throw cli::usage_error("securechat needs --keys DIR, the directory of the users' public keys");
  std::filesystem::path dir(*keys);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw cli::usage_error("--keys " + *keys + " is not a directory (make one with: parley-conform keys --out DIR --users alice,bob)");

  securechat::hub_options options;
  options.keys = [dir](std::string_view name) { return find_key(dir, name); };
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
