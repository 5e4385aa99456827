// The securechat adapter: JSON over WebSocket, the reference hub as built-in server, the users' RSA keys
// (made for the run, or the target's own with --keys DIR), and the steps that sign joins and encrypt or
// check private texts (spec/securechat/spec.md).
#include <algorithm>
#include <charconv>
#include <deque>
#include <filesystem>
#include <future>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "conformance/adapters/securechat/preflight.hpp"
#include "conformance/adapters/securechat/sender_watch.hpp"
#include "conformance/adapters/securechat/ws_frames.hpp"
#include "conformance/engine/adapter.hpp"
#include "conformance/engine/builtin_host.hpp"
#include "conformance/engine/user_lease.hpp"
#include "conformance/engine/runner.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/key_store.hpp"
#include "impl/proto/securechat/codec.hpp"
#include "impl/proto/securechat/crypto.hpp"
#include "impl/server/host/host.hpp"
#include "impl/server/securechat/hub.hpp"

namespace parley::conform {
namespace {

using json = nlohmann::json;

// The names cases use for their users; each is bound to one user of the key store per case.
constexpr const char* case_users[] = {"alice", "bob", "carol", "dave", "erin"};

// One WebSocket message per read. Messages are matched in a canonical form — compact JSON with sorted
// keys — so that cases match any implementation's layout and key order (SC-MSG-07 is only a MAY).
// Whatever is not JSON is passed on as it came, and simply matches no JSON pattern; the first message on
// a connection that is not a JSON object is a finding against SC-MSG-01 (a server that answers bad input
// with a bare "Internal server error"). The framer also remembers whether the session was welcomed, so the
// engine knows whether it has a session to leave.
class json_messages final : public message_framer {
public:
  void feed(std::string_view bytes) override {
    json j = json::parse(bytes, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      if (!reported_) {
        reported_ = true;
        std::string shown = core::printable(bytes.substr(0, 80)) + (bytes.size() > 80 ? "..." : "");
        findings_.push_back({"SC-MSG-01", "a message that is not a JSON object: '" + shown + "'"});
      }
      if (j.is_discarded()) {
        pending_.emplace_back(bytes);
        return;
      }
    }
    if (j.is_object() && j.value("_command", json()) == "WelcomeMessage") welcomed_ = true;
    pending_.push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  std::optional<std::string> next(std::string&) override {
    if (pending_.empty()) return std::nullopt;
    std::string message = std::move(pending_.front());
    pending_.pop_front();
    return message;
  }
  bool welcomed() const { return welcomed_; }
  std::vector<finding> take_findings() override { return std::exchange(findings_, {}); }

private:
  std::deque<std::string> pending_;
  bool welcomed_ = false;
  bool reported_ = false;
  std::vector<finding> findings_;
};

struct user_key {
  core::pkey private_key;
  core::pkey public_key;
  std::string pem;
};

std::string arg(const step& s, const case_context& ctx, const char* key, const std::string& fallback = "\x01") {
  if (!s.args.IsMap() || !s.args[key]) {
    if (fallback == "\x01") throw case_error(s.op + " needs '" + key + "' (line " + std::to_string(s.line) + ")");
    return ctx.substitute(fallback);
  }
  return ctx.substitute(s.args[key].as<std::string>());
}

// A number argument read leniently: a fuzzed step may hold anything, and what does not parse as an integer
// is the fallback, so a mutated frame is still sent rather than the session thrown away.
std::int64_t number_arg(const step& s, const case_context& ctx, const char* key, std::int64_t fallback) {
  if (!s.args.IsMap() || !s.args[key]) return fallback;
  std::string text = ctx.substitute(s.args[key].as<std::string>());
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() ? value : fallback;
}

std::string random_tag() {
  std::random_device rd;
  return std::to_string(rd() % 100000);
}

class securechat_adapter final : public adapter {
public:
  ~securechat_adapter() override {
    if (!own_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(own_dir_, ignored);
    }
  }

  std::string protocol() const override { return "securechat"; }
  unsigned short default_port() const override { return securechat::default_port; }
  std::unique_ptr<message_framer> make_framer() const override { return std::make_unique<json_messages>(); }
  // The watcher checks join signatures against the key store (the adapter outlives every session).
  std::unique_ptr<session_watcher> make_watcher() const override {
    return securechat_watch::make_sender_watcher([this](const std::string& name, const std::string& signature) -> std::optional<bool> {
      auto it = users_.find(name);
      if (it == users_.end()) return std::nullopt;
      return securechat::verify_join(it->second.public_key, name, signature);
    });
  }
  std::string encode(const std::string& text) const override { return text; }  // one send, one message
  timing real_timing() const override { return {{{"login", 60000}}}; }
  timing fast_timing() const override { return {{{"login", 1500}}}; }
  std::unique_ptr<builtin_server> start_builtin(const timing& t) const override {
    // The hub reads the key store at each join (spec §9); here the store is the run's users in memory.
    securechat::hub_options options{.keys = [this](std::string_view name) -> std::optional<securechat::known_key> {
      auto it = users_.find(std::string(name));
      if (it == users_.end()) return std::nullopt;
      return securechat::known_key{it->second.public_key, it->second.pem};
    }};
    options.login_timeout = millis(static_cast<long long>(t.vars.at("login")));
    return std::make_unique<builtin_host<securechat::hub>>(
        "securechat", std::move(options),
        host::host_options{.transport = host::transport::websocket, .max_message = securechat::max_message_bytes});
  }
  std::string reference_client_command(const std::string& bin_dir) const override {
    return "'" + bin_dir + "/parley-client' securechat --host 127.0.0.1 --port {port} --name {name} --key '{keys}/{name}.pem' --script -";
  }

  result<std::unique_ptr<net::stream>> connect(const std::string& host, unsigned short port, time_point deadline,
                                               net::traffic_tap* tap) const override {
    return net::connect_ws(host, port, "/", deadline, 1 << 20, tap);
  }
  result<std::unique_ptr<net::listener>> listen(const std::string& host, net::traffic_tap* tap) const override {
    return net::listen_ws(host, 0, 1 << 20, tap);
  }

  std::map<std::string, std::string> placeholders() const override { return {{"keys", keys_dir_}}; }

  // The users: the private keys in --keys DIR, or five made now in a private directory that the built-in
  // server (and a launched one, through {keys}) trusts.
  std::string prepare(const run_settings& settings) override {
    if (settings.kind == target_kind::launch && settings.keys_dir.empty() &&
        settings.launch_command.find("{keys}") == std::string::npos)
      return "the launched server must trust the run's users: put {keys} (the key store the engine makes) in "
             "the --launch command, e.g. --keys {keys}, or pass --keys DIR with the private keys of users it trusts";
    if (!settings.keys_dir.empty()) {
      keys_dir_ = std::filesystem::absolute(settings.keys_dir).string();
      core::key_store store(keys_dir_);
      for (const auto& name : store.names()) {
        auto key = store.load_private(name);
        if (!key) continue;  // a user whose private key we lack cannot be played
        add_user(name, *key);
      }
      if (users_.size() < 3)
        return "--keys " + settings.keys_dir + " holds private keys for " + std::to_string(users_.size()) +
               " users; the suite needs at least 3 (make them with: parley-conform keys --out DIR --users alice,bob,carol,dave,erin)";
    } else {
      own_dir_ = (std::filesystem::temp_directory_path() / ("parley-securechat-keys-" + std::to_string(getpid()))).string();
      std::filesystem::create_directories(own_dir_);
      keys_dir_ = own_dir_;
      core::key_store store(keys_dir_);
      std::vector<std::future<result<core::pkey>>> made;
      for (std::size_t i = 0; i < std::size(case_users); ++i)
        made.push_back(std::async(std::launch::async, [] { return core::pkey::generate_rsa(2048); }));
      for (std::size_t i = 0; i < made.size(); ++i) {
        auto key = made[i].get();
        if (!key) return "RSA key generation failed";
        if (store.save(case_users[i], *key)) return "cannot write keys to " + keys_dir_;
        add_user(case_users[i], *key);
      }
    }
    for (const auto& [name, key] : users_) lease_.add(name);
    // Mallory has a key pair that the target has never seen.
    mallory_name_ = users_.contains("mallory") ? "mallory" + random_tag() : "mallory";
    auto m = core::pkey::generate_rsa(2048);
    if (!m) return "RSA key generation failed";
    mallory_ = {*m, *core::pkey::from_public_pem(m->public_pem()), m->public_pem()};
    return {};
  }

  // A case on a shared target leases users nobody else is using, so two cases never fight over a name;
  // released users go to the back of the queue, which gives the target time to forget them.
  std::string begin_case(case_context& ctx, bool shared) const override {
    std::vector<std::string> names;
    if (shared) {
      if (auto problem = lease_.take(ctx, std::min(std::size(case_users), lease_.size()), names); !problem.empty())
        return problem;
    } else if (!own_dir_.empty()) {
      names.assign(std::begin(case_users), std::end(case_users));  // the users made for the run, alice first
    } else {
      for (const auto& [name, key] : users_) names.push_back(name);
    }
    for (std::size_t i = 0; i < std::size(case_users); ++i)
      ctx.set(case_users[i], i < names.size() ? names[i] : std::string("(no user: the key store has too few)"));
    ctx.set("mallory", mallory_name_);
    ctx.objects()["sc.shared"] = shared;
    return {};
  }

  void end_case(case_context& ctx) const override { lease_.give_back(ctx); }

  bool is_noise(const std::string& message, const case_context& ctx) const override {
    json j = json::parse(message, nullptr, false);
    // A target may send anything; only well-formed user updates and broadcasts can be another case's.
    auto text_of = [&j](const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
    };
    if (!j.is_object()) return false;
    auto command = text_of("_command");
    const char* field = command == "AddUserMessage" || command == "RemoveUserMessage" ? "name"
                        : command == "RoutedPublicMessage"                          ? "from_name"
                                                                                    : nullptr;
    if (!field) return false;
    auto name = text_of(field);
    return !name.empty() && !ctx.is_case_user(name) && name != mallory_name_;
  }

  // A login step that gets no WelcomeMessage breaks the join rule, whatever the case is about; a check of
  // an ErrorMessage's ref_message_id is SC-ERR-01's; a client's join signature is SC-CLIENT-02's.
  std::string step_rule(const step& s) const override {
    if (s.op == "securechat.login") return "SC-JOIN-03";
    if (s.op == "securechat.error_ref") return "SC-ERR-01";
    if (s.op == "securechat.verify_join") return "SC-CLIENT-02";
    if (s.op == "securechat.expect_session_end") return "SC-CLIENT-10";
    return {};
  }
  // Steps that make keys, signatures, ciphertexts or quoted PEMs check nothing of the target.
  bool acts_only(const step& s) const override {
    static const std::set<std::string> preparing = {"securechat.sign", "securechat.encrypt", "securechat.pem",
                                                    "securechat.keygen", "securechat.join", "securechat.ws_frame"};
    return preparing.contains(s.op);
  }
  // A client that never connects breaks SC-CLIENT-01 (its first message is the JoinMessage).
  std::string client_connect_rule() const override { return "SC-CLIENT-01"; }

  // A client told to quit (spec §10, SC-CLIENT-10): a LeaveMessage or nothing, nothing after it, then the
  // connection closes. The rule is about what follows a LeaveMessage; a client without one may end its
  // session with the WebSocket close alone, as §5 allows.
  static std::string expect_session_end(const step& s, case_context& ctx) {
    auto deadline = ctx.deadline({arg(s, ctx, "within", "3000")}, 3000);
    static const std::regex leave(R"(^\{"_command":"LeaveMessage","id":"[^"]+"\}$)");
    bool left = false;
    // Every message until the close (or the deadline, which the close check below then reports).
    while (ctx.expect(s.conn, {R"(^([\s\S]*)$)"}, deadline, {"sc.after_quit"}).empty()) {
      std::string message = ctx.get("sc.after_quit");
      if (!left && std::regex_match(message, leave)) {
        left = true;
        continue;
      }
      return (left ? "after its LeaveMessage the client sent '" : "told to quit, the client sent '") +
             core::printable(message) + "': a LeaveMessage (or nothing) is all it may send before it closes";
    }
    if (auto f = ctx.expect_close(s.conn, "any", deadline); !f.empty())
      return f + (left ? " after its LeaveMessage" : " after it was told to quit (and sent no LeaveMessage)");
    return {};
  }

  // A welcomed session ends with LeaveMessage (the engine then sends the WebSocket close frame 1000), so a
  // shared target keeps none of a case's users: a bare close is for the cases about drops (SC-USER-04).
  std::string farewell(message_framer& framer) const override {
    auto* messages = dynamic_cast<json_messages*>(&framer);
    if (!messages || !messages->welcomed()) return {};
    return farewell_text();
  }

  std::string independence_rule() const override { return "SC-CONN-03"; }
  std::string client_robustness_rule() const override { return "SC-CLIENT-11"; }

  std::string reference_server_arguments() const override {
    return "--port {port} --keys {keys} --login-timeout {login}";
  }

  // The WebSocket handshake, then a join as the first user of the run, left again at once.
  identity identify(case_context& ctx) const override {
    std::string where = ctx.target_host() + ":" + std::to_string(ctx.target_port());
    auto stream = connect(ctx.target_host(), ctx.target_port(), ctx.deadline({}, 5000), ctx.settings().tap);
    if (!stream) {
      ctx.note("preflight", '*', "connect failed: " + stream.error().message());
      return securechat_preflight::connect_problem(stream.error(), where);
    }
    net::stream& ws = **stream;
    ctx.note("preflight", '*', "connected (WebSocket handshake completed)");
    std::string user = ctx.get("alice");
    auto signature = securechat::sign_join(key_of(user, ctx).private_key, user);
    if (!signature) return {"signing the preflight's JoinMessage failed", {}, {}};
    std::string join = securechat::encode({"preflight-" + random_tag(), securechat::msg::join{user, *signature}});
    ctx.note("preflight", '>', core::printable(join));
    net::read_result got;
    if (auto ec = ws.write(join, ctx.deadline({}, 3000))) got.status = net::read_status::error;
    else got = ws.read_some(ctx.deadline({}, 3000));
    if (got.status == net::read_status::data) ctx.note("preflight", '<', core::printable(got.data));
    auto answer = securechat_preflight::judge(got, user, where);
    if (answer.welcomed) {
      std::string leave = farewell_text();
      ctx.note("preflight", '>', core::printable(leave) + "  (leaving again)");
      ws.write(leave, ctx.deadline({}, 1000));
    }
    ws.close_gracefully(ctx.deadline({}, 1000));
    return answer.verdict;
  }

  std::string run_step(const step& s, case_context& ctx) const override {
    std::string name = s.op.substr(std::string("securechat.").size());
    if (name == "join") return send_join(s, ctx, arg(s, ctx, "id", "join-" + arg(s, ctx, "name")));
    if (name == "login") return login(s, ctx);
    if (name == "sign") {
      auto sig = securechat::sign_join(key_of(arg(s, ctx, "signer", arg(s, ctx, "name")), ctx).private_key,
                                       arg(s, ctx, "name"));
      if (!sig) throw case_error("signing failed");
      ctx.set(arg(s, ctx, "var"), *sig);
      return {};
    }
    if (name == "encrypt") {
      auto hex = securechat::encrypt_private_text(key_of(arg(s, ctx, "to"), ctx).public_key, arg(s, ctx, "text"));
      if (!hex) throw case_error("the text is too long for one RSA block");
      ctx.set(arg(s, ctx, "var"), *hex);
      return {};
    }
    if (name == "decrypt") {
      std::string who = arg(s, ctx, "as");
      auto text = securechat::decrypt_private_text(key_of(who, ctx).private_key, arg(s, ctx, "hex"));
      if (!text) return "encrypted_text does not decrypt (RSA PKCS#1 v1.5) with " + who + "'s private key";
      std::string expected = arg(s, ctx, "text");
      if (*text != expected) return "encrypted_text decrypts to '" + *text + "', expected '" + expected + "'";
      return {};
    }
    if (name == "pem") {
      // The PEM as the inside of a JSON string, ready to go between quotes in a `send`.
      std::string quoted = securechat::python_json_string(key_of(arg(s, ctx, "of"), ctx).pem);
      ctx.set(arg(s, ctx, "var"), quoted.substr(1, quoted.size() - 2));
      return {};
    }
    if (name == "keygen") {
      auto key = core::pkey::generate_rsa(2048);
      if (!key) throw case_error("RSA key generation failed");
      ctx.objects()["sc.key:" + arg(s, ctx, "save")] =
          user_key{*key, *core::pkey::from_public_pem(key->public_pem()), key->public_pem()};
      return {};
    }
    if (name == "error_ref") {
      // SC-ERR-01: `ref` is a ref_message_id as an expect captured it (JSON: null or a string); `to` is the
      // id of the message the ErrorMessage answers, or null when that message had no readable id.
      if (!s.args.IsMap() || !s.args["to"])
        throw case_error("securechat.error_ref needs 'to' (line " + std::to_string(s.line) + ")");
      bool want_null = s.args["to"].IsNull();
      std::string want = want_null ? std::string{} : arg(s, ctx, "to");
      std::string ref = arg(s, ctx, "ref");
      json got = json::parse(ref, nullptr, false);
      if (want_null ? got.is_null() : (got.is_string() && got.get<std::string>() == want)) return {};
      return "the ErrorMessage's ref_message_id is " + ref + ", but it must be " +
             (want_null ? std::string("null: the message it answers had no readable id")
                        : securechat::python_json_string(want) + ", the id of the message it answers");
    }
    if (name == "expect_session_end") return expect_session_end(s, ctx);
    if (name == "ws_frame") return send_frame(s, ctx);
    if (name == "verify_join") {
      std::string who = arg(s, ctx, "name");
      if (!securechat::verify_join(key_of(who, ctx).public_key, who, arg(s, ctx, "signature")))
        return "the JoinMessage signature does not verify with " + who +
               "'s public key over the bytes {\"name\": \"" + who + "\"} (RSA PKCS#1 v1.5, SHA-256, hex)";
      return {};
    }
    throw case_error("unknown securechat step " + s.op);
  }

private:
  void add_user(const std::string& name, const core::pkey& private_key) {
    std::string pem = private_key.public_pem();
    users_[name] = {private_key, *core::pkey::from_public_pem(pem), pem};
  }

  // A user of the store, mallory, or a key made by securechat.keygen (by its `save` label).
  const user_key& key_of(const std::string& who, case_context& ctx) const {
    if (who == mallory_name_) return mallory_;
    if (auto it = users_.find(who); it != users_.end()) return it->second;
    if (auto it = ctx.objects().find("sc.key:" + who); it != ctx.objects().end()) return std::any_cast<user_key&>(it->second);
    throw case_error("no key for '" + who + "': not a user of the key store, not mallory, not a securechat.keygen label");
  }

  std::string send_join(const step& s, case_context& ctx, const std::string& id) const {
    std::string user = arg(s, ctx, "name");
    std::string signature = s.args["signature"] ? arg(s, ctx, "signature") : std::string{};
    if (signature.empty()) {
      // Signed by `signer` (default: the user) over `signed_name` (default: the user's name).
      auto sig = securechat::sign_join(key_of(arg(s, ctx, "signer", user), ctx).private_key,
                                       arg(s, ctx, "signed_name", user));
      if (!sig) throw case_error("signing failed");
      signature = *sig;
    }
    return ctx.send(s.conn, securechat::encode({id, securechat::msg::join{user, signature}}));
  }

  // securechat.ws_frame {conn, text, opcode, fin, rsv, mask, len_delta, fragments}: `text` in frames built by
  // hand (ws_frames.hpp), written under the WebSocket library, so flags, opcodes, masking, fragmentation and
  // declared lengths can be what the library would never write.
  std::string send_frame(const step& s, case_context& ctx) const {
    securechat_frames::frame_spec spec;
    spec.opcode = static_cast<unsigned>(number_arg(s, ctx, "opcode", 1) & 15);
    spec.fin = number_arg(s, ctx, "fin", 1) != 0;
    spec.rsv = static_cast<unsigned>(number_arg(s, ctx, "rsv", 0) & 7);
    spec.mask = number_arg(s, ctx, "mask", 1) != 0;
    spec.len_delta = number_arg(s, ctx, "len_delta", 0);
    spec.fragments = static_cast<unsigned>(std::clamp<std::int64_t>(number_arg(s, ctx, "fragments", 1), 1, 64));
    auto key = core::random_bytes(4);  // RFC 6455 §5.3: unpredictable; a case never depends on it
    spec.masking_key = static_cast<std::uint32_t>(key[0]) << 24 | static_cast<std::uint32_t>(key[1]) << 16 |
                       static_cast<std::uint32_t>(key[2]) << 8 | key[3];
    std::string text = arg(s, ctx, "text");
    return ctx.send_below(s.conn, securechat_frames::build(text, spec), text);
  }

  static std::string farewell_text() {
    return securechat::encode({securechat::new_message_id(), securechat::msg::leave{}});
  }

  // connect, JoinMessage, WelcomeMessage: the prologue of most server cases. A join that is not welcomed
  // breaks SC-JOIN-03 (the step's rule); another message before the Welcome, SC-WELCOME-01; a connection
  // that cannot be made, SC-CONN-01.
  std::string login(const step& s, case_context& ctx) const {
    std::string user = arg(s, ctx, "name");
    bool shared = std::any_cast<bool>(ctx.objects()["sc.shared"]);
    // On a shared target the previous case's user of this name may still be leaving: retry a little.
    for (int attempt = 0;; ++attempt) {
      if (auto f = ctx.connect(s.conn, ctx.deadline({}, 5000)); !f.empty()) return ctx.blame("SC-CONN-01", f);
      if (auto f = send_join(s, ctx, "join-" + user); !f.empty()) return f;
      // Any message: its type decides which rule a wrong answer breaks. Bounded, so regex stays cheap.
      auto f = ctx.expect(s.conn, {R"re(^((?:\{"_command":"([^"]*)")?[\s\S]{0,300}))re"}, ctx.deadline({}, 2000),
                          {"sc.answer", "sc.command"});
      if (!f.empty()) return f;
      std::string command = ctx.get("sc.command");
      if (command == "WelcomeMessage") return {};
      std::string answer = ctx.get("sc.answer");
      if (command != "ErrorMessage")
        return ctx.blame("SC-WELCOME-01", "the first message after a valid JoinMessage for " + user +
                                              " must be WelcomeMessage, got '" + core::printable(answer) + "'");
      if (!shared || attempt >= 10 || answer.find("User already exists") == std::string::npos)
        return "a valid JoinMessage for " + user + " was refused: '" + core::printable(answer) + "'";
      ctx.close(s.conn, false);
      std::this_thread::sleep_for(millis(200));
    }
  }

  std::map<std::string, user_key> users_;
  user_key mallory_;
  std::string mallory_name_;
  std::string keys_dir_, own_dir_;
  user_lease lease_;
};

}  // namespace

std::unique_ptr<adapter> make_securechat_adapter() { return std::make_unique<securechat_adapter>(); }

}  // namespace parley::conform
