// The sslmessager adapter: text lines over TLS, read as the spec's receiver reads them (content_lines.hpp:
// cases match the content, and a line of the wrong form is one finding against SSLM-FRAME-01); the
// reference hub as built-in server on a certificate made for the run; accounts made for the run or given
// with --user NAME:PASSWORD; the steps that log in and probe the TLS layer itself; and the engine's manners
// toward a target: a login as the preflight, END to end a session, CHECK passed over
// (spec/sslmessager/spec.md).
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>

#include "conformance/adapters/sslmessager/content_lines.hpp"
#include "conformance/adapters/sslmessager/relay_watch.hpp"
#include "conformance/engine/adapter.hpp"
#include "conformance/engine/builtin_host.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/user_lease.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/x509.hpp"
#include "impl/core/encoding.hpp"
#include "impl/server/host/host.hpp"
#include "impl/server/sslmessager/hub.hpp"

namespace parley::conform {
namespace {

using namespace sslmessager;

// A case's accounts are ${aaa}, ${bbb} and ${ccc} (with ${aaa_pw} ...): three, the fewest a target's
// operator must give with --user. The engine makes five when it makes the run's own.
constexpr const char* case_users[] = {"aaa", "bbb", "ccc"};
constexpr const char* run_accounts[] = {"aaa", "bbb", "ccc", "ddd", "eee"};
constexpr const char* login_rule = "SSLM-AUTH-03";

std::string arg(const step& s, const case_context& ctx, const char* key, const std::string& fallback = "\x01") {
  if (!s.args.IsMap() || !s.args[key]) {
    if (fallback == "\x01") throw case_error(s.op + " needs '" + key + "' (line " + std::to_string(s.line) + ")");
    return ctx.substitute(fallback);
  }
  return ctx.substitute(s.args[key].as<std::string>());
}

// `text` as a regular expression that matches exactly it (names may hold '.').
std::string literal(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view(R"(\^$.|?*+()[]{}/)").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

class sslmessager_adapter final : public adapter {
public:
  ~sslmessager_adapter() override {
    if (!own_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(own_dir_, ignored);
    }
  }

  std::string protocol() const override { return "sslmessager"; }
  unsigned short default_port() const override { return sslmessager::default_port; }
  std::unique_ptr<message_framer> make_framer() const override {
    return std::make_unique<sslmessager_lines>(2 * max_message);
  }
  // A client under test: a line break in its MSG text is its SSLM-CLIENT-03 defect (content_lines.hpp).
  std::unique_ptr<message_framer> make_framer_for(bool from_target_server) const override {
    return std::make_unique<sslmessager_lines>(2 * max_message, !from_target_server);
  }
  std::unique_ptr<session_watcher> make_watcher() const override { return sslmessager_watch::make_relay_watcher(); }
  std::string encode(const std::string& text) const override { return wire(text); }  // content SP CR LF
  // check: the CHECK interval; login: how long a connection may stay without AUTH.
  timing real_timing() const override { return {{{"check", 60000}, {"login", 120000}}}; }
  timing fast_timing() const override { return {{{"check", 300}, {"login", 1000}}}; }
  std::unique_ptr<builtin_server> start_builtin(const timing& t) const override {
    return std::make_unique<builtin_host<hub>>(
        "sslmessager",
        hub_options{.users = entries_,
                    .check_interval = millis(static_cast<long long>(t.vars.at("check"))),
                    .login_timeout = millis(static_cast<long long>(t.vars.at("login")))},
        host::host_options{.transport = host::transport::tls, .write_timeout = millis(10000),
                           .tls_certificate_pem = cert_pem_, .tls_key_pem = key_pem_});
  }
  std::string reference_client_command(const std::string& bin_dir) const override {
    return "'" + bin_dir + "/parley-client' sslmessager --host 127.0.0.1 --port {port} --name {name} "
                           "--password-file '{keys}/{name}.password' --ca '{keys}/server.crt' --script -";
  }
  std::map<std::string, std::string> placeholders() const override {
    return {{"keys", dir_}, {"cert", dir_ + "/server.crt"}, {"key", dir_ + "/server.key"}, {"users", dir_ + "/users"}};
  }
  result<std::unique_ptr<net::stream>> connect(const std::string& host, unsigned short port, time_point deadline,
                                               net::traffic_tap* tap) const override {
    // The engine tests the server, not its certificate: it does not verify (the client-role cases do).
    return net::connect_tls(host, port, {.insecure = true}, deadline, tap);
  }
  result<std::unique_ptr<net::listener>> listen(const std::string& host, net::traffic_tap* tap) const override {
    return net::listen_tls(host, 0, cert_pem_, key_pem_, tap);
  }

  std::string prepare(const run_settings& settings) override {
    own_dir_ = (std::filesystem::temp_directory_path() / ("parley-sslmessager-" + std::to_string(getpid()))).string();
    dir_ = own_dir_;
    std::filesystem::create_directories(dir_);
    auto key = core::pkey::generate_rsa(2048);
    auto cert = key ? core::make_self_signed_certificate(*key, "127.0.0.1", 2) : result<std::string>(key.error());
    if (!cert) return "cannot make the run's certificate";
    cert_pem_ = *cert;
    key_pem_ = key->private_pem();
    std::ofstream(dir_ + "/server.crt") << cert_pem_;
    std::ofstream(dir_ + "/server.key") << key_pem_;
    if (!settings.accounts.empty()) {
      for (const auto& account : settings.accounts) {
        auto colon = account.find(':');
        if (colon == std::string::npos || !valid_name(account.substr(0, colon)))
          return "--user takes NAME:PASSWORD, not '" + account + "'";
        accounts_[account.substr(0, colon)] = account.substr(colon + 1);
      }
      if (accounts_.size() < std::size(case_users))
        return "the suite needs at least 3 accounts the target knows: --user NAME:PASSWORD, 3 times";
    } else {
      if (settings.kind == target_kind::launch && settings.launch_command.find("{users}") == std::string::npos)
        return "the launched server must know the run's accounts: put --users {users} (and --cert {cert} --key {key}) "
               "in the --launch command, or give the target's accounts with --user NAME:PASSWORD";
      if (settings.kind == target_kind::address)
        return "a --target server's accounts are needed: --user NAME:PASSWORD, at least 3 times";
      for (const char* name : run_accounts) accounts_[name] = core::to_hex(core::random_bytes(6));
    }
    std::ofstream users(dir_ + "/users");
    for (const auto& [name, password] : accounts_) {
      auto entry = make_entry(name, password, {16384, 8, 1});
      if (!entry) return "scrypt failed";
      users << format_entry(*entry) << "\n";
      entries_[name] = std::move(*entry);
      std::ofstream(dir_ + "/" + name + ".password") << password << "\n";
      lease_.add(name);
    }
    return users ? "" : "cannot write " + dir_ + "/users";
  }

  std::string begin_case(case_context& ctx, bool shared) const override {
    // prepare() saw to it that there are at least as many accounts as a case uses.
    std::vector<std::string> names;
    if (shared) {
      if (auto problem = lease_.take(ctx, std::size(case_users), names); !problem.empty()) return problem;
    } else {
      for (const auto& [name, password] : accounts_) names.push_back(name);
    }
    for (std::size_t i = 0; i < std::size(case_users); ++i) {
      ctx.set(case_users[i], names[i]);
      ctx.set(std::string(case_users[i]) + "_pw", accounts_.at(names[i]));
    }
    ctx.set("nobody", "nobody" + core::to_hex(core::random_bytes(3)));
    ctx.objects()["sslm.shared"] = shared;
    return {};
  }

  void end_case(case_context& ctx) const override { lease_.give_back(ctx); }

  bool is_noise(const std::string&, const case_context&) const override { return false; }  // nothing is broadcast

  // A login step that fails breaks the login rule, whatever the case is about.
  std::string step_rule(const step& s) const override { return s.op == "sslmessager.login" ? login_rule : ""; }
  // A misbehaving session must end that session at most (SSLM-CONN-03).
  std::string independence_rule() const override { return "SSLM-CONN-03"; }
  std::string client_robustness_rule() const override { return "SSLM-CLIENT-10"; }
  std::string reference_server_arguments() const override {
    return "--port {port} --cert {cert} --key {key} --users {users} --check-interval {check} --login-timeout {login}";
  }
  // A session that is logged in ends with END (SSLM-END-01); one that is not has nothing to end but TLS.
  std::string farewell(message_framer& f) const override {
    auto* lines = dynamic_cast<sslmessager_lines*>(&f);
    return lines && lines->logged_in() ? wire("END") : std::string{};
  }
  // CHECK needs no answer (SSLM-CHECK-02); only the CHECK cases look at it. Only servers send it: a CHECK
  // from a client under test is an answer it must not give (SSLM-CLIENT-05), seen like any other line.
  std::optional<std::string> keepalive_answer(message_framer& f, const std::string& message) const override {
    auto* lines = dynamic_cast<sslmessager_lines*>(&f);
    if (lines && lines->reads_client()) return std::nullopt;
    return message == "CHECK" ? std::optional<std::string>(std::string{}) : std::nullopt;
  }
  std::vector<std::string> keepalive_rules() const override { return {"SSLM-CHECK-"}; }
  // A TLS handshake alone proves little (peerchat serves TLS too). A login with an account the target is
  // said to know is the most ordinary thing a client does, and only an sslmessager server answers it with
  // ACCEPT or an END line; the session is then ended with END. Nothing unusual is sent: a fragile server
  // must survive the preflight.
  identity identify(case_context& ctx) const override {
    if (auto f = ctx.connect("preflight", ctx.deadline({}, 5000)); !f.empty()) return {"no TLS session: " + f, {}, {}};
    std::string user = ctx.get("aaa");
    if (auto f = ctx.send("preflight", wire("AUTH " + user + " " + ctx.get("aaa_pw"))); !f.empty()) return {f, {}, {}};
    // CHECK may come first on a busy target; it is passed over like any keep-alive.
    if (auto f = ctx.expect("preflight", {"^(.*)$"}, ctx.deadline({}, 10000), {"preflight_answer"}); !f.empty())
      return {"the target completed a TLS handshake but did not answer an sslmessager AUTH: " + f, {}, {}};
    std::string answer = ctx.get("preflight_answer");
    if (answer.starts_with("ACCEPT ")) return {};
    if (!answer.starts_with("END "))
      return {"the target answered AUTH with '" + answer + "', which is no sslmessager line", {}, {}};
    // A refusal of an account given with --user is most likely a wrong --user; with the run's own accounts
    // it is the target's defect, and the login cases say so.
    if (answer == end_text::bad_login && !ctx.settings().accounts.empty())
      return {"the target refused the login of " + user + " (" + answer + "): give accounts it knows with "
              "--user NAME:PASSWORD", {}, {}};
    return {};
  }

  std::string run_step(const step& s, case_context& ctx) const override {
    std::string name = s.op.substr(std::string("sslmessager.").size());
    if (name == "login") return login(s, ctx);
    if (name == "plain_tcp") return plain_tcp(ctx);
    if (name == "tls_probe") return tls_probe(ctx);
    if (name == "send_long") {
      // One message of `head` and `count` copies of `fill`, written at once (a long text in one record).
      std::string text = arg(s, ctx, "head");
      std::string fill = arg(s, ctx, "fill");
      auto count = s.args["count"] ? s.args["count"].as<std::size_t>() : 0;
      for (std::size_t i = 0; i < count; ++i) text += fill;
      return ctx.send(s.conn, wire(text));
    }
    if (name == "stall") {
      // A TCP connection that never starts TLS, held open until the case ends.
      auto c = net::connect_tcp(ctx.target_host(), ctx.target_port(), ctx.deadline({}, 3000), {}, ctx.settings().tap);
      if (!c) return "cannot connect over TCP: " + c.error().message();
      ctx.note("stall", '*', "connected over TCP; no TLS handshake follows");
      ctx.objects()["sslm.stall"] = std::shared_ptr<net::stream>(std::move(*c));
      return {};
    }
    throw case_error("unknown sslmessager step " + s.op);
  }

private:
  // connect, AUTH, ACCEPT: the prologue of most server cases.
  std::string login(const step& s, case_context& ctx) const {
    std::string user = arg(s, ctx, "user");
    std::string password = arg(s, ctx, "password", accounts_.contains(user) ? accounts_.at(user) : "");
    bool shared = std::any_cast<bool>(ctx.objects()["sslm.shared"]);
    // Whether this case logged the user in before: then a refusal is about what the case did since.
    auto& seen = ctx.objects()["sslm.logged_in"];
    if (!seen.has_value()) seen = std::set<std::string>{};
    bool first = std::any_cast<std::set<std::string>&>(seen).insert(user).second;
    for (int attempt = 0;; ++attempt) {
      if (auto f = ctx.connect(s.conn, ctx.deadline({}, 5000)); !f.empty()) return f;
      if (auto f = ctx.send(s.conn, wire("AUTH " + user + " " + password)); !f.empty()) return f;
      // The password check is a deliberately slow scrypt, which a busy machine stretches well past 2 s.
      auto f = ctx.expect(s.conn, {"^ACCEPT " + literal(user) + "$"}, ctx.deadline({}, 10000));
      if (f.empty()) return {};
      if (!shared || f.find("already online") == std::string::npos) return "login of " + user + ": " + f;
      // On a shared target the previous case's connection of this user may still be closing; a user the
      // target still holds after that is a ghost of an earlier case: it is no longer lent, and this case
      // runs again with other users.
      if (attempt >= 10) {
        if (first) lease_.retire(ctx, user);
        return "login of " + user + ": " + f;
      }
      ctx.close(s.conn, false);
      std::this_thread::sleep_for(millis(200));
    }
  }

  // SSLM-TLS-01/06: a client that speaks plain TCP gets no plaintext answer and is closed, and the server
  // goes on accepting TLS.
  std::string plain_tcp(case_context& ctx) const {
    auto c = net::connect_tcp(ctx.target_host(), ctx.target_port(), ctx.deadline({}, 3000), {}, ctx.settings().tap);
    if (!c) return "cannot connect over TCP: " + c.error().message();
    std::string auth = wire("AUTH " + ctx.get("aaa") + " " + ctx.get("aaa_pw"));
    ctx.note("plain", '>', core::printable(auth));
    if (auto ec = (*c)->write(auth, ctx.deadline({}, 3000))) return "cannot write: " + ec.message();
    std::string got;
    auto until = ctx.deadline({}, 3000);
    for (;;) {
      auto r = (*c)->read_some(until);
      if (r.status == net::read_status::data) {
        got += r.data;
        continue;
      }
      ctx.note("plain", '<', core::printable(got.substr(0, 200)));
      if (got.find("ACCEPT") != std::string::npos) return "the server accepted a login over plain TCP";
      if (r.status == net::read_status::timeout)
        return ctx.blame("SSLM-TLS-06", "the server kept a plain-TCP connection open for 3 s");
      return {};
    }
  }

  // SSLM-TLS-02/04: a client offering only TLS 1.0-1.1 is refused; a TLS 1.2+ handshake works and the
  // server asks for no client certificate.
  std::string tls_probe(case_context& ctx) const {
    // In the run's capture like every other connection of the case (net::probe_tls takes the tap).
    auto probe = [&](bool legacy) {
      return net::probe_tls(ctx.target_host(), ctx.target_port(), legacy, clock_type::now() + millis(3000),
                            ctx.settings().tap);
    };
    auto old = probe(true);
    ctx.note("probe", '*', old.handshake_ok ? "TLS 1.0/1.1 handshake completed" : "TLS 1.0/1.1 refused: " + old.error);
    if (old.handshake_ok)
      return ctx.blame("SSLM-TLS-02", "the server completed a handshake with a client that offers only TLS 1.0 and 1.1");
    auto modern = probe(false);
    if (!modern.handshake_ok) return ctx.blame("SSLM-TLS-03", "a TLS 1.2/1.3 handshake failed: " + modern.error);
    if (modern.certificate_requested) return ctx.blame("SSLM-TLS-04", "the server asked for a client certificate");
    return {};
  }

  std::map<std::string, std::string> accounts_;
  std::map<std::string, user_entry> entries_;
  std::string cert_pem_, key_pem_, dir_, own_dir_;
  user_lease lease_;
};

}  // namespace

std::unique_ptr<adapter> make_sslmessager_adapter() { return std::make_unique<sslmessager_adapter>(); }

}  // namespace parley::conform
