// parley-client peerchat: the peerchat agent over TCP or TLS (tcp_driver.hpp), with a UDP side that binds,
// releases and sends as the agent asks, on the same io_context. Keys and the contact list are files read and
// written here, never by the agent.
#include <boost/asio/post.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>

#include "impl/client/peerchat/agent.hpp"
#include "impl/client/programs.hpp"
#include "impl/client/tcp_driver.hpp"
#include "impl/client/tls_trust.hpp"
#include "impl/core/encoding.hpp"
#include "impl/net/udp_port.hpp"

namespace parley::client_main {
namespace {

namespace asio = boost::asio;

std::string render_human(const client::event& e) {
  auto f = [&](const char* name) { return core::printable(e.field(name)); };
  if (e.type == "hello") return "* the server speaks " + f("version");
  if (e.type == "registered") return "* registered as " + f("name") + (e.field("secure") == "true" ? " with your key" : "");
  if (e.type == "users") {
    if (e.list.empty()) return "* nobody else is online";
    std::string text = "* online:";
    for (const auto& u : e.list) text += " " + core::printable(u);
    return text;
  }
  if (e.type == "error") return "! " + f("code") + (e.field("text").empty() ? "" : ": " + f("text"));
  if (e.type == "port") return "* port " + f("port") + (e.field("accepted") == "true" ? " accepted" : " refused");
  if (e.type == "chat_started")
    return "* chat with " + f("peer") + " at " + f("address") + ":" + f("port") +
           (e.field("secure") == "true" ? " (peerchat/2)" : " (peerchat/1, plain text)") + ", connecting…";
  if (e.type == "connected") return "* connected to " + f("peer") + (e.field("secure") == "true" ? ", end-to-end encrypted" : ", in plain text");
  if (e.type == "new_contact")
    return "* new contact " + f("peer") + ", key fingerprint " + f("fingerprint") + " (compare it with " + f("peer") + " another way)";
  if (e.type == "key_changed")
    return "! WARNING: " + f("peer") + "'s key has changed: was " + f("old") + ", now " + f("new") +
           ". Someone may be impersonating " + f("peer") + ". If you know why, /trust " + f("peer") + " and chat again.";
  if (e.type == "message") return "<" + f("from") + "> " + f("text");
  if (e.type == "chat_ended") return "* chat with " + f("peer") + " ended: " + f("reason");
  if (e.type == "dropped") return "! dropped a datagram: " + f("why");
  if (e.type == "whois")
    return e.field("fingerprint").empty() ? "* no key stored for " + f("peer") : "* " + f("peer") + ": " + f("fingerprint");
  if (e.type == "trust") return "* the next key " + f("peer") + " proves will be trusted";
  if (e.type == "disconnected") return "* disconnected: " + f("reason");
  if (e.type == "goodbye") return "* goodbye";
  if (e.type == "help") return f("text");
  return {};
}

// The agent's UDP requests on impl/net's ports, bound on the TCP connection's local address (PC-CLI-03).
// --udp-loss drops that share of datagrams in both directions, to show the protocol rides out loss.
class udp_side {
public:
  using receiver = std::function<void(unsigned port, std::string from, unsigned from_port, std::string data)>;

  udp_side(asio::io_context& io, double loss_percent, bool log_wire, receiver on_receive)
      : io_(io), loss_(loss_percent / 100.0), log_wire_(log_wire), on_receive_(std::move(on_receive)) {}

  bool bind(const std::string& local_address, unsigned port) {
    auto opened = net::open_udp_port(io_, local_address, static_cast<unsigned short>(port),
                                     [this, port](std::string_view data, const std::string& from, unsigned short from_port) {
                                       if (lose()) return;
                                       if (log_wire_) std::cerr << "u> " << from << ":" << from_port << " " << core::printable(data) << "\n";
                                       on_receive_(port, from, from_port, std::string(data));
                                     });
    if (!opened) return false;
    ports_[port] = std::move(*opened);
    return true;
  }

  void release(unsigned port) {
    auto it = ports_.find(port);
    if (it == ports_.end()) return;
    it->second->close();
    ports_.erase(it);
  }

  void send(unsigned port, const std::string& address, unsigned remote_port, std::string data) {
    auto it = ports_.find(port);
    if (it == ports_.end()) return;
    if (log_wire_) std::cerr << "u< " << address << ":" << remote_port << " " << core::printable(data) << "\n";
    if (lose()) return;
    it->second->send_to(address, static_cast<unsigned short>(remote_port), std::move(data));
  }

private:
  bool lose() { return loss_ > 0 && std::uniform_real_distribution<double>(0, 1)(random_) < loss_; }

  asio::io_context& io_;
  double loss_;
  bool log_wire_;
  receiver on_receive_;
  std::map<unsigned, std::shared_ptr<net::udp_port>> ports_;
  std::mt19937 random_{std::random_device{}()};
};

std::string default_path(const std::string& name, const char* suffix) {
  const char* home = std::getenv("HOME");
  std::filesystem::path dir = std::filesystem::path(home && *home ? home : ".") / ".config" / "parley" / "peerchat";
  return (dir / (name + suffix)).string();
}

void make_parent(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  if (std::filesystem::create_directories(parent, ec))
    std::filesystem::permissions(parent, std::filesystem::perms::owner_all, ec);  // keys live here
}

template <bool Tls>
int run(peerchat::agent& agent, const cli::args& args, const std::string& contacts_path) {
  using driver = tcp_driver<peerchat::agent, peerchat::agent_output, Tls>;
  std::string script = args.get_or("--script", "");
  if (!script.empty() && script != "-" && !std::ifstream(script)) throw cli::usage_error("cannot read --script " + script);
  std::string host = args.get_or("--host", "127.0.0.1");
  bool log_wire = args.has("--log-wire");
  driver d(agent, !script.empty(), log_wire, render_human);
  if constexpr (Tls) set_up_trust(d, args, host, "the names, user lists and addresses");  // PC-TLS-03
  if (auto bind = args.get("--bind")) d.bind_to(*bind);

  udp_side udp(d.io(), args.real("--udp-loss", 0, 0, 100), log_wire,
               [&d](unsigned port, std::string from, unsigned from_port, std::string data) {
                 d.drive([&](peerchat::agent& a, peerchat::agent_output& out) {
                   a.on_datagram(port, from, from_port, data, clock_type::now(), out);
                 });
               });
  d.on_output([&](peerchat::agent_output& out) {
    for (auto& r : out.udp) {
      switch (r.what) {
        case peerchat::udp_request::kind::bind: {
          bool ok = udp.bind(d.local_address(), r.port);
          // The answer is a new input: posted, so this output finishes applying first.
          asio::post(d.io(), [&d, port = r.port, ok] {
            d.drive([&](peerchat::agent& a, peerchat::agent_output& o) { a.on_bind_result(port, ok, clock_type::now(), o); });
          });
          break;
        }
        case peerchat::udp_request::kind::release:
          udp.release(r.port);
          break;
        case peerchat::udp_request::kind::send:
          udp.send(r.port, r.address, r.remote_port, std::move(r.data));
          break;
      }
    }
    out.udp.clear();
    if (out.contacts_changed)
      if (auto ec = peerchat::save_contacts(contacts_path, agent.contacts()))
        std::cerr << "parley-client: cannot save the contact list " << contacts_path << ": " << ec.message() << "\n";
  });
  auto port = static_cast<unsigned short>(args.number("--port", peerchat::default_port, 1, 65535));
  int code = d.run(host, port, script);
  std::cout.flush();
  return code != 0 ? code : (agent.registered() ? 0 : 1);
}

}  // namespace

int run_peerchat(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(peerchat::all_client_faults());
    return 0;
  }
  auto name = args.get("--name");
  if (!name) throw cli::usage_error("--name is required");
  if (!peerchat::valid_name(*name)) throw cli::usage_error("--name: 1 to 32 of A-Z a-z 0-9 _ . -");
  peerchat::agent_options options;
  options.name = *name;
  options.v1 = args.has("--v1");
  options.accept_new_key = args.has("--accept-new-key");
  options.keepalive = millis(args.number("--keepalive", 5000, 1, 3600000));
  options.peer_timeout = millis(args.number("--peer-timeout", 20000, 1, 3600000));
  options.connect_timeout = millis(args.number("--connect-timeout", 30000, 1, 3600000));
  if (auto fault = args.get("--fault")) {
    auto found = peerchat::client_fault_from_name(*fault);
    if (!found) throw cli::usage_error("unknown --fault '" + *fault + "' (--list-faults shows them)");
    options.fault = *found;
  }
  if (!args.has("--tls") && (args.has("--pin") || args.has("--ca") || args.has("--insecure")))
    throw cli::usage_error("--pin, --ca and --insecure go with --tls");

  std::string identity_path = args.get_or("--identity", default_path(*name, ".key"));
  make_parent(identity_path);
  auto me = peerchat::identity::load_or_create(identity_path);  // PC-KEY-01: 0600, made on first use
  if (me) {
    options.me = std::make_shared<const peerchat::identity>(std::move(*me));
  } else if (options.v1) {
    std::cerr << "parley-client: no identity key (" << identity_path << ": " << me.error().message()
              << "): chats with known contacts will fail\n";
  } else {
    throw cli::usage_error("cannot load or create the identity key " + identity_path + ": " + me.error().message());
  }
  std::string contacts_path = args.get_or("--contacts", default_path(*name, ".contacts"));
  make_parent(contacts_path);
  std::size_t bad_line = 0;
  auto contacts = peerchat::load_contacts(contacts_path, &bad_line);
  if (!contacts)
    throw cli::usage_error("cannot read the contact list " + contacts_path +
                           (bad_line ? " (line " + std::to_string(bad_line) + ")" : std::string{}) + ": " +
                           contacts.error().message());
  options.contacts = std::move(*contacts);

  peerchat::agent agent(std::move(options));
  return args.has("--tls") ? run<true>(agent, args, contacts_path) : run<false>(agent, args, contacts_path);
}

}  // namespace parley::client_main
