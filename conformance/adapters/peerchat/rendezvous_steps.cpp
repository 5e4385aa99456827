// Rendezvous steps: registering engine users, refusing port rounds, filling the server, and playing the
// server for a client under test up to STARTCHAT.
#include <random>
#include <regex>
#include <set>

#include "conformance/adapters/peerchat/steps.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"

namespace parley::conform::peerchat_engine {
namespace {

std::string as_line(const std::string& text) { return text + "\n"; }

// Whether UDP port n on `ip` can be bound right now (it is released again at once).
bool udp_port_free(const char* ip, unsigned short n) { return net::bind_udp(ip, n).has_value(); }

// A UDP socket on `ip` at a random port of the chat range (PC-PORT-01), so that parallel cases and
// leftover sockets do not collide; nullptr when 50 tries found none free. With `also_free_on`, the port
// must be free on that address too: the engine offers the same port to the client, and a port some other
// process holds there would make a correct client refuse it.
std::unique_ptr<net::udp_socket> bind_chat_port(const char* ip, net::traffic_tap* tap,
                                                const char* also_free_on = nullptr) {
  std::random_device seed;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto n = static_cast<unsigned short>(pc::first_chat_port + seed() % (pc::last_chat_port - pc::first_chat_port + 1));
    if (also_free_on && !udp_port_free(also_free_on, n)) continue;
    if (auto bound = net::bind_udp(ip, n, tap)) return std::move(*bound);
  }
  return nullptr;
}

}  // namespace

std::string acceptance(const case_context& ctx, const std::string& port) {
  return ctx.get("profile") == "peerchat/1" ? "OK\nOK\n" : "OK " + port + "\n";
}

namespace {
// `line` (a REGISTER of `user`) on the open connection `conn`, answered REGISTERED user OK.
std::string registers(case_context& ctx, const std::string& conn, const std::string& user, const std::string& line) {
  if (auto f = ctx.send(conn, as_line(line)); !f.empty()) return f;
  auto f = ctx.expect(conn, {"^REGISTERED " + ctx.substitute(user, true) + " OK$"}, ctx.deadline({}, 3000));
  return f.empty() ? "" : "registration of " + user + ": " + f;
}
}  // namespace

// connect [from], REGISTER name [key], REGISTERED name OK. `key: var` registers an engine-made Ed25519
// key and stores its field in ${var}.
std::string register_user(const step& s, case_context& ctx) {
  std::string user = arg(s, ctx, "user");
  std::string line = "REGISTER " + user;
  if (s.args["key"]) {
    std::string var = s.args["key"].as<std::string>();
    auto field = pc::format_public_key(identity_of(state(ctx), var).public_key_bytes());
    ctx.set(var, field);
    line += " " + field;
  }
  if (auto f = ctx.connect(s.conn, ctx.deadline({}, 5000), arg(s, ctx, "from", "")); !f.empty()) return f;
  return registers(ctx, s.conn, user, line);
}

// The engine's client accepts the port of the round, in its profile's form (acceptance): `port`.
std::string accept_port(const step& s, case_context& ctx) {
  return ctx.send(s.conn, acceptance(ctx, arg(s, ctx, "port")));
}

// `value` must equal `equals`; `what` names it in the failure. Checks one field of a message that another
// step matched, so that each field's rule is judged on its own (STARTCHAT's address: PC-START-02).
std::string check(const step& s, case_context& ctx) {
  std::string value = arg(s, ctx, "value"), wanted = arg(s, ctx, "equals");
  if (value == wanted) return {};
  return arg(s, ctx, "what", "the value") + " is '" + value + "', not '" + wanted + "'";
}

// Refuses `rounds` rounds of a negotiation that has just started (CHAT sent; its bare OK, if any, is passed
// over), the requester refusing (`by: requester`) or the target (`by: target`), and checks every port: in
// 40000-59999, never repeated (PC-PORT-01), offered to the requester first (PC-PORT-02), a new round after
// each refusal (PC-PORT-04). Stores the last port in ${port_n}.
std::string refuse_rounds(const step& s, case_context& ctx) {
  std::string requester = arg(s, ctx, "requester"), target = arg(s, ctx, "target"), by = arg(s, ctx, "by");
  int rounds = static_cast<int>(number(s, ctx, "rounds", 1));
  std::set<std::string> offered;
  for (int round = 1; round <= rounds; ++round) {
    auto where = "round " + std::to_string(round) + ": ";
    // PC-CHAT-04's OK is another rule's business: passed over before the first PORT.
    std::vector<std::string> skip = round == 1 ? std::vector<std::string>{"^OK$"} : std::vector<std::string>{};
    auto f = ctx.expect(requester, {"^PORT ([0-9]+)$"}, ctx.deadline({}, 3000), {"port_n"}, false, std::nullopt, skip);
    if (!f.empty()) return ctx.blame(round == 1 ? "PC-PORT-02" : "PC-PORT-04", where + f);
    std::string port = ctx.get("port_n");
    unsigned long n = std::stoul(port);
    if (!pc::valid_chat_port(static_cast<unsigned>(n))) return where + "port " + port + " is outside 40000-59999";
    if (!offered.insert(port).second) return where + "port " + port + " was offered before in this negotiation";
    if (by == "requester") {
      if (auto g = ctx.send(requester, as_line("ERROR Port_unavailable")); !g.empty()) return g;
      continue;
    }
    if (auto g = ctx.send(requester, acceptance(ctx, port)); !g.empty()) return g;
    f = ctx.expect(target, {"^PORT " + port + "$"}, ctx.deadline({}, 3000));
    if (!f.empty()) return ctx.blame("PC-PORT-02", where + f);
    if (auto g = ctx.send(target, as_line("ERROR Port_unavailable")); !g.empty()) return g;
  }
  return {};
}

// Opens `count` connections (default ${maxconn}) named fill1..fillN and checks each stays open.
// With `register: PREFIX` each registers as PREFIX1..PREFIXN (a server full of users, not of strangers).
std::string fill(const step& s, case_context& ctx) {
  int count = static_cast<int>(number(s, ctx, "count", ctx.ms(duration_expr{"maxconn"}, 1024)));
  std::string prefix = arg(s, ctx, "register", "");
  for (int i = 1; i <= count; ++i) {
    std::string conn = "fill" + std::to_string(i);
    if (auto f = ctx.connect(conn, ctx.deadline({}, 3000)); !f.empty()) return f;
    if (prefix.empty()) continue;
    std::string user = prefix + std::to_string(i);
    if (auto f = registers(ctx, conn, user, "REGISTER " + user); !f.empty()) return f;
  }
  return {};
}

// Client-role prologue: the client's HELLO and REGISTER, answered as a peerchat/1 server (`v2: false`), a
// peerchat/2 one (`v2: true`, for cases of the peerchat/2 profile), or by default as a peerchat/2 server
// answers what the client said (PC-HELLO-02): HELLO peerchat/2 to HELLO peerchat/2, else HELLO. A client that
// registers without a HELLO never learns of peerchat/2 and is served as by a peerchat/1 server. Stores the
// client's key (${client_key}) when it sends one.
std::string greet(const step& s, case_context& ctx) {
  auto& st = state(ctx);
  auto f = ctx.expect(s.conn, {"^(HELLO( peerchat/2)?|REGISTER .*)$"}, ctx.deadline({}, 5000), {"client_first"});
  if (!f.empty()) return f;
  std::string first = ctx.get("client_first");
  bool said_hello = first.starts_with("HELLO");
  bool client_v2 = first == "HELLO peerchat/2";
  if (s.args["v2"] && flag(s, "v2") && !client_v2)
    // A peerchat/1-only client is no defect, and this case needs peerchat/2: it cannot be judged here.
    throw case_error("the client said '" + first + "', not HELLO peerchat/2: it speaks peerchat/1 only, and this "
                     "case is about peerchat/2 (run with --profile v1 to skip the peerchat/2 cases)");
  st.version2 = s.args["v2"] ? flag(s, "v2") : client_v2;
  std::string registration = first;
  if (said_hello) {
    if (auto g = ctx.send(s.conn, pc::hello_line(st.version2)); !g.empty()) return g;
    f = ctx.expect(s.conn, {"^(REGISTER .*)$"}, ctx.deadline({}, 3000), {"client_first"});
    if (!f.empty()) return f;
    registration = ctx.get("client_first");
  } else {
    st.version2 = false;
  }
  std::smatch m;
  static const std::regex form("^REGISTER ([^ ]+)( ed25519:[0-9a-f]{64})?$");
  if (!std::regex_match(registration, m, form))
    return ctx.blame("PC-KEY-02", "the client registered with '" + registration + "', not REGISTER <name> [ed25519:<key>]");
  st.client_name = m[1].str();
  ctx.set("client_name", st.client_name);
  std::string key = m[2].str();
  if (!key.empty()) {
    key.erase(0, 1);
    if (!st.version2) return ctx.blame("PC-KEY-02", "the client sent a key to a server that answered a bare HELLO");
    auto parsed = pc::parse_public_key(key);
    if (!parsed) return ctx.blame("PC-KEY-02", "the client's key is malformed: " + key);
    st.client_key = *parsed;
    ctx.set("client_key", key);
  } else if (st.version2) {
    return ctx.blame("PC-KEY-02", "the client did not register a key with a server that answered HELLO peerchat/2");
  }
  return ctx.send(s.conn, pc::registered_line(st.client_name));
}

// Offers a port, takes the client's answer, and starts the chat: binds the engine's UDP peer on
// 127.0.0.2:n, sends PORT n, expects the acceptance (OK n to a peerchat/2 server, OK twice to a
// peerchat/1 one: PC-CLI-03, see two_oks), then STARTCHAT 127.0.0.2 n <peer> [key]. `key`: the engine identity
// whose key STARTCHAT carries (none: no fifth field); `sign_as`: the identity the engine's peer proves
// (default the same). With `v2: true` the engine's peer speaks peerchat/2.
std::string start_chat(const step& s, case_context& ctx) {
  auto& st = state(ctx);
  st.peer_name = arg(s, ctx, "peer");
  std::string key_label = arg(s, ctx, "key", "none");
  std::string sign_as = arg(s, ctx, "sign_as", key_label == "none" ? "peer" : key_label.c_str());
  bool v2 = flag(s, "v2", key_label != "none");
  auto socket = bind_chat_port(engine_peer_ip, ctx.settings().tap, client_ip);
  if (!socket) return "cannot bind a UDP port on " + std::string(engine_peer_ip);
  unsigned short n = socket->port();
  ctx.set("n", std::to_string(n));
  if (auto f = ctx.send(s.conn, pc::port_line(n)); !f.empty()) return f;
  std::string port = std::to_string(n);
  // A refusal is the client's defect only if the port was free when the client tried it. The chat range
  // lies inside Linux's ephemeral range (32768-60999), so on a busy machine another process's socket can
  // take the port between the engine's check and the client's bind and let it go again before the engine
  // looks: a refusal runs the case once more on another random port, and only a second one is charged.
  auto refused = [&](const std::string& what, const std::string& f) {
    if (f.find("Port_unavailable") != std::string::npos) {
      bool held = !udp_port_free(client_ip, n);
      ctx.retry("the client refused UDP port " + port + " on " + client_ip +
                (held ? ", which another process held" : ", which another process may have held for a moment"));
      if (held) return "the client refused PORT " + port + ", which another process held: " + f;
    }
    return ctx.blame("PC-CLI-03", what + f);
  };
  if (st.version2) {
    auto f = ctx.expect(s.conn, {"^OK " + port + "$"}, ctx.deadline({}, 3000));
    if (!f.empty()) return refused("the answer to PORT " + port + " from a peerchat/2 client: ", f);
  } else {
    // PC-CLI-03's second OK is checked where a case asks for it (`two_oks: true`); elsewhere one is
    // enough to go on, and a second one is taken if it comes, so that each case tests its own rule.
    auto f = ctx.expect(s.conn, {"^OK$"}, ctx.deadline({}, 3000));
    if (!f.empty()) return refused("the answer to PORT " + port + " from a client of a peerchat/1 server: ", f);
    bool required = flag(s, "two_oks");
    f = ctx.expect(s.conn, {"^OK$"}, ctx.deadline({}, required ? 3000 : 200));
    if (!f.empty() && required) return ctx.blame("PC-CLI-03", "the second OK to a peerchat/1 server: " + f);
  }
  std::optional<pc::public_key> key;
  if (key_label != "none") key = identity_of(st, key_label).public_key_bytes();
  st.peer = std::make_shared<udp_peer>(std::move(socket), engine_peer_ip, client_ip, n);
  if (v2) {
    st.peer->session = std::make_unique<pc::secure_session>(identity_of(st, sign_as), st.peer_name, st.client_name);
    st.peer->authenticated = false;
  }
  return ctx.send(s.conn, pc::start_chat_line(engine_peer_ip, n, st.peer_name, key));
}

// PORT n for a port the engine itself holds on the client's address, so the client's bind fails and it
// must answer ERROR Port_unavailable (PC-CLI-03). The port stays taken until the case ends.
std::string offer_taken_port(const step& s, case_context& ctx) {
  auto socket = bind_chat_port(client_ip, ctx.settings().tap);
  if (!socket) return "cannot bind a UDP port on " + std::string(client_ip);
  unsigned short n = socket->port();
  state(ctx).squatters.push_back(std::move(socket));
  ctx.set("taken", std::to_string(n));
  return ctx.send(s.conn, pc::port_line(n));
}

}  // namespace parley::conform::peerchat_engine
