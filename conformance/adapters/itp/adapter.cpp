// The itp adapter: lines over TCP, the reference hub as built-in server, and the steps that make and
// check the end-to-end encrypted tokens of private messages (spec/itp/spec.md, ITP-CRYPTO-*).

#include <atomic>
#include <future>

#include "conformance/adapters/itp/broadcast_watch.hpp"
#include "conformance/adapters/itp/client_lines.hpp"
#include "conformance/engine/adapter.hpp"
#include "conformance/engine/builtin_host.hpp"
#include "conformance/engine/runner.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/key_store.hpp"
#include "impl/core/line_framer.hpp"
#include "impl/proto/itp/codec.hpp"
#include "impl/proto/itp/pm_crypto.hpp"
#include "impl/server/host/host.hpp"
#include "impl/server/itp/hub.hpp"

namespace parley::conform {
namespace {

class line_messages final : public message_framer {
public:
  // Lines from a server under test may be longer than what the server itself accepts (PM_PUBKEY relays).
  line_messages() : framer_({.max_line = 256 * 1024, .lone_cr_terminates = false}) {}
  void feed(std::string_view bytes) override { framer_.feed(bytes); }
  std::optional<std::string> next(std::string& error) override {
    auto line = framer_.next();
    if (!line) {
      error = "a line longer than 256 KiB";
      return std::nullopt;
    }
    if (!*line) return std::nullopt;
    if ((*line)->terminator != "\n") {
      // ITP-FRAME-04 (SHOULD): the content is handed on either way; the form is one finding.
      if (crlf_lines++ == 0) findings_.push_back({"ITP-FRAME-04", "a server line ended in CR LF instead of a bare LF"});
    }
    if ((*line)->text.starts_with("OK IDENT ")) logged_in = true;
    return std::move((*line)->text);
  }
  std::vector<finding> take_findings() override { return std::exchange(findings_, {}); }
  int crlf_lines = 0;
  bool logged_in = false;

private:
  core::line_framer framer_;
  std::vector<finding> findings_;
};

std::string arg(const step& s, const case_context& ctx, const char* key, bool required = true) {
  if (!s.args.IsMap() || !s.args[key]) {
    if (required) throw case_error(s.op + " needs '" + key + "' (line " + std::to_string(s.line) + ")");
    return {};
  }
  return ctx.substitute(s.args[key].as<std::string>());
}

class itp_adapter final : public adapter {
public:
  std::string protocol() const override { return "itp"; }
  unsigned short default_port() const override { return itp::default_port; }
  std::unique_ptr<message_framer> make_framer() const override { return std::make_unique<line_messages>(); }
  std::unique_ptr<session_watcher> make_watcher() const override { return itp_watch::make_sender_watcher(); }
  // A server's lines are judged by the server's form rule (ITP-FRAME-04), a client's by ITP-CLIENT-04.
  std::unique_ptr<message_framer> make_framer_for(bool from_target_server) const override {
    if (from_target_server) return make_framer();
    return std::make_unique<itp_lines::client_lines>();
  }
  std::string encode(const std::string& text) const override { return text + "\n"; }
  timing real_timing() const override { return {{{"ping", 10000}, {"pong", 3000}, {"login", 60000}}}; }
  // login: longer than any fast case waits before it logs in (ping-not-before-login: 1.5 * ping + pong).
  timing fast_timing() const override { return {{{"ping", 300}, {"pong", 300}, {"login", 1500}}}; }
  std::unique_ptr<builtin_server> start_builtin(const timing& t) const override {
    return std::make_unique<builtin_host<itp::hub>>(
        "itp",
        itp::hub_options{.ping_interval = millis(static_cast<long long>(t.vars.at("ping"))),
                         .pong_timeout = millis(static_cast<long long>(t.vars.at("pong"))),
                         .login_timeout = millis(static_cast<long long>(t.vars.at("login")))},
        host::host_options{});
  }
  std::string reference_client_command(const std::string& bin_dir) const override {
    return "'" + bin_dir + "/parley-client' itp --host 127.0.0.1 --port {port} --name {name} --script -" +
           (client_key_.empty() ? std::string{} : " --key '" + client_key_ + "'");
  }

  std::string run_step(const step& s, case_context& ctx) const override {
    std::string name = s.op.substr(4);
    if (name == "login") return login(s, ctx);
    if (name == "keypair") return keypair(s, ctx);
    if (name == "unwrap") return unwrap(s, ctx);
    if (name == "open") return open(s, ctx);
    if (name == "wrap") return wrap(s, ctx);
    if (name == "seal") return seal(s, ctx);
    if (name == "distinct") {
      std::string a = arg(s, ctx, "a"), b = arg(s, ctx, "b");
      return a == b ? "two encryptions of the same text gave the same token (nonce reuse?): " + a : std::string{};
    }
    if (name == "no_crlf") {
      auto* f = dynamic_cast<line_messages*>(ctx.framer_of(s.conn));
      if (f && f->crlf_lines > 0)
        return std::to_string(f->crlf_lines) + " line(s) on " + s.conn + " ended in CRLF instead of a bare LF";
      return {};
    }
    throw case_error("unknown itp step " + s.op);
  }

  // A login step's failure breaks the login rule whatever the case is about; its missing greeting is
  // blamed on ITP-CONN-01 inside the step. The client-role crypto steps judge what the client sent: the
  // key it announced (itp.wrap), its session key token (itp.unwrap), its bodies (itp.open, itp.distinct).
  std::string step_rule(const step& s) const override {
    if (s.op == "itp.login") return "ITP-IDENT-01";
    if (s.op == "itp.wrap") return "ITP-CRYPTO-01";
    if (s.op == "itp.unwrap") return "ITP-CRYPTO-03";
    if (s.op == "itp.open" || s.op == "itp.distinct") return "ITP-CRYPTO-04";
    return {};
  }
  // Making a key pair or sealing a body checks nothing of the client: it serves the check after it.
  bool acts_only(const step& s) const override { return s.op == "itp.keypair" || s.op == "itp.seal"; }
  // A client that never connects breaks ITP-CLIENT-01 first of all.
  std::string client_connect_rule() const override { return "ITP-CLIENT-01"; }
  std::string independence_rule() const override { return "ITP-CONN-04"; }
  std::string client_robustness_rule() const override { return "ITP-CLIENT-06"; }
  std::string reference_server_arguments() const override {
    return "--port {port} --ping-interval {ping} --pong-timeout {pong} --login-timeout {login}";
  }
  // Other users' JOINED, BCST, PM_PUBKEY ... may come first: only the answer to USERS counts.
  std::string probe_steps() const override {
    return R"Y(
- itp.login: {conn: alive, name: "${probe}"}
- send: {conn: alive, text: USERS}
- expect: {conn: alive, skip: ["^(?!OK USERS |FAIL)"], match: "^(OK USERS |FAIL06)"}
- send: {conn: alive, text: QUIT}
)Y";
  }
  // QUIT is valid in every state (ITP-QUIT-01/02): every session the engine opened leaves cleanly.
  std::string farewell(message_framer&) const override { return "QUIT\n"; }
  // The server may PING at any time after login (and a deviant one before): only the PING rules see it.
  std::optional<std::string> keepalive_answer(message_framer&, const std::string& message) const override {
    if (message == "PING") return std::string("PONG\n");
    return std::nullopt;
  }
  std::vector<std::string> keepalive_rules() const override { return {"ITP-PING-"}; }

  // Keys are slow to make and their freshness is not under test, so client-role runs make them once.
  // ITP-CRYPTO-01's case needs a 4096-bit key (up to 2 s): made while the first cases run, and lent to every
  // case that asks for one. The reference client would make a 2048-bit key at every start, which costs
  // more than most of its cases: it is given one made for the run.
  std::string prepare(const run_settings& s) override {
    if (!s.test_clients) return {};
    large_key_ = std::async(std::launch::async, [] { return core::pkey::generate_rsa(4096); }).share();
    if (s.client_command.empty() && !s.log_dir.empty()) {
      auto key = core::pkey::generate_rsa(2048);
      std::string path = s.log_dir + "/itp-client.pem";
      if (!key || core::write_file(path, key->private_pem(), true)) return "cannot make the reference client's key " + path;
      client_key_ = path;
    }
    return {};
  }

  // An itp server greets with INIT (ITP-CONN-01); one that does not must still answer QUIT with an OK or
  // FAILnn line. Anything else (an HTTP or TLS answer, a WebSocket server's silence) is another protocol.
  identity identify(case_context& ctx) const override {
    if (auto f = ctx.connect("preflight", ctx.deadline({}, 5000)); !f.empty()) return {f, {}, {}};
    if (ctx.expect("preflight", {"^INIT( |$)"}, ctx.deadline({}, 2000)).empty()) return {};
    if (!ctx.trouble().lost) {
      ctx.send("preflight", "QUIT\n");
      if (ctx.expect("preflight", {"^(OK|FAIL[0-9][0-9])( |$)"}, ctx.deadline({}, 2000)).empty()) {
        greets_ = false;  // logins then do not wait for an INIT that never comes
        return {"", {}, "the target sent no INIT greeting, but answers itp commands"};
      }
    }
    return {"the target does not speak itp: no INIT greeting within 2 s, and no OK or FAILnn answer to QUIT "
            "(the preflight's wire log shows what it did)", {}, {}};
  }

  bool is_noise(const std::string& message, const case_context& ctx) const override {
    // JOINED/LEFT/BCST/PM_PUBKEY about a user this case never made came from a neighbouring case.
    for (std::string_view command : {"JOINED ", "LEFT ", "BCST ", "PM_PUBKEY "}) {
      if (!message.starts_with(command)) continue;
      std::string_view rest = std::string_view(message).substr(command.size());
      return !ctx.is_case_user(rest.substr(0, rest.find(' ')));
    }
    return false;
  }

private:
  mutable std::atomic<bool> greets_{true};
  std::shared_future<result<core::pkey>> large_key_;
  std::string client_key_;  // the reference client's key file, made for the run

  // connect, greeting, IDENT, OK IDENT: the prologue of most server cases. A target found without a
  // greeting by the preflight is not waited for: its cases then test their own rules (conn-greeting
  // fails ITP-CONN-01 once).
  std::string login(const step& s, case_context& ctx) const {
    std::string user = arg(s, ctx, "name");
    auto within = [&](double ms) { return ctx.deadline({}, ms); };
    if (auto f = ctx.connect(s.conn, within(5000)); !f.empty()) return f;
    if (greets_) {
      if (auto f = ctx.expect(s.conn, {"^INIT( |$)"}, within(2000)); !f.empty()) return ctx.blame("ITP-CONN-01", f);
    }
    if (auto f = ctx.send(s.conn, "IDENT " + user + "\n"); !f.empty()) return f;
    std::string escaped;
    for (char c : user) escaped += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? std::string(1, c) : "\\" + std::string(1, c);
    return ctx.expect(s.conn, {"^OK IDENT " + escaped + "$"}, within(2000));
  }

  std::string keypair(const step& s, case_context& ctx) const {
    std::string who = arg(s, ctx, "save");
    int bits = s.args["bits"] ? s.args["bits"].as<int>() : 2048;
    auto made_early = large_key_;  // a copy per caller: cases run on several threads
    auto key = bits == 4096 && made_early.valid() ? made_early.get() : core::pkey::generate_rsa(bits);
    if (!key) throw case_error("RSA key generation failed");
    ctx.set("key_" + who, itp::encode_public_key(*key));
    ctx.objects()["key:" + who] = *key;
    return {};
  }

  static std::string unwrap(const step& s, case_context& ctx) {
    std::string who = arg(s, ctx, "key");
    std::string token = arg(s, ctx, "token");
    auto it = ctx.objects().find("key:" + who);
    if (it == ctx.objects().end()) throw case_error("itp.unwrap: no key pair saved as " + who);
    auto key = itp::unwrap_session_key(std::any_cast<core::pkey&>(it->second), token);
    if (!key) return "the session key token is not an RSA-OAEP-SHA256 wrap for " + who + "'s key: " + key.error().message();
    if (key->legacy && !(s.args["legacy"] && s.args["legacy"].as<bool>()))  // ITP-CRYPTO-05: never sent
      return ctx.blame("ITP-CRYPTO-05", "the client sent a legacy (PKCS#1 v1.5) session key; Parley clients read "
                                        "such tokens but never send them");
    ctx.objects()["session:" + arg(s, ctx, "save")] = *key;
    return {};
  }

  static std::string open(const step& s, case_context& ctx) {
    auto it = ctx.objects().find("session:" + arg(s, ctx, "session"));
    if (it == ctx.objects().end()) throw case_error("itp.open: unknown session");
    std::string from = arg(s, ctx, "from"), to = arg(s, ctx, "to"), token = arg(s, ctx, "token");
    auto text = itp::open_body(std::any_cast<itp::session_key&>(it->second), from, to, token);
    if (!text) return "the PM body does not decrypt as AES-256-GCM with AAD 'itp-pm " + from + " " + to + "': " + text.error().message();
    std::string expected = arg(s, ctx, "text");
    if (*text != expected) return "the PM body decrypts to '" + *text + "', expected '" + expected + "'";
    return {};
  }

  static std::string wrap(const step& s, case_context& ctx) {
    auto pub = itp::decode_public_key(arg(s, ctx, "public"));
    if (!pub) return "the announced public key is not base64 DER of an RSA key: " + pub.error().message();
    bool legacy = s.args["legacy"] && s.args["legacy"].as<bool>();
    itp::session_key key = itp::make_session_key();
    result<std::string> token = std::string{};
    if (legacy) {
      key = {core::random_bytes(16), true};
      token = itp::wrap_legacy_session_key(*pub, key.key);
    } else {
      token = itp::wrap_session_key(*pub, key);
    }
    if (!token) throw case_error("wrapping failed");
    ctx.set(arg(s, ctx, "var"), *token);
    ctx.objects()["session:" + arg(s, ctx, "save")] = key;
    return {};
  }

  static std::string seal(const step& s, case_context& ctx) {
    auto it = ctx.objects().find("session:" + arg(s, ctx, "session"));
    if (it == ctx.objects().end()) throw case_error("itp.seal: unknown session");
    auto& key = std::any_cast<itp::session_key&>(it->second);
    std::string text = arg(s, ctx, "text");
    auto token = key.legacy ? itp::seal_legacy_body(key.key, text)
                            : itp::seal_body(key, arg(s, ctx, "from"), arg(s, ctx, "to"), text);
    if (!token) throw case_error("sealing failed");
    std::string body = *token;
    if (s.args["tamper"] && s.args["tamper"].as<bool>()) {
      // Flip one ciphertext character well inside the token: still valid base64, no longer authentic.
      char& c = body[body.size() - 8];
      c = c == 'A' ? 'B' : 'A';
    }
    ctx.set(arg(s, ctx, "var"), body);
    return {};
  }
};

}  // namespace

std::unique_ptr<adapter> make_itp_adapter() { return std::make_unique<itp_adapter>(); }

}  // namespace parley::conform
