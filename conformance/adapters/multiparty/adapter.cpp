// The multiparty adapter: binary MTP frames over TCP, rendered as text for matching (wire.hpp); the
// reference hub as built-in server; the run's RSA keys (made for the run, or --keys DIR); the steps that
// log in, build frames honest or corrupt, and make or open end-to-end parts; and the engine's manners
// toward a target: a login as the preflight, a plain close to end a session, the server's status_req
// passed over (spec/multiparty/spec.md).
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <thread>
#include <unistd.h>

#include "conformance/adapters/multiparty/sender_watch.hpp"
#include "conformance/adapters/multiparty/wire.hpp"
#include "conformance/engine/builtin_host.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/user_lease.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/rsa_cipher.hpp"
#include "impl/core/crypto/sign.hpp"
#include "impl/core/encoding.hpp"
#include "impl/core/key_store.hpp"
#include "impl/proto/multiparty/payload.hpp"
#include "impl/server/host/host.hpp"
#include "impl/server/multiparty/hub.hpp"

namespace parley::conform {
namespace {

using namespace multiparty;
using mp::connection_state;

// The names cases use for their users; each is bound to one user of the key store per case.
constexpr const char* case_users[] = {"alice", "bob", "carol", "dave", "erin"};

// A valid login_req answered with a login_res (spec §6.4): what a login step that gets none breaks.
constexpr const char* login_rule = "MP-LOGIN-17";
// The server's keepalive (MP-STATUS-03) as the framer renders it.
constexpr std::string_view server_status_req = "status_req sid=0000000000000000 uid=0000000000000000 | ";

struct user_keys {
  core::pkey private_key, public_key;
};

bool has(const step& s, const char* key) { return s.args.IsMap() && s.args[key]; }

std::string arg(const step& s, const case_context& ctx, const char* key, const std::string& fallback = "\x01") {
  if (!has(s, key)) {
    if (fallback == "\x01") throw case_error(s.op + " needs '" + key + "' (line " + std::to_string(s.line) + ")");
    return ctx.substitute(fallback);
  }
  return ctx.substitute(s.args[key].as<std::string>());
}

long long number_arg(const step& s, const case_context& ctx, const char* key, long long fallback) {
  if (!has(s, key)) return fallback;
  std::string text = arg(s, ctx, key);
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw case_error(s.op + ": '" + key + "' must be a number, not '" + text + "' (line " + std::to_string(s.line) + ")");
}

// A sid or uid written in a case: 16 hex digits, or 0.
std::uint64_t id_arg(const step& s, const case_context& ctx, const char* key, std::uint64_t fallback) {
  if (!has(s, key)) return fallback;
  std::string text = arg(s, ctx, key);
  if (text == "0") return 0;
  auto id = id_from_hex(text);
  if (!id) throw case_error(s.op + ": '" + key + "' must be 16 hex digits, not '" + text + "' (line " + std::to_string(s.line) + ")");
  return *id;
}

class multiparty_adapter final : public adapter {
public:
  ~multiparty_adapter() override {
    if (!own_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(own_dir_, ignored);
    }
  }

  std::string protocol() const override { return "multiparty"; }
  unsigned short default_port() const override { return default_port_number; }
  std::unique_ptr<message_framer> make_framer() const override { return std::make_unique<mp::frame_text>(&server_private_); }
  std::string encode(const std::string&) const override {
    throw case_error("multiparty frames are binary: use multiparty.send (or send_raw) instead of send");
  }
  // status: the status interval; answer: the time a status_req may wait for its status_res.
  timing real_timing() const override { return {{{"status", 30000}, {"answer", 3000}}}; }
  timing fast_timing() const override { return {{{"status", 400}, {"answer", 3000}}}; }
  std::unique_ptr<builtin_server> start_builtin(const timing& t) const override {
    return std::make_unique<builtin_host<hub>>(
        "multiparty",
        hub_options{.server_key = server_private_,
                    .users = directory_,
                    .status_interval = millis(static_cast<long long>(t.vars.at("status"))),
                    .status_timeout = millis(static_cast<long long>(t.vars.at("answer")))},
        host::host_options{});
  }
  std::string reference_client_command(const std::string& bin_dir) const override {
    return "'" + bin_dir + "/parley-client' multiparty --host 127.0.0.1 --port {port} --name {name} --key '{keys}/{name}.pem' "
                           "--server-key '{keys}/server.public.pem' --script -";
  }
  std::map<std::string, std::string> placeholders() const override {
    return {{"keys", keys_dir_}, {"users", users_file_}};
  }

  std::string prepare(const run_settings& settings) override {
    if (settings.kind == target_kind::launch && settings.keys_dir.empty() &&
        settings.launch_command.find("{keys}") == std::string::npos)
      return "the launched server must know the run's users and server key: put --keys {keys} --users {users} in the "
             "--launch command, or pass --keys DIR with the keys of a server and users it knows";
    return settings.keys_dir.empty() ? make_run_keys() : load_keys(settings.keys_dir);
  }

  std::string begin_case(case_context& ctx, bool shared) const override {
    std::vector<std::string> names;
    if (shared) {
      if (auto problem = lease_.take(ctx, std::min(std::size(case_users), lease_.size()), names); !problem.empty())
        return problem;
    } else {
      for (const auto& entry : directory_) names.push_back(entry.name);
    }
    for (std::size_t i = 0; i < std::size(case_users); ++i) {
      std::string name = i < names.size() ? names[i] : std::string("(no user: the key store has too few)");
      ctx.set(case_users[i], name);
      auto it = users_.find(name);
      ctx.set(std::string(case_users[i]) + "_uid", it != users_.end() ? id_to_hex(uid_of(it->second.public_key)) : "");
    }
    ctx.set("mallory", "mallory");
    ctx.set("mallory_uid", id_to_hex(uid_of(mallory_.public_key)));
    ctx.set("zero", id_to_hex(0));
    ctx.objects()["mp.shared"] = shared;
    return {};
  }

  void end_case(case_context& ctx) const override { lease_.give_back(ctx); }

  bool is_noise(const std::string&, const case_context&) const override { return false; }  // nothing is broadcast

  // A login step that gets no login_res breaks the login rule, whatever the case is about (a login_res
  // that came but cannot be used is blamed on its own rule inside the step); accepting a client's login
  // checks the client's login_req.
  std::string step_rule(const step& s) const override {
    if (s.op == "multiparty.login") return login_rule;
    if (s.op == "multiparty.accept_login") return "MP-CLIENT-02";
    return {};
  }
  // A connection that misbehaves or ends affects only itself (MP-CONN-04).
  std::string independence_rule() const override { return "MP-CONN-04"; }
  std::string client_robustness_rule() const override { return "MP-CLIENT-13"; }
  std::string reference_server_arguments() const override {
    return "--port {port} --keys {keys} --users {users} --status-interval {status}";
  }
  // There is no goodbye message: a session ends when its connection does (spec §10.3, MP-CONN-05), so the
  // polite end is a plain close of the TCP connection.
  std::string farewell(message_framer&) const override { return {}; }
  // The server may send status_req to a connection that has been silent for the status interval
  // (MP-STATUS-03). Outside the status rules' own checks the engine answers as a client must
  // (MP-CLIENT-06): a status_res "Online" with its own uid, sealed under the connection's k_c2s with the
  // next sqn, so a case about something else never loses its connection to the answer timeout.
  std::optional<std::string> keepalive_answer(message_framer& framer, const std::string& message) const override {
    if (message != server_status_req) return std::nullopt;
    auto* frames = dynamic_cast<mp::frame_text*>(&framer);
    if (!frames || !frames->state().keyed) return std::string{};
    auto& st = frames->state();
    multiparty::header h{.type = 0x0410, .sqn = ++st.last_out, .sid = 0, .uid = st.uid};
    auto frame = mp::build_frame(st.out_key, st.out_direction(), {h, "Online", 0, false, {}});
    return std::string(frame.begin(), frame.end());
  }
  std::vector<std::string> keepalive_rules() const override { return {"MP-STATUS-03", "MP-STATUS-04"}; }

  // The most ordinary thing a client does: log in as one of the run's users. A multiparty server answers
  // with an MTP frame (a login_res; one it gets wrong is the login cases' business). Text (an itp server's
  // INIT, an HTTP answer), other bytes, or a silent close are one clear problem instead of a FAIL per case.
  identity identify(case_context& ctx) const override {
    const std::string conn = "preflight";
    if (auto f = ctx.connect(conn, ctx.deadline({}, 5000)); !f.empty()) return {f, {}, {}};
    std::string user = ctx.get("alice");
    if (!users_.contains(user)) return {"the preflight has no user to log in as: " + user, {}, {}};
    step s;
    s.op = "multiparty.login_req";
    s.conn = conn;
    s.args["user"] = user;
    if (auto f = send_login_req(s, ctx); !f.empty()) return {f, {}, {}};
    std::string failure = ctx.expect(conn, {"^login_res "}, ctx.deadline({}, 5000));
    if (failure.empty()) return {};
    std::string head = dynamic_cast<mp::frame_text*>(ctx.framer_of(conn))->first_bytes();
    if (!head.empty()) {
      std::string what = mp::not_mtp(head);
      if (what.empty()) return {};
      return {"the target does not speak multiparty: to a login_req " + what, {}, {}};
    }
    return {"the target " + std::string(ctx.trouble().lost ? "closed the connection" : "sent nothing for 5 s") +
                " when " + user + " logged in with a valid login_req: it is not a multiparty server, or it does not "
                "know the run's users and server key (a launched server needs --keys {keys} --users {users}; for "
                "--target give --keys DIR with the keys of users it knows and its server.public.pem)",
            {}, {}};
  }

  std::unique_ptr<session_watcher> make_watcher() const override { return multiparty_watch::make_sender_watcher(); }

  std::string run_step(const step& s, case_context& ctx) const override {
    std::string name = s.op.substr(std::string("multiparty.").size());
    if (name == "login") return login(s, ctx);
    if (name == "login_req") return send_login_req(s, ctx);
    if (name == "send") return send_frame(s, ctx);
    if (name == "accept_login") return accept_login(s, ctx);
    if (name == "part") return make_part(s, ctx);
    if (name == "open_part") return check_part(s, ctx);
    if (name == "long_text") return long_text(s, ctx);
    if (name == "distinct") return distinct(s, ctx);
    if (name == "flood") return flood(s, ctx);
    throw case_error("unknown multiparty step " + s.op);
  }

private:
  // --- keys ---------------------------------------------------------------------------------------------

  std::string make_run_keys() {
    own_dir_ = (std::filesystem::temp_directory_path() / ("parley-multiparty-keys-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(own_dir_);
    keys_dir_ = own_dir_;
    core::key_store store(keys_dir_);
    std::vector<std::string> names{"server"};
    names.insert(names.end(), std::begin(case_users), std::end(case_users));
    names.push_back("mallory");  // a key pair no server knows
    std::vector<std::future<result<core::pkey>>> made;
    for (std::size_t i = 0; i < names.size(); ++i)
      made.push_back(std::async(std::launch::async, [] { return core::pkey::generate_rsa(2048); }));
    std::ofstream users_file(std::filesystem::path(keys_dir_) / "users");
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto key = made[i].get();
      if (!key) return "RSA key generation failed";
      if (names[i] == "mallory") {
        mallory_ = {*key, *core::pkey::from_public_pem(key->public_pem())};
        continue;
      }
      if (store.save(names[i], *key)) return "cannot write keys to " + keys_dir_;
      if (names[i] == "server") {
        server_private_ = *key;
        server_public_ = *core::pkey::from_public_pem(key->public_pem());
        continue;
      }
      add_user(names[i], *key);
      users_file << names[i] << "\n";
    }
    users_file_ = (std::filesystem::path(keys_dir_) / "users").string();
    return users_file ? "" : "cannot write " + users_file_;
  }

  // --keys DIR: the users whose private keys are there, the server's public key (server.public.pem or
  // server.pem), and its private key when present (client-role cases play that server).
  std::string load_keys(const std::string& dir) {
    keys_dir_ = std::filesystem::absolute(dir).string();
    users_file_ = (std::filesystem::path(keys_dir_) / "users").string();
    core::key_store store(keys_dir_);
    auto server = store.load_public("server");
    if (!server) return "--keys " + dir + " has no server.public.pem or server.pem: the server's public key is needed";
    server_public_ = server->key;
    if (auto priv = store.load_private("server")) server_private_ = *priv;
    for (const auto& name : store.names()) {
      if (name == "server") continue;
      if (auto key = store.load_private(name)) add_user(name, *key);
    }
    if (users_.size() < 3)
      return "--keys " + dir + " holds private keys for " + std::to_string(users_.size()) +
             " users; the suite needs at least 3 (make them with: parley-conform keys --out DIR --users server,alice,bob,carol,dave,erin)";
    auto m = core::pkey::generate_rsa(2048);
    if (!m) return "RSA key generation failed";
    mallory_ = {*m, *core::pkey::from_public_pem(m->public_pem())};
    return {};
  }

  void add_user(const std::string& name, const core::pkey& private_key) {
    auto pub = *core::pkey::from_public_pem(private_key.public_pem());
    users_[name] = {private_key, pub};
    directory_.push_back({name, uid_of(pub), pub});
    lease_.add(name);
  }

  const user_keys& keys_of(const std::string& who) const {
    if (who == "mallory") return mallory_;
    auto it = users_.find(who);
    if (it == users_.end()) throw case_error("no key for '" + who + "': not a user of the key store, nor mallory");
    return it->second;
  }

  // --- connections ----------------------------------------------------------------------------------------

  static connection_state& state_of(case_context& ctx, const std::string& conn) {
    auto* framer = dynamic_cast<mp::frame_text*>(ctx.framer_of(conn));
    if (!framer) throw case_error("connection " + conn + " is not a multiparty connection");
    return framer->state();
  }

  // connect, login_req, login_res: the prologue of most server cases. No login_res at all breaks the
  // step's rule (MP-LOGIN-17 unless the case names another); a login_res that cannot be used breaks the
  // rule the framer found it breaking (MP-LOGIN-13, MP-LOGIN-14); `match`, a regex for the login_res text
  // with optional `capture`, checks its content for `match_rule` (default MP-LOGIN-14).
  std::string login(const step& s, case_context& ctx) const {
    std::string user = arg(s, ctx, "user");
    bool shared = std::any_cast<bool>(ctx.objects()["mp.shared"]);
    // On a shared target the previous case's connection for this user may still be closing: retry a little.
    for (int attempt = 0;; ++attempt) {
      if (auto f = ctx.connect(s.conn, ctx.deadline({}, 5000)); !f.empty()) return f;
      if (auto f = send_login_req(s, ctx); !f.empty()) return f;
      auto f = ctx.expect(s.conn, {"^(login_res .*)$"}, ctx.deadline({}, 3000), {"mp.login_res"});
      if (f.empty()) break;
      if (auto rule = state_of(ctx, s.conn).login_refused; !rule.empty())
        return ctx.blame(rule, "login of " + user + ": " + f);
      if (!shared || attempt >= 10) return "login of " + user + " failed: " + f;
      ctx.close(s.conn, false);
      std::this_thread::sleep_for(millis(200));
    }
    if (!has(s, "match")) return {};
    std::string text = ctx.get("mp.login_res");
    std::string pattern = ctx.substitute(s.args["match"].as<std::string>(), true);
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(pattern)))
      return ctx.blame(arg(s, ctx, "match_rule", "MP-LOGIN-14"),
                       "the login_res '" + text + "' does not match /" + pattern + "/");
    if (has(s, "capture"))
      for (std::size_t i = 0; i < s.args["capture"].size() && i + 1 < m.size(); ++i)
        ctx.set(s.args["capture"][i].as<std::string>(), m[i + 1].str());
    return {};
  }

  // A login_req, honest unless the case changes a part of it. Connects first if needed.
  std::string send_login_req(const step& s, case_context& ctx) const {
    if (has(s, "replay")) {
      auto it = ctx.objects().find("mp.frame:" + arg(s, ctx, "replay"));
      if (it == ctx.objects().end()) throw case_error("no saved login_req '" + arg(s, ctx, "replay") + "'");
      const auto& saved = std::any_cast<std::pair<login_secrets, bytes>&>(it->second);
      state_of(ctx, s.conn).pending_logins.push_back(saved.first);
      return ctx.send(s.conn, as_chars(saved.second));
    }
    std::string user = arg(s, ctx, "user");
    const user_keys& keys = keys_of(user);
    std::string name = arg(s, ctx, "name", user);
    const user_keys& signer = keys_of(arg(s, ctx, "signer", user));
    login_secrets secrets{.tk = core::random_bytes(32), .client_random = core::random_bytes(32), .request = {}};
    auto timestamp = static_cast<std::uint64_t>(static_cast<long long>(multiparty::unix_time_ms()) + number_arg(s, ctx, "timestamp_offset", 0));
    std::string random_hex = core::to_hex(secrets.client_random);
    // signed_tk: other — the signature covers a tk other than the one sent.
    bytes signed_tk = arg(s, ctx, "signed_tk", "same") == "other" ? core::random_bytes(32) : secrets.tk;
    auto signature = core::sign(signer.private_key, core::signature_scheme::rsa_pkcs1_sha256,
                                as_bytes(login_signed_bytes(name, random_hex, timestamp, signed_tk)));
    if (!signature) throw case_error("signing failed");
    std::string payload = has(s, "payload") ? arg(s, ctx, "payload")
                                            : name + "\n" + random_hex + "\n" + std::to_string(timestamp) + "\n" +
                                                  core::to_hex(*signature) + "\n";
    const core::pkey& to = arg(s, ctx, "encrypt_to", "server") == "server" ? server_public_ : keys_of(arg(s, ctx, "encrypt_to")).public_key;
    auto etk = core::rsa_encrypt(to, core::rsa_padding::oaep_sha256, secrets.tk);
    if (!etk) throw case_error("RSA-OAEP failed");
    mp::frame_spec spec{.h = {.type = static_cast<std::uint16_t>(msg_type::login_req),
                              .sqn = static_cast<std::uint16_t>(number_arg(s, ctx, "sqn", 1)),
                              .sid = id_arg(s, ctx, "sid", 0),
                              .uid = id_arg(s, ctx, "uid", uid_of(keys.public_key))},
                        .payload = payload,
                        .trailer = *etk};
    bytes frame = mp::build_frame(secrets.tk, direction::to_server, spec);
    secrets.request = frame;
    if (has(s, "save")) ctx.objects()["mp.frame:" + arg(s, ctx, "save")] = std::pair{secrets, frame};
    connection_state& st = state_of(ctx, s.conn);
    st.pending_logins.push_back(secrets);
    st.uid = spec.h.uid;
    ctx.watch_sealed(s.conn, mp::line_of(spec.h, spec.payload));
    return ctx.send(s.conn, as_chars(frame), s.split_at);
  }

  // Any frame, sealed with the connection's keys (or a random key before them), fields as the case says:
  // `payload` as text or `payload_hex` as bytes, `payload_size` to pad or cut it, `len_delta` or an absolute
  // `len` for the header's length, `tag: bad`, `ver: MAJOR.MINOR`, `hold` to send it with the next frame.
  std::string send_frame(const step& s, case_context& ctx) const {
    connection_state& st = state_of(ctx, s.conn);
    auto type = mp::type_from_text(arg(s, ctx, "type"));
    if (!type) throw case_error("multiparty.send: unknown type '" + arg(s, ctx, "type") + "' (line " + std::to_string(s.line) + ")");
    std::string sqn_text = arg(s, ctx, "sqn", "next");
    std::uint16_t sqn = 0;
    if (sqn_text == "next") sqn = ++st.last_out;
    else if (sqn_text == "repeat") sqn = st.last_out;  // the previous frame's sqn again (a replay)
    else if (sqn_text == "skip") sqn = st.last_out = static_cast<std::uint16_t>(st.last_out + 2);
    else sqn = st.last_out = static_cast<std::uint16_t>(number_arg(s, ctx, "sqn", 0));
    mp::frame_spec spec{.h = {.type = *type, .sqn = sqn, .sid = id_arg(s, ctx, "sid", 0),
                              .uid = id_arg(s, ctx, "uid", st.engine_is_server ? 0 : st.uid)},
                        .payload = arg(s, ctx, "payload", ""),
                        .len_delta = static_cast<int>(number_arg(s, ctx, "len_delta", 0)),
                        .bad_tag = arg(s, ctx, "tag", "good") == "bad"};
    if (has(s, "payload_hex")) spec.payload = hex_argument(s, "payload_hex", arg(s, ctx, "payload_hex"));
    if (has(s, "payload_size")) spec.payload.resize(static_cast<std::size_t>(number_arg(s, ctx, "payload_size", 0)), 'x');
    if (has(s, "len")) {  // the header's len as written, whatever the frame's size
      long long len = number_arg(s, ctx, "len", 0);
      if (len < 0 || len > 65535) throw case_error("multiparty.send: len is 0..65535 (line " + std::to_string(s.line) + ")");
      spec.len = static_cast<std::uint16_t>(len);
    }
    if (has(s, "ver")) {
      std::string ver = arg(s, ctx, "ver");
      auto dot = ver.find('.');
      if (dot == std::string::npos) throw case_error("multiparty.send: ver is MAJOR.MINOR");
      spec.h.ver_major = static_cast<std::uint8_t>(std::stoi(ver.substr(0, dot)));
      spec.h.ver_minor = static_cast<std::uint8_t>(std::stoi(ver.substr(dot + 1)));
    }
    bytes key = st.keyed ? st.out_key : core::random_bytes(32);
    bytes frame = mp::build_frame(key, st.out_direction(), spec);
    ctx.watch_sealed(s.conn, mp::line_of(spec.h, spec.payload));
    auto& held = ctx.objects()["mp.held:" + s.conn];
    if (!held.has_value()) held = std::string();
    auto& pending = std::any_cast<std::string&>(held);
    pending += as_chars(frame);
    if (arg(s, ctx, "hold", "no") == "yes") return {};  // goes out with the next frame, in one write
    std::string bytes_out = std::move(pending);
    pending.clear();
    return ctx.send(s.conn, bytes_out, s.split_at, millis(static_cast<long long>(ctx.ms(s.gap, 0))));
  }

  // Client-role: checks the client's login_req (MP-CLIENT-02) and answers it; `corrupt` makes the answer
  // wrong on purpose: hash, tag, directory (a uid that is not its key's), type.
  std::string accept_login(const step& s, case_context& ctx) const {
    connection_state& st = state_of(ctx, s.conn);
    if (!st.client_login) return "no login_req from the client to accept (expect it first)";
    const login_request& request = *st.client_login;
    std::string user = arg(s, ctx, "user");
    const user_keys& keys = keys_of(user);
    if (request.name != user) return "the login_req names '" + request.name + "', not " + user;
    if (request.h.uid != uid_of(keys.public_key)) return "the login_req's uid is not the uid of " + user + "'s key";
    if (!verify_login(keys.public_key, request)) return "the login_req's signature does not verify with " + user + "'s key";
    auto now = multiparty::unix_time_ms();
    auto skew = now > request.timestamp_ms ? now - request.timestamp_ms : request.timestamp_ms - now;
    if (skew > 10'000) return "the login_req's timestamp is " + std::to_string(skew) + " ms from the engine's clock";
    std::string corrupt = arg(s, ctx, "corrupt", "none");
    std::vector<directory_entry> directory = directory_;
    if (corrupt == "directory") directory.back().uid ^= 1;
    bytes request_frame = st.client_login_frame;
    if (corrupt == "hash") request_frame.push_back(0);
    bytes server_random = core::random_bytes(32);
    std::string plain = core::to_hex(core::sha256(request_frame)) + "\n" + core::to_hex(server_random) + "\n";
    for (const auto& entry : directory)
      plain += entry.name + " " + id_to_hex(entry.uid) + " " + core::to_base64(entry.key.public_der()) + "\n";
    mp::frame_spec spec{.h = {.type = static_cast<std::uint16_t>(corrupt == "type" ? msg_type::init_res : msg_type::login_res),
                              .sqn = 1}, .payload = plain, .bad_tag = corrupt == "tag"};
    bytes frame = mp::build_frame(request.tk, direction::to_client, spec);
    auto keys_derived = derive_keys(request.client_random, server_random, st.client_login_frame);
    st.in_key = to_owned(keys_derived->to_server.key());
    st.out_key = to_owned(keys_derived->to_client.key());
    st.keyed = true;
    st.last_out = 1;
    return ctx.send(s.conn, as_chars(frame));
  }

  // --- message parts ------------------------------------------------------------------------------------

  std::string make_part(const step& s, case_context& ctx) const {
    std::string to = arg(s, ctx, "to");
    session_id sid = id_arg(s, ctx, "sid", 0);
    user_id from = uid_of(keys_of(arg(s, ctx, "from")).public_key);
    auto line = seal_part(keys_of(to).public_key, uid_of(keys_of(to).public_key), sid, from, arg(s, ctx, "text"));
    if (!line) throw case_error("cannot make a part for " + to);
    line->pop_back();  // without its LF, so a case can write the payload "${line}\n"
    ctx.set(arg(s, ctx, "var"), *line);
    return {};
  }

  // `part`: the base64 part, its line "<uid> <part>", or a whole msg_req payload as a case sees it (lines
  // ending in the two characters \n), of which the line for `as` is taken: the spec leaves the order of
  // the lines free.
  std::string check_part(const step& s, case_context& ctx) const {
    std::string as = arg(s, ctx, "as");
    std::string from_name = arg(s, ctx, "from");
    std::string part = arg(s, ctx, "part");
    if (part.find("\\n") != std::string::npos) {
      std::string own = id_to_hex(uid_of(keys_of(as).public_key)) + " ";
      std::string_view rest = part;
      std::string found;
      while (!rest.empty()) {
        auto end = rest.find("\\n");
        std::string_view line = rest.substr(0, end);
        if (line.starts_with(own)) found = std::string(line);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
      }
      if (found.empty()) return "the msg_req has no line for " + as + ": " + part;
      part = found;
    }
    if (auto space = part.find(' '); space != std::string::npos) part = part.substr(space + 1);
    auto text = open_part(keys_of(as).private_key, id_arg(s, ctx, "sid", 0), uid_of(keys_of(from_name).public_key), part);
    if (!text) return "the part does not open with " + as + "'s key and AAD sid || " + from_name + "'s uid (" + text.error().message() + ")";
    if (*text != arg(s, ctx, "text")) return "the part opens to '" + *text + "', expected '" + arg(s, ctx, "text") + "'";
    return {};
  }

  // A text of exactly `bytes` bytes of UTF-8 whose last character takes two ("x...xé"), in variable `var`:
  // the limit of MP-CLIENT-09 is in bytes, so a client that counts characters is caught at 2049.
  std::string long_text(const step& s, case_context& ctx) const {
    auto size = number_arg(s, ctx, "bytes", 0);
    if (size < 2 || size > 60000) throw case_error("multiparty.long_text: bytes is 2 to 60000 (line " + std::to_string(s.line) + ")");
    ctx.set(arg(s, ctx, "var"), std::string(static_cast<std::size_t>(size - 2), 'x') + "\xc3\xa9");
    return {};
  }

  std::string distinct(const step& s, case_context& ctx) const {
    if (!has(s, "values") || !s.args["values"].IsSequence()) throw case_error("multiparty.distinct needs values: [..]");
    std::set<std::string> seen;
    for (const auto& v : s.args["values"]) {
      std::string value = ctx.substitute(v.as<std::string>());
      if (!seen.insert(value).second) return "the value " + value + " occurs twice; it must be fresh each time";
    }
    return {};
  }

  // `count` frames of `type` (default status_req) in large writes, and as many answers read and checked:
  // the quick way to a connection's high sqns (MP-MTP-08). `count: rest` sends as many as the server's
  // frames on the connection have left to 65535, counted from the last one received, so that a server
  // that numbers them wrongly (one finding against MP-MTP-07) still reaches its last sqn.
  std::string flood(const step& s, case_context& ctx) const {
    connection_state& st = state_of(ctx, s.conn);
    auto count = arg(s, ctx, "count", "") == "rest" ? 65535 - static_cast<long long>(st.last_in)
                                                    : number_arg(s, ctx, "count", 0);
    std::string chunk;
    auto type = mp::type_from_text(arg(s, ctx, "type", "status_req"));
    for (long long i = 0; i < count; ++i) {
      mp::frame_spec spec{.h = {.type = *type, .sqn = ++st.last_out, .uid = st.uid}, .payload = arg(s, ctx, "payload", "")};
      chunk += as_chars(mp::build_frame(st.out_key, st.out_direction(), spec));
      if (chunk.size() > 64 * 1024 || i + 1 == count) {
        if (auto f = ctx.send(s.conn, chunk); !f.empty()) return f;
        chunk.clear();
      }
    }
    std::string answer = arg(s, ctx, "answer", "");
    if (answer.empty()) return {};
    return ctx.expect_count(s.conn, answer, static_cast<std::size_t>(count), ctx.deadline({}, 20000));
  }

  static constexpr unsigned short default_port_number = multiparty::default_port;
  std::map<std::string, user_keys> users_;
  std::vector<directory_entry> directory_;  // the run's users, in the users file's order
  user_keys mallory_;
  core::pkey server_private_, server_public_;
  std::string keys_dir_, own_dir_, users_file_;
  user_lease lease_;
};

}  // namespace

std::unique_ptr<adapter> make_multiparty_adapter() { return std::make_unique<multiparty_adapter>(); }

}  // namespace parley::conform
