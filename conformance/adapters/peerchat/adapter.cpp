// The peerchat adapter: rendezvous lines over TCP, each matched as its printable text (a CR before the LF
// shows as \r, PC-LINE-01); the reference hub as built-in server; and the steps that play the other side
// of a chat: the engine as the rendezvous server for the client under test and as its UDP peer on
// 127.0.0.2, in peerchat/1 or peerchat/2, with an impairment layer on its own datagrams
// (spec/peerchat/spec.md §13).
#include <unistd.h>

#include <filesystem>
#include <map>

#include "conformance/adapters/peerchat/steps.hpp"
#include "conformance/engine/adapter.hpp"
#include "conformance/engine/builtin_host.hpp"
#include "conformance/engine/printable_lines.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"
#include "impl/server/host/host.hpp"
#include "impl/server/peerchat/hub.hpp"

namespace parley::conform {
namespace {

namespace pc = parley::peerchat;
namespace steps = peerchat_engine;

class peerchat_adapter final : public adapter {
public:
  std::string protocol() const override { return "peerchat"; }
  unsigned short default_port() const override { return pc::default_port; }
  std::unique_ptr<message_framer> make_framer() const override {
    return std::make_unique<printable_lines>(4 * pc::max_line);
  }
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
    ctx.set("peer_ip", steps::engine_peer_ip);
    ctx.set("client_ip", steps::client_ip);
    ctx.set("stranger_ip", steps::stranger_ip);
    return {};
  }
  void end_case(case_context& ctx) const override { ctx.objects().erase("peerchat.state"); }

  // Users of other cases never reach a case's connections: the hub sends nothing unasked.
  bool is_noise(const std::string&, const case_context&) const override { return false; }

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
