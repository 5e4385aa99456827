// The peerchat adapter: rendezvous lines over TCP, each matched as its printable text without the CR a
// CR LF terminator may add (a server's CR LF is one finding against PC-LINE-01, rendezvous_lines.hpp); the
// reference hub as built-in server; the preflight that tells peerchat/2 servers from peerchat/1-only ones;
// and the steps that play the other side of a chat: the engine as the rendezvous server for the client
// under test and as its UDP peer on 127.0.0.2, in peerchat/1 or peerchat/2, with an impairment layer on its
// own datagrams (spec/peerchat/spec.md §13).
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>

#include "conformance/adapters/peerchat/register_watch.hpp"
#include "conformance/adapters/peerchat/rendezvous_lines.hpp"
#include "conformance/adapters/peerchat/steps.hpp"
#include "conformance/engine/adapter.hpp"
#include "conformance/engine/builtin_host.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"
#include "impl/server/host/host.hpp"
#include "impl/server/peerchat/hub.hpp"

namespace parley::conform {
namespace {

namespace pc = parley::peerchat;
namespace steps = peerchat_engine;

constexpr const char* profile_v1 = "peerchat/1";
constexpr const char* profile_v2 = "peerchat/2";

class peerchat_adapter final : public adapter {
public:
  std::string protocol() const override { return "peerchat"; }
  unsigned short default_port() const override { return pc::default_port; }
  std::unique_ptr<message_framer> make_framer() const override { return make_framer_for(true); }
  // PC-LINE-01 binds a server's lines, not a client's.
  std::unique_ptr<message_framer> make_framer_for(bool from_target_server) const override {
    return std::make_unique<steps::rendezvous_lines>(4 * pc::max_line, from_target_server);
  }
  std::string encode(const std::string& text) const override { return text + "\n"; }
  std::unique_ptr<session_watcher> make_watcher() const override { return peerchat_watch::make_register_watcher(); }
  // port_timeout, register: the server's PORT-answer and registration timeouts; maxconn: its connection
  // limit; keepalive, peer_timeout, connect_timeout: the client's UDP timers.
  timing real_timing() const override {
    return {{{"port_timeout", 10000}, {"register", 60000}, {"maxconn", 1024},
             {"keepalive", 5000}, {"peer_timeout", 20000}, {"connect_timeout", 30000}}};
  }
  timing fast_timing() const override {
    return {{{"port_timeout", 600}, {"register", 700}, {"maxconn", 6},
             {"keepalive", 200}, {"peer_timeout", 600}, {"connect_timeout", 600}}};
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
  // The client's UDP timers: its timer cases need them as placeholders (or --real-time).
  std::vector<std::string> client_timing() const override { return {"keepalive", "peer_timeout", "connect_timeout"}; }
  // Most cases wait on UDP timers and pacing, not on the CPU.
  int default_jobs() const override { return 16; }

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
    ctx.set("peer_ip", steps::engine_peer_ip);
    ctx.set("client_ip", steps::client_ip);
    ctx.set("stranger_ip", steps::stranger_ip);
    return {};
  }
  void end_case(case_context& ctx) const override { ctx.objects().erase("peerchat.state"); }

  // Users of other cases never reach a case's connections: the hub sends nothing unasked.
  bool is_noise(const std::string&, const case_context&) const override { return false; }

  // A registration step's failure breaks the registration rule, whatever the case is about.
  std::string step_rule(const step& s) const override { return s.op == "peerchat.register" ? "PC-REG-01" : ""; }
  std::string independence_rule() const override { return "PC-CONN-03"; }
  std::string client_robustness_rule() const override { return "PC-CLI-01"; }
  std::string reference_server_arguments() const override {
    return "--port {port} --port-timeout {port_timeout} --register-timeout {register} --max-connections {maxconn}";
  }
  // CLOSE is valid in every state and is answered CLOSE before the server closes (PC-CLOSE-01); a session
  // the server has already ended gets nothing.
  std::string farewell(message_framer& framer) const override {
    auto* lines = dynamic_cast<steps::rendezvous_lines*>(&framer);
    return lines && lines->ended_by_server() ? "" : "CLOSE\n";
  }

  std::vector<std::string> profiles() const override { return {profile_v1, profile_v2}; }

  // HELLO peerchat/2 tells the two profiles apart (PC-HELLO-02): a peerchat/2 server echoes the version, a
  // peerchat/1-only one answers a bare HELLO. A server that greets first (against PC-CONN-02) is still
  // identified by its HELLO; anything else is another protocol.
  identity identify(case_context& ctx) const override {
    if (auto f = ctx.connect("preflight", ctx.deadline({}, 5000)); !f.empty()) return {f, {}, {}};
    if (auto f = ctx.send("preflight", pc::hello_line(true)); !f.empty()) return {f, {}, {}};
    std::optional<std::string> first;
    for (int line = 0; line < 3; ++line) {
      if (!ctx.expect("preflight", {"^(.*)$"}, ctx.deadline({}, 3000), {"preflight_line"}).empty()) break;
      std::string text = ctx.get("preflight_line");
      if (text == "HELLO peerchat/2") return {"", {profile_v1, profile_v2}, {}};
      if (text == "HELLO") return {"", {profile_v1}, "the target offers peerchat/1 only"};
      if (!first) first = text;
    }
    bool lost = ctx.trouble().lost;
    ctx.close("preflight", false);  // no farewell: whatever this is, it is not a peerchat session
    std::string what = first ? "to HELLO peerchat/2 it sent '" + *first + "' and no HELLO"
                       : lost ? "it closed the connection on HELLO peerchat/2 without a line (a TLS-only port? "
                                "the engine reaches peerchat servers over plain TCP only)"
                              : "it sent nothing in answer to HELLO peerchat/2 within 3 s";
    return {"the target does not speak peerchat: " + what + " (the preflight's wire log shows what it did)", {}, {}};
  }

  std::string run_step(const step& s, case_context& ctx) const override {
    using step_fn = std::string (*)(const step&, case_context&);
    static const std::map<std::string, step_fn> table = {
        {"register", steps::register_user},   {"refuse_rounds", steps::refuse_rounds},
        {"fill", steps::fill},                {"greet", steps::greet},
        {"start_chat", steps::start_chat},    {"offer_taken_port", steps::offer_taken_port},
        {"impair", steps::impair},            {"udp_send", steps::udp_send},
        {"udp_expect", steps::udp_expect},    {"udp_silence", steps::udp_silence},
        {"udp_rate", steps::udp_rate},        {"handshake", steps::handshake},
        {"seal", steps::seal},                {"replay", steps::replay},
        {"accept_port", steps::accept_port},  {"check", steps::check},
    };
    auto it = table.find(s.op.substr(std::string("peerchat.").size()));
    if (it == table.end()) throw case_error("unknown peerchat step " + s.op);
    return it->second(s, ctx);
  }

private:
  std::string dir_;
};

}  // namespace

std::unique_ptr<adapter> make_peerchat_adapter() { return std::make_unique<peerchat_adapter>(); }

}  // namespace parley::conform
