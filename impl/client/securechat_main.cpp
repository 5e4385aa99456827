// parley-client securechat: drives the securechat agent over WebSocket (tcp_driver.hpp, on impl/net's
// WebSocket channel) and shows its events.
#include <fstream>
#include <iostream>

#include "impl/client/programs.hpp"
#include "impl/client/securechat/agent.hpp"
#include "impl/client/tcp_driver.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/key_store.hpp"
#include "impl/proto/securechat/message.hpp"

namespace parley::client_main {

namespace {

std::string render_human(const client::event& e) {
  auto f = [&](const char* name) { return core::printable(e.field(name)); };
  if (e.type == "users") {
    std::string list;
    for (const auto& n : e.list) list += (list.empty() ? "" : ", ") + core::printable(n);
    return (e.field("reason") == "welcome" ? "* welcome, " + f("name") + "; online: " : "* online: ") + list;
  }
  if (e.type == "joined") return "* " + f("name") + " joined (key " + f("fingerprint").substr(0, 16) + ")";
  if (e.type == "key_changed") return "! WARNING: the key of " + f("name") + " changed to " + f("fingerprint");
  if (e.type == "left") return "* " + f("name") + " left";
  if (e.type == "public") return "<" + f("from") + (e.field("known") == "true" ? "" : " (unknown!)") + "> " + f("text");
  if (e.type == "private") return "[private from " + f("from") + "] " + f("text");
  if (e.type == "key") return "* " + f("name") + ": " + f("fingerprint");
  if (e.type == "error") return "! " + f("text");
  if (e.type == "disconnected") return "* disconnected: " + f("reason");
  if (e.type == "goodbye") return "* goodbye";
  if (e.type == "help") return f("text");
  if (e.type == "unknown") return "? " + f("problem") + ": " + f("message");
  return {};  // private_sent: the user already knows
}

}  // namespace

int run_securechat(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(securechat::all_client_faults());
    return 0;
  }
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  auto path = args.get("--key");
  if (!path) throw cli::usage_error("securechat needs --key PEM, the user's private RSA key (make one with parley-conform keys)");
  auto pem = core::read_file(*path);
  if (!pem) throw cli::usage_error("cannot read --key " + *path);
  auto key = core::pkey::from_private_pem(*pem);
  if (!key || key->type() != core::key_type::rsa) throw cli::usage_error("--key must be a private RSA key in PEM");
  securechat::agent_options options{.name = *name, .key = std::move(*key)};
  if (auto fault = args.get("--fault")) {
    auto found = securechat::client_fault_from_name(*fault);
    if (!found) throw cli::usage_error("unknown --fault '" + *fault + "' (--list-faults shows them)");
    options.fault = *found;
  }
  securechat::agent agent(std::move(options));
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script))
    throw cli::usage_error("cannot read --script " + script);
  tcp_driver<securechat::agent, securechat::agent_output> d(agent, !script.empty(), args.has("--log-wire"), render_human);
  d.use_websocket("/", 4 * securechat::max_message_bytes);  // a Welcome of many users is large
  auto port = static_cast<unsigned short>(args.number("--port", securechat::default_port, 1, 65535));
  int code = d.run(args.get_or("--host", "127.0.0.1"), port, script);
  std::cout.flush();
  // A refused join or a lost connection is a failure for scripts; a /quit after the Welcome is not.
  return code != 0 ? code : (agent.welcomed() ? 0 : 1);
}

}  // namespace parley::client_main
