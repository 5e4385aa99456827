// parley-client sslmessager: drives the sslmessager agent over TLS (tcp_driver.hpp) after verifying the
// server as spec §3.3 says: a SPKI pin, a CA file, the system trust store, or (--insecure) not at all.
#include <fstream>
#include <iostream>

#include "impl/cli/secret.hpp"
#include "impl/client/programs.hpp"
#include "impl/client/sslmessager/agent.hpp"
#include "impl/client/tcp_driver.hpp"
#include "impl/client/tls_trust.hpp"
#include "impl/core/encoding.hpp"

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

}  // namespace

int run_sslmessager(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(sslmessager::all_client_faults());
    return 0;
  }
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  sslmessager::agent_options options{*name, {}};
  if (auto fault = args.get("--fault")) {
    auto found = sslmessager::client_fault_from_name(*fault);
    if (!found) throw cli::usage_error("unknown --fault '" + *fault + "' (--list-faults shows them)");
    options.fault = *found;
  }
  std::string password;
  if (auto file = args.get("--password-file")) {
    std::ifstream in(*file);
    if (!in || !std::getline(in, password)) throw cli::usage_error("cannot read --password-file " + *file);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else {
    password = cli::read_secret("password: ", "no terminal to ask for the password: use --password-file FILE");
  }
  options.password = password;
  sslmessager::agent agent(options);
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script))
    throw cli::usage_error("cannot read --script " + script);
  std::string host = args.get_or("--host", "127.0.0.1");
  // The wire log shows the AUTH line with its password hidden, as the server's does (SSLM-USERS-04).
  driver d(agent, !script.empty(), args.has("--log-wire"), render_human, sslmessager::loggable);
  set_up_trust(d, args, host, "the password");  // SSLM-TRUST-01..04
  auto port = static_cast<unsigned short>(args.number("--port", sslmessager::default_port, 1, 65535));
  int code = d.run(host, port, script);
  std::cout.flush();
  return code != 0 ? code : (agent.logged_in() ? 0 : 1);
}

}  // namespace parley::client_main
