// parley-client itp: drives the itp agent over TCP (tcp_driver.hpp) and shows its events.
#include <fstream>
#include <iostream>

#include "impl/client/itp/agent.hpp"
#include "impl/client/tcp_driver.hpp"
#include "impl/client/programs.hpp"
#include "impl/core/key_store.hpp"
#include "impl/core/encoding.hpp"

namespace parley::client_main {
namespace {

// Control characters from the network must not reach the user's terminal as escape sequences.
std::string printable(std::string_view text) { return core::printable(text); }

std::string render_human(const itp::event& e) {
  auto f = [&](const char* name) { return printable(e.field(name)); };
  if (e.type == "connected") return "* connected: " + f("text");
  if (e.type == "logged_in") return "* logged in as " + f("name") + " (key " + f("fingerprint").substr(0, 16) + ")";
  if (e.type == "joined") return "* " + f("name") + " joined";
  if (e.type == "left") return "* " + f("name") + " left";
  if (e.type == "broadcast") return "<" + f("from") + "> " + f("text");
  if (e.type == "pm")
    return "[pm from " + f("from") + (e.field("authenticated") == "true" ? "" : ", UNAUTHENTICATED legacy") + "] " +
           f("text");
  if (e.type == "pubkey") return "* key of " + f("name") + ": " + f("fingerprint");
  if (e.type == "key_changed") return "! WARNING: the key of " + f("name") + " changed to " + f("fingerprint");
  if (e.type == "users") {
    std::string list;
    for (const auto& n : e.list) list += (list.empty() ? "" : ", ") + printable(n);
    return "* online: " + list;
  }
  if (e.type == "error") return "! " + f("code") + " " + f("text");
  if (e.type == "disconnected") return "* disconnected: " + f("reason");
  if (e.type == "goodbye") return "* goodbye";
  if (e.type == "help") return f("text");
  if (e.type == "unknown") return "? " + f("line");
  return {};  // broadcast_sent, pm_sent, ping: the user already knows
}

}  // namespace

int run_itp(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(itp::all_client_faults());
    return 0;
  }
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  core::pkey key;
  if (auto path = args.get("--key")) {
    auto pem = core::read_file(*path);
    if (!pem) throw cli::usage_error("cannot read --key " + *path);
    auto loaded = core::pkey::from_private_pem(*pem);
    if (!loaded || loaded->type() != core::key_type::rsa) throw cli::usage_error("--key must be a private RSA key in PEM");
    key = std::move(*loaded);
  } else {
    key = *core::pkey::generate_rsa(2048);
  }
  itp::agent_options options{.name = *name, .key = std::move(key)};
  if (auto fault = args.get("--fault")) {
    auto found = itp::client_fault_from_name(*fault);
    if (!found) throw cli::usage_error("unknown --fault '" + *fault + "' (--list-faults shows them)");
    options.fault = *found;
  }
  itp::agent agent(std::move(options));
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script))
    throw cli::usage_error("cannot read --script " + script);
  tcp_driver<itp::agent, itp::agent_output> d(agent, !script.empty(), args.has("--log-wire"), render_human);
  auto port = static_cast<unsigned short>(args.number("--port", 1337, 1, 65535));
  int code = d.run(args.get_or("--host", "127.0.0.1"), port, script);
  std::cout.flush();
  // A refused login or a lost connection is a failure for scripts; a QUIT answered by the server is not.
  return code != 0 ? code : (agent.logged_in() ? 0 : 1);
}

}  // namespace parley::client_main
