// The peerchat adapter: rendezvous lines over TCP, each matched as its printable text (a CR before the LF
// shows as \r, PC-LINE-01); the reference hub as built-in server; and the steps that play the other side
// of a chat: the engine as the rendezvous server for the client under test and as its UDP peer on
// 127.0.0.2, in peerchat/1 or peerchat/2, with an impairment layer on its own datagrams
// (spec/peerchat/spec.md §13).
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "conformance/adapters/peerchat/udp_peer.hpp"
#include "conformance/engine/adapter.hpp"
#include "conformance/engine/builtin_host.hpp"
#include "conformance/engine/runner.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/peerchat/datagram.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"
#include "impl/proto/peerchat/secure.hpp"
#include "impl/server/host/host.hpp"
#include "impl/server/peerchat/hub.hpp"

namespace parley::conform {
namespace {

namespace pc = parley::peerchat;
using peerchat_engine::received;
using peerchat_engine::udp_peer;

// The engine's UDP peer lives on a second loopback address, so that it and the client under test (bound to
// 127.0.0.1, the address it reaches the engine from) can both use port n (spec R10).
constexpr const char* engine_peer_ip = "127.0.0.2";
constexpr const char* client_ip = "127.0.0.1";
// A sender that is neither peer, for the wrong-address checks of PC-UDP-01/-08.
constexpr const char* stranger_ip = "127.0.0.3";

class line_text final : public message_framer {
public:
  void feed(std::string_view bytes) override { pending_.append(bytes); }
  std::optional<std::string> next(std::string& error) override {
    auto lf = pending_.find('\n');
    if (lf == std::string::npos) {
      if (pending_.size() > 4 * pc::max_line) error = "more than 2048 bytes without a line ending";
      return std::nullopt;
    }
    std::string line = pending_.substr(0, lf);
    pending_.erase(0, lf + 1);
    return core::printable(line);
  }

private:
  std::string pending_;
};

std::string arg(const step& s, const case_context& ctx, const char* key, const char* fallback = nullptr) {
  if (!s.args.IsMap() || !s.args[key]) {
    if (!fallback) throw case_error(s.op + " needs '" + key + "' (line " + std::to_string(s.line) + ")");
    return ctx.substitute(fallback);
  }
  return ctx.substitute(s.args[key].as<std::string>());
}
bool flag(const step& s, const char* key, bool fallback = false) {
  return s.args.IsMap() && s.args[key] ? s.args[key].as<bool>() : fallback;
}
double number(const step& s, const case_context& ctx, const char* key, double fallback) {
  if (!s.args.IsMap() || !s.args[key]) return fallback;
  return ctx.ms(duration_expr{s.args[key].as<std::string>()}, fallback);
}

// Per-case state the steps share, kept in case_context::objects().
struct chat_state {
  std::shared_ptr<udp_peer> peer;
  std::map<std::string, std::shared_ptr<pc::identity>> identities;  // the engine's users' long-term keys
  std::string peer_name;      // the engine's user in the chat
  std::string client_name;    // the implementation's user
  std::optional<pc::public_key> client_key;  // from the client's REGISTER
  bool version2 = false;      // the engine answered HELLO peerchat/2
  std::vector<std::unique_ptr<net::udp_socket>> squatters;  // ports held so the client cannot bind them
};

chat_state& state(case_context& ctx) {
  auto& slot = ctx.objects()["peerchat.state"];
  if (!slot.has_value()) slot = std::make_shared<chat_state>();
  return *std::any_cast<std::shared_ptr<chat_state>&>(slot);
}

pc::identity& identity_of(chat_state& st, const std::string& label) {
  auto& slot = st.identities[label];
  if (!slot) {
    auto made = pc::identity::generate();
    if (!made) throw case_error("cannot make an Ed25519 key: " + made.error().message());
    slot = std::make_shared<pc::identity>(std::move(*made));
  }
  return *slot;
}

udp_peer& peer_of(case_context& ctx, const step& s) {
  auto& st = state(ctx);
  if (!st.peer) throw case_error(s.op + " before peerchat.start_chat (line " + std::to_string(s.line) + ")");
  return *st.peer;
}

class peerchat_adapter final : public adapter {
public:
  std::string protocol() const override { return "peerchat"; }
  unsigned short default_port() const override { return pc::default_port; }
  std::unique_ptr<message_framer> make_framer() const override { return std::make_unique<line_text>(); }
  std::string encode(const std::string& text) const override { return text + "\n"; }
  // port_timeout, register: the server's PORT-answer and registration timeouts; maxconn: its connection
  // limit; keepalive, peer_timeout, connect_timeout: the client's UDP timers.
  timing real_timing() const override {
    return {{{"port_timeout", 10000}, {"register", 60000}, {"maxconn", 1024},
             {"keepalive", 5000}, {"peer_timeout", 20000}, {"connect_timeout", 30000}}};
  }
  timing fast_timing() const override {
    return {{{"port_timeout", 600}, {"register", 700}, {"maxconn", 6},
             {"keepalive", 300}, {"peer_timeout", 900}, {"connect_timeout", 900}}};
  }
  std::unique_ptr<builtin_server> start_builtin(const timing& t) const override {
    auto ms = [&](const char* name) { return millis(static_cast<long long>(t.vars.at(name))); };
    return std::make_unique<builtin_host<pc::hub>>(
        "peerchat",
        pc::hub_options{.port_timeout = ms("port_timeout"),
                        .register_timeout = ms("register"),
                        .max_connections = static_cast<std::size_t>(t.vars.at("maxconn"))},
        host::host_options{.transport = host::transport::tcp});
  }
  std::string reference_client_command(const std::string& bin_dir) const override {
    return "'" + bin_dir + "/parley-client' peerchat --host 127.0.0.1 --port {port} --name {name} "
           "--identity '{dir}/{name}.key' --contacts '{dir}/{name}.contacts' --keepalive {keepalive} "
           "--peer-timeout {peer_timeout} --connect-timeout {connect_timeout} --script -";
  }
  std::map<std::string, std::string> placeholders() const override { return {{"dir", dir_}}; }
  // Most cases wait on UDP timers and pacing, not on the CPU.
  int default_jobs() const override { return 8; }

  std::string prepare(const run_settings&) override {
    dir_ = (std::filesystem::temp_directory_path() / ("parley-peerchat-" + std::to_string(getpid()))).string();
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    return ec ? "cannot make " + dir_ + ": " + ec.message() : "";
  }
  ~peerchat_adapter() override {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string begin_case(case_context& ctx, bool) const override {
    ctx.set("peer_ip", engine_peer_ip);
    ctx.set("client_ip", client_ip);
    ctx.set("stranger_ip", stranger_ip);
    return {};
  }
  void end_case(case_context& ctx) const override { ctx.objects().erase("peerchat.state"); }

  // Users of other cases never reach a case's connections: the hub sends nothing unasked.
  bool is_noise(const std::string&, const case_context&) const override { return false; }

  std::string run_step(const step& s, case_context& ctx) const override {
    std::string name = s.op.substr(std::string("peerchat.").size());
    if (name == "register") return register_user(s, ctx);
    if (name == "refuse_rounds") return refuse_rounds(s, ctx);
    if (name == "fill") return fill(s, ctx);
    if (name == "greet") return greet(s, ctx);
    if (name == "start_chat") return start_chat(s, ctx);
    if (name == "offer_taken_port") return offer_taken_port(s, ctx);
    if (name == "impair") return impair(s, ctx);
    if (name == "udp_send") return udp_send(s, ctx);
    if (name == "udp_expect") return udp_expect(s, ctx);
    if (name == "udp_silence") return udp_silence(s, ctx);
    if (name == "udp_rate") return udp_rate(s, ctx);
    if (name == "handshake") return handshake(s, ctx);
    if (name == "seal") return seal(s, ctx);
    if (name == "replay") return replay(s, ctx);
    throw case_error("unknown peerchat step " + s.op);
  }

private:
  // connect [from], REGISTER name [key], REGISTERED name OK. `key: var` registers an engine-made Ed25519
  // key and stores its field in ${var}.
  std::string register_user(const step& s, case_context& ctx) const {
    std::string user = arg(s, ctx, "user");
    std::string line = "REGISTER " + user;
    if (s.args["key"]) {
      std::string var = s.args["key"].as<std::string>();
      auto field = pc::format_public_key(identity_of(state(ctx), var).public_key_bytes());
      ctx.set(var, field);
      line += " " + field;
    }
    if (auto f = ctx.connect(s.conn, ctx.deadline({}, 5000), arg(s, ctx, "from", "")); !f.empty()) return f;
    if (auto f = ctx.send(s.conn, encode(line)); !f.empty()) return f;
    auto f = ctx.expect(s.conn, {"^REGISTERED " + ctx.substitute(user, true) + " OK$"}, ctx.deadline({}, 3000));
    return f.empty() ? "" : "registration of " + user + ": " + f;
  }

  // Refuses `rounds` rounds of a negotiation that has just started (after the bare OK), the requester
  // refusing (`by: requester`) or the target (`by: target`), and checks every port: in 40000-59999, never
  // repeated (PC-PORT-01), offered to the requester first (PC-PORT-02). Stores the last port in ${port_n}.
  std::string refuse_rounds(const step& s, case_context& ctx) const {
    std::string requester = arg(s, ctx, "requester"), target = arg(s, ctx, "target"), by = arg(s, ctx, "by");
    int rounds = static_cast<int>(number(s, ctx, "rounds", 1));
    std::set<std::string> offered;
    for (int round = 1; round <= rounds; ++round) {
      auto where = "round " + std::to_string(round) + ": ";
      auto f = ctx.expect(requester, {"^PORT ([0-9]+)$"}, ctx.deadline({}, 3000), {"port_n"});
      if (!f.empty()) return where + f;
      std::string port = ctx.get("port_n");
      unsigned long n = std::stoul(port);
      if (!pc::valid_chat_port(static_cast<unsigned>(n))) return where + "port " + port + " is outside 40000-59999";
      if (!offered.insert(port).second) return where + "port " + port + " was offered before in this negotiation";
      if (by == "requester") {
        if (auto g = ctx.send(requester, encode("ERROR Port_unavailable")); !g.empty()) return g;
        continue;
      }
      if (auto g = ctx.send(requester, encode("OK " + port)); !g.empty()) return g;
      f = ctx.expect(target, {"^PORT " + port + "$"}, ctx.deadline({}, 3000));
      if (!f.empty()) return where + f;
      if (auto g = ctx.send(target, encode("ERROR Port_unavailable")); !g.empty()) return g;
    }
    return {};
  }

  // Opens `count` connections (default ${maxconn}) named fill1..fillN and checks each stays open.
  std::string fill(const step& s, case_context& ctx) const {
    int count = static_cast<int>(number(s, ctx, "count", ctx.ms(duration_expr{"maxconn"}, 1024)));
    for (int i = 1; i <= count; ++i)
      if (auto f = ctx.connect("fill" + std::to_string(i), ctx.deadline({}, 3000)); !f.empty()) return f;
    return {};
  }

  // Client-role prologue: the client's HELLO and REGISTER, answered as a peerchat/1 server (`v2: false`) or
  // a peerchat/2 one. Stores the client's key (${client_key}) when it sends one.
  std::string greet(const step& s, case_context& ctx) const {
    auto& st = state(ctx);
    st.version2 = flag(s, "v2", true);
    auto f = ctx.expect(s.conn, {"^HELLO( peerchat/2)?$"}, ctx.deadline({}, 5000));
    if (!f.empty()) return f;
    if (auto g = ctx.send(s.conn, pc::hello_line(st.version2)); !g.empty()) return g;
    f = ctx.expect(s.conn, {"^REGISTER ([^ ]+)( ed25519:[0-9a-f]{64})?$"}, ctx.deadline({}, 3000),
                   {"client_name", "client_key_field"});
    if (!f.empty()) return f;
    st.client_name = ctx.get("client_name");
    std::string key = ctx.get("client_key_field");
    if (!key.empty()) {
      key.erase(0, 1);
      if (!st.version2) return "the client sent a key to a server that answered a bare HELLO (PC-KEY-02)";
      auto parsed = pc::parse_public_key(key);
      if (!parsed) return "the client's key is malformed: " + key;
      st.client_key = *parsed;
      ctx.set("client_key", key);
    } else if (st.version2) {
      return "the client did not register a key with a server that answered HELLO peerchat/2 (PC-KEY-02)";
    }
    return ctx.send(s.conn, pc::registered_line(st.client_name));
  }

  // Offers a port, takes the client's answer, and starts the chat: binds the engine's UDP peer on
  // 127.0.0.2:n, sends PORT n, expects the acceptance (OK n to a peerchat/2 server, OK twice to a
  // peerchat/1 one: PC-CLI-03, see two_oks), then STARTCHAT 127.0.0.2 n <peer> [key]. `key`: the engine identity
  // whose key STARTCHAT carries (none: no fifth field); `sign_as`: the identity the engine's peer proves
  // (default the same). With `v2: true` the engine's peer speaks peerchat/2.
  std::string start_chat(const step& s, case_context& ctx) const {
    auto& st = state(ctx);
    st.peer_name = arg(s, ctx, "peer");
    std::string key_label = arg(s, ctx, "key", "none");
    std::string sign_as = arg(s, ctx, "sign_as", key_label == "none" ? "peer" : key_label.c_str());
    bool v2 = flag(s, "v2", key_label != "none");
    std::unique_ptr<net::udp_socket> socket;
    unsigned short n = 0;
    std::random_device seed;
    for (int attempt = 0; attempt < 50 && !socket; ++attempt) {
      n = static_cast<unsigned short>(pc::first_chat_port + seed() % (pc::last_chat_port - pc::first_chat_port + 1));
      auto bound = net::bind_udp(engine_peer_ip, n);
      if (bound) socket = std::move(*bound);
    }
    if (!socket) return "cannot bind a UDP port on " + std::string(engine_peer_ip);
    ctx.set("n", std::to_string(n));
    if (auto f = ctx.send(s.conn, pc::port_line(n)); !f.empty()) return f;
    std::string port = std::to_string(n);
    if (st.version2) {
      auto f = ctx.expect(s.conn, {"^OK " + port + "$"}, ctx.deadline({}, 3000));
      if (!f.empty()) return "the answer to PORT " + port + " from a peerchat/2 client: " + f;
    } else {
      // PC-CLI-03's second OK is checked where a case asks for it (`two_oks: true`); elsewhere one is
      // enough to go on, and a second one is taken if it comes, so that each case tests its own rule.
      auto f = ctx.expect(s.conn, {"^OK$"}, ctx.deadline({}, 3000));
      if (!f.empty()) return "the answer to PORT " + port + " from a client of a peerchat/1 server: " + f;
      bool required = flag(s, "two_oks");
      f = ctx.expect(s.conn, {"^OK$"}, ctx.deadline({}, required ? 3000 : 200));
      if (!f.empty() && required) return "the second OK to a peerchat/1 server: " + f;
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
  std::string offer_taken_port(const step& s, case_context& ctx) const {
    auto& st = state(ctx);
    std::random_device seed;
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto n = static_cast<unsigned short>(pc::first_chat_port + seed() % (pc::last_chat_port - pc::first_chat_port + 1));
      auto bound = net::bind_udp(client_ip, n);
      if (!bound) continue;
      st.squatters.push_back(std::move(*bound));
      ctx.set("taken", std::to_string(n));
      return ctx.send(s.conn, pc::port_line(n));
    }
    return "cannot bind a UDP port on " + std::string(client_ip);
  }

  std::string impair(const step& s, case_context& ctx) const {
    auto& peer = peer_of(ctx, s);
    peerchat_engine::impairment i;
    i.drop = number(s, ctx, "drop", 0);
    i.duplicate = number(s, ctx, "duplicate", 0);
    i.reorder = number(s, ctx, "reorder", 0);
    peer.impair(i);
    ctx.note("udp", '*', "impairment: drop " + std::to_string(i.drop) + ", duplicate " + std::to_string(i.duplicate) +
                             ", reorder " + std::to_string(i.reorder));
    return {};
  }

  // A datagram from the engine's peer: `text` (exact bytes, YAML escapes allowed) or `type`/`user`/`body`
  // in the original's layout. `from: stranger` sends it from 127.0.0.3 instead; `impaired: true` lets the
  // impairment layer handle it. `repeat` sends it that many times, `gap` ms apart.
  std::string udp_send(const step& s, case_context& ctx) const {
    auto& peer = peer_of(ctx, s);
    std::string bytes;
    if (s.args["text"]) {
      bytes = arg(s, ctx, "text");
    } else if (flag(s, "forged_hello")) {
      // A HELLO under the engine peer's name with an ephemeral key of its own: what an injector would send
      // (PC-HS-02 says the first HELLO stays).
      auto& st = state(ctx);
      pc::secure_session forger(identity_of(st, "forger"), st.peer_name, st.client_name);
      bytes = forger.hello();
    } else {
      std::string type = arg(s, ctx, "type");
      bytes = arg(s, ctx, "user", state(ctx).peer_name.c_str()) + "\n" + type + "\n" + arg(s, ctx, "body", "") + "\n\n";
    }
    if (s.args["pad_to"]) {
      auto size = static_cast<std::size_t>(number(s, ctx, "pad_to", 0));
      if (bytes.size() < size) bytes.insert(bytes.size() - 2, size - bytes.size(), 'x');
    }
    int repeat = static_cast<int>(number(s, ctx, "repeat", 1));
    auto gap = millis(static_cast<long long>(number(s, ctx, "gap", 0)));
    bool stranger = arg(s, ctx, "from", "peer") == "stranger";
    for (int i = 0; i < repeat; ++i) {
      if (i && gap.count()) std::this_thread::sleep_for(gap);
      std::string note;
      std::string f;
      if (stranger) {
        auto other = net::bind_udp(stranger_ip, 0);
        if (!other) return "cannot bind " + std::string(stranger_ip) + ": " + other.error().message();
        auto ec = (*other)->send_to(bytes, client_ip, peer.port());
        f = ec ? "cannot send: " + ec.message() : "";
        note = "from " + std::string(stranger_ip);
      } else if (flag(s, "impaired")) {
        f = peer.send(bytes, note);
      } else {
        f = peer.send_raw(bytes);
      }
      ctx.note("udp", '>', core::printable(bytes.substr(0, 120)) + (note.empty() ? "" : "  [" + note + "]"));
      if (!f.empty()) return f;
    }
    return {};
  }

  // The next datagram from the client (FOREIGN ones included) must match; `skip` regexes pass over
  // datagrams such as repeated Connects; `capture` names variables for the regex's groups. peerchat/2
  // datagrams are opened by the engine's session.
  std::string udp_expect(const step& s, case_context& ctx) const {
    auto& peer = peer_of(ctx, s);
    std::regex want(arg(s, ctx, "match"));
    std::vector<std::regex> skip;
    if (s.args["skip"])
      for (const auto& p : s.args["skip"]) skip.emplace_back(ctx.substitute(p.as<std::string>()));
    auto deadline = ctx.deadline(s.within.empty() ? duration_expr{arg(s, ctx, "within", "2000")} : s.within, 2000);
    for (;;) {
      auto r = peer.receive(deadline);
      if (!r) return "no datagram matching /" + arg(s, ctx, "match") + "/ arrived in time";
      ctx.note("udp", '<', r->rendered);
      std::smatch groups;
      if (std::regex_search(r->rendered, groups, want)) {
        if (s.args["capture"])
          for (std::size_t i = 0; i < s.args["capture"].size() && i + 1 < groups.size(); ++i)
            ctx.set(s.args["capture"][i].as<std::string>(), groups[i + 1].str());
        return {};
      }
      bool skipped = false;
      for (const auto& k : skip) skipped = skipped || std::regex_search(r->rendered, k);
      if (!skipped) return "unexpected datagram: " + r->rendered;
    }
  }

  // No datagram (other than ones matching `ignore`) for `ms`.
  std::string udp_silence(const step& s, case_context& ctx) const {
    auto& peer = peer_of(ctx, s);
    std::optional<std::regex> ignore;
    if (s.args["ignore"]) ignore.emplace(arg(s, ctx, "ignore"));
    auto until = ctx.deadline(duration_expr{arg(s, ctx, "ms", "500")}, 500);
    for (;;) {
      auto r = peer.receive(until);
      if (!r) return {};
      ctx.note("udp", '<', r->rendered);
      if (!ignore || !std::regex_search(r->rendered, *ignore)) return "expected silence, got: " + r->rendered;
    }
  }

  // Counts the datagrams matching `match` during `ms` and checks min <= count <= max (PC-UDP-05: not a
  // tight loop, but regular).
  std::string udp_rate(const step& s, case_context& ctx) const {
    auto& peer = peer_of(ctx, s);
    std::regex want(arg(s, ctx, "match"));
    double ms = number(s, ctx, "ms", 1000);
    auto until = ctx.deadline(duration_expr{std::to_string(ms)}, ms);
    long count = 0, other = 0;
    while (auto r = peer.receive(until)) {
      if (std::regex_search(r->rendered, want)) ++count;
      else ++other;
      if (count + other <= 20) ctx.note("udp", '<', r->rendered);
    }
    auto lo = static_cast<long>(number(s, ctx, "min", 0)), hi = static_cast<long>(number(s, ctx, "max", 1e9));
    ctx.note("udp", '*', std::to_string(count) + " matching datagrams in " + std::to_string(ms) + " ms");
    if (count < lo || count > hi)
      return std::to_string(count) + " matching datagrams in " + std::to_string(static_cast<long>(ms)) +
             " ms; expected " + std::to_string(lo) + " to " + std::to_string(hi);
    return {};
  }

  // The engine's half of the peerchat/2 handshake (PC-HS-02..07): HELLO, then AUTH once keyed, resent every
  // 250 ms, until the client's AUTH has verified — its key must be the one it registered — and it has
  // confirmed ours. `expect_refusal: true` instead requires that the client never confirms us within `within`.
  std::string handshake(const step& s, case_context& ctx) const {
    auto& st = state(ctx);
    auto& peer = peer_of(ctx, s);
    if (!peer.session) throw case_error("peerchat.handshake in a peerchat/1 chat (line " + std::to_string(s.line) + ")");
    bool refusal = flag(s, "expect_refusal");
    auto deadline = ctx.deadline(duration_expr{arg(s, ctx, "within", "3000")}, 3000);
    bool confirmed = false;
    auto next_send = clock_type::now();
    while (clock_type::now() < deadline) {
      if (clock_type::now() >= next_send) {
        if (auto f = send_handshake(peer, ctx); !f.empty()) return f;
        next_send = clock_type::now() + millis(250);
      }
      auto r = peer.receive(std::min(deadline, next_send));
      if (!r) continue;
      ctx.note("udp", '<', r->rendered);
      if (!r->event) continue;
      using kind = pc::secure_event::kind;
      if (r->event->what == kind::peer_proved) {
        if (st.client_key && r->event->peer_key != *st.client_key)
          return "the client proved a key other than the one it registered";
        if (!peer.authenticated) {
          peer.session->accept_peer();
          peer.authenticated = true;
          next_send = clock_type::now();  // tell it at once
        }
        confirmed = confirmed || r->event->peer_confirmed;
      } else if (r->event->what == kind::msg || r->event->what == kind::keepalive || r->event->what == kind::close) {
        confirmed = peer.authenticated;
      }
      if (peer.authenticated && confirmed && !refusal) return send_handshake(peer, ctx);
    }
    if (refusal) return confirmed ? "the client accepted the engine's AUTH" : "";
    return peer.authenticated ? "the client never confirmed the engine's AUTH" : "no valid AUTH from the client";
  }

  std::string send_handshake(udp_peer& peer, case_context& ctx) const {
    std::string note;
    if (auto f = peer.send(peer.session->hello(), note); !f.empty()) return f;
    ctx.note("udp", '>', "HELLO" + (note.empty() ? "" : "  [" + note + "]"));
    if (!peer.session->has_keys()) return {};
    auto auth = peer.session->auth();
    if (!auth) return "cannot make AUTH: " + auth.error().message();
    peer.last_sealed = *auth;
    if (auto f = peer.send(*auth, note); !f.empty()) return f;
    ctx.note("udp", '>', std::string("AUTH flags=") + (peer.authenticated ? "1" : "0") + (note.empty() ? "" : "  [" + note + "]"));
    return {};
  }

  // A sealed record from the engine's peer: `type: msg|close|keepalive`, `text` for msg.
  std::string seal(const step& s, case_context& ctx) const {
    auto& peer = peer_of(ctx, s);
    if (!peer.session) throw case_error("peerchat.seal in a peerchat/1 chat");
    std::string type = arg(s, ctx, "type");
    pc::record_type t = type == "msg" ? pc::record_type::msg : type == "close" ? pc::record_type::close
                                                                                 : pc::record_type::keepalive;
    auto record = peer.session->seal(t, t == pc::record_type::msg ? arg(s, ctx, "text") : "");
    if (!record) return "cannot seal: " + record.error().message();
    peer.last_sealed = *record;
    std::string note;
    auto f = flag(s, "impaired") ? peer.send(*record, note) : peer.send_raw(*record);
    ctx.note("udp", '>', type + " seq " + std::to_string(peer.session->next_seq() - 1) +
                             (note.empty() ? "" : "  [" + note + "]"));
    return f;
  }

  // Sends the last sealed record again, byte for byte (PC-REPLAY-01); `tamper: true` flips a ciphertext bit.
  std::string replay(const step& s, case_context& ctx) const {
    auto& peer = peer_of(ctx, s);
    if (peer.last_sealed.empty()) throw case_error("peerchat.replay before any sealed record");
    std::string bytes = peer.last_sealed;
    if (flag(s, "tamper")) bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    ctx.note("udp", '>', flag(s, "tamper") ? "the last record with one bit flipped" : "the last record again");
    return peer.send_raw(bytes);
  }

  std::string dir_;
};

}  // namespace

std::unique_ptr<adapter> make_peerchat_adapter() { return std::make_unique<peerchat_adapter>(); }

}  // namespace parley::conform
