// parley-client multiparty: drives the multiparty agent over TCP (tcp_driver.hpp) and shows its events.
#include <fstream>
#include <iostream>

#include "impl/client/multiparty/agent.hpp"
#include "impl/client/programs.hpp"
#include "impl/client/tcp_driver.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/key_store.hpp"
#include "impl/proto/multiparty/frame.hpp"

namespace parley::client_main {
namespace {

std::string render_human(const client::event& e) {
  auto f = [&](const char* name) { return core::printable(e.field(name)); };
  auto joined = [&] {
    std::string list;
    for (const auto& n : e.list) list += (list.empty() ? "" : ", ") + core::printable(n);
    return list;
  };
  if (e.type == "logged_in") return "* logged in as " + f("name") + " (uid " + f("uid") + "); users: " + joined();
  if (e.type == "session") return "* session " + f("sid") + " created: " + joined();
  if (e.type == "invite")
    return "* " + f("from") + " invites you to session " + f("sid") + " with " + joined() + " (/accept " + f("sid") +
           " or /decline " + f("sid") + ")";
  if (e.type == "answer") return "* " + f("name") + (e.field("answer") == "Accept" ? " joined " : " declined ") + f("sid");
  if (e.type == "message") return "[" + f("sid").substr(0, 8) + "] <" + f("from") + "> " + f("text");
  if (e.type == "undecryptable") return "! a message from " + f("from") + " in " + f("sid") + " could not be decrypted";
  if (e.type == "receipt") return "* " + f("from") + " read it: " + f("text");
  if (e.type == "sent") return "* delivered to " + f("delivered") + " online member(s)";
  if (e.type == "closed") return "* session " + f("sid") + " closed by " + f("by");
  if (e.type == "status") return "* status: " + f("text");
  if (e.type == "users" || e.type == "sessions") return "* " + joined();
  if (e.type == "error") return "! " + f("code") + ": " + f("text");
  if (e.type == "disconnected") return "* disconnected: " + f("reason");
  if (e.type == "goodbye") return "* goodbye";
  if (e.type == "help") return f("text");
  return {};
}

// Frames are binary: the wire log shows them as hex.
std::string hex_of(std::string_view chunk) { return core::to_hex(as_bytes(chunk)); }

core::pkey read_key(const std::string& flag, const std::string& path, bool need_private) {
  auto pem = core::read_file(path);
  if (!pem) throw cli::usage_error("cannot read " + flag + " " + path);
  auto key = need_private ? core::pkey::from_private_pem(*pem) : core::pkey::from_public_pem(*pem);
  if (!key && !need_private) {  // a private key file holds the public half too
    if (auto full = core::pkey::from_private_pem(*pem)) key = core::pkey::from_public_pem(full->public_pem());
  }
  if (!key || key->type() != core::key_type::rsa)
    throw cli::usage_error(flag + " must be " + (need_private ? "a private" : "an") + " RSA key in PEM");
  return std::move(*key);
}

}  // namespace

int run_multiparty(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(multiparty::all_client_faults());
    return 0;
  }
  auto fault = multiparty::client_fault::none;
  if (auto named = args.get("--fault")) {
    auto found = multiparty::client_fault_from_name(*named);
    if (!found) throw cli::usage_error("unknown --fault '" + *named + "' (--list-faults shows them)");
    fault = *found;
  }
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  auto key_path = args.get("--key");
  if (!key_path) throw cli::usage_error("multiparty needs --key PEM, the user's private RSA key");
  auto server_path = args.get("--server-key");
  if (!server_path) throw cli::usage_error("multiparty needs --server-key PEM, the server's public key (it is pinned)");
  multiparty::agent agent({.name = *name,
                           .key = read_key("--key", *key_path, true),
                           .server_public = read_key("--server-key", *server_path, false),
                           .unix_ms = {},
                           .fault = fault});
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script))
    throw cli::usage_error("cannot read --script " + script);
  tcp_driver<multiparty::agent, multiparty::agent_output> d(agent, !script.empty(), args.has("--log-wire"),
                                                            render_human, hex_of);
  auto port = static_cast<unsigned short>(args.number("--port", multiparty::default_port, 1, 65535));
  int code = d.run(args.get_or("--host", "127.0.0.1"), port, script);
  std::cout.flush();
  // A refused login or a lost connection is a failure for scripts; a /quit after the login is not.
  return code != 0 ? code : (agent.logged_in() ? 0 : 1);
}

}  // namespace parley::client_main
