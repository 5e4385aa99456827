// Fuzzes the multiparty hub with four virtual connections. The harness logs in for real (test keys in
// fuzz/keys/, the server's in fuzz/keys/multiparty/) and seals what the fuzzer writes with each
// connection's session keys and next sqn, so fuzzing gets past the login and the tag check to sessions,
// invitations, routing, close and status.
//
// Input: the first byte picks a planted fault (0: none), then records [op:1][conn:1][len:2 big-endian][payload]:
//   op % 7 = 0 connect conn % 4              1 payload as raw bytes on conn (login path, framing)
//            2 the peer closes               3 time passes: len * 50 ms
//            4 log in as user payload[0] % 5 with the next of its prepared login_reqs (the 4th repeats the
//              1st); payload[1] bit 0: one 200 s old instead, bit 1: the previous one again (a replay)
//            5 a sealed frame: payload[0] % 13 the type (12: unknown 0x0700), payload[1] flags (1 bad tag,
//              2 repeat the sqn, 4 another user's uid, 8 the last sid seen), payload from 2 on the plaintext
//            6 a well-formed request: payload[0] % 5 = init_req to the users of mask payload[1], invite_res
//              (payload[1] bit 0: Accept) for the last sid, msg_req with a part for each user of the mask,
//              close_req for the last sid, status_req about user payload[1] % 5
// Invariants: nothing is sent to a closed connection or before a login_req; every frame to a logged-in
// connection opens under its key with sqn exactly previous + 1 (under skip-sqn, 3 right after the
// login_res: the planted gap) and is a type servers send; a forwarded msg_req is one line addressed to its
// recipient; the hub's connection count matches the open ones.
// Speed: the hub's two RSA steps per login (opening the login_req, checking its signature) go through
// hub_options hooks memoized by their input bytes (fuzz/memo.hpp), prefilled with the prepared logins;
// the GCM seal and open and the HKDF of every login stay real.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <set>

#include "fuzz/check.hpp"
#include "fuzz/hub_records.hpp"
#include "fuzz/memo.hpp"
#include "fuzz/test_keys.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/multiparty/payload.hpp"
#include "impl/server/multiparty/hub.hpp"

namespace {

using namespace parley;
using namespace parley::multiparty;

constexpr int connections = 4;
constexpr const char* users[] = {"alice", "bob", "carol", "dave", "erin"};
constexpr std::uint64_t clock_ms = 1'800'000'000'000;
constexpr std::uint16_t types[] = {0x0000, 0x0010, 0x0100, 0x0110, 0x0200, 0x0210,
                                   0x0300, 0x0310, 0x0400, 0x0410, 0x0500, 0x0510, 0x0700};

constexpr int logins_per_user = 3;

struct test_keys {
  core::pkey server, server_public;
  std::vector<core::pkey> privates;
  std::vector<directory_entry> directory;
  // Made once: RSA signing per login would halve the executions per second. Every input starts a new hub,
  // so its replay cache is empty; within one input a user's logins take these in turn, and a fourth
  // login repeats the first one's tk, which the hub must refuse.
  std::vector<std::array<login_secrets, logins_per_user>> logins;
  std::vector<login_secrets> stale_logins;  // timestamps 200 s old
  std::string directory_text;                // what every login_res lists
};

const test_keys& keys() {
  static const test_keys k = [] {
    test_keys t;
    auto server = core::pkey::from_private_pem(fuzz::multiparty_server_key());
    PARLEY_FUZZ_CHECK(server.has_value(), "cannot load fuzz/keys/multiparty/server.pem");
    t.server = *server;
    t.server_public = *core::pkey::from_public_pem(server->public_pem());
    const auto known = fuzz::user_keys();
    for (const char* name : users) {
      auto found = std::find_if(known.begin(), known.end(), [&](const auto& entry) { return entry.name == name; });
      PARLEY_FUZZ_CHECK(found != known.end(), "fuzz/keys has no key for a user");
      auto key = core::pkey::from_private_pem(found->private_pem);
      PARLEY_FUZZ_CHECK(key.has_value(), "cannot load the fuzz keys");
      auto pub = *core::pkey::from_public_pem(key->public_pem());
      t.privates.push_back(*key);
      t.directory.push_back({name, uid_of(pub), pub});
      auto& made = t.logins.emplace_back();
      for (auto& secrets : made)
        PARLEY_FUZZ_CHECK(make_login_req(*key, name, t.server_public, clock_ms, secrets).has_value(), "cannot make a login_req");
      PARLEY_FUZZ_CHECK(make_login_req(*key, name, t.server_public, clock_ms - 200'000, t.stale_logins.emplace_back()).has_value(),
                        "cannot make a login_req");
    }
    t.directory_text = directory_lines(t.directory);
    return t;
  }();
  return k;
}

// What an RSA verify of a login depends on: the user's key (its uid stands for it), the signed bytes and
// the signature.
std::string verify_key(const directory_entry& user, const login_request& r) {
  std::string key = id_to_hex(user.uid) + login_signed_bytes(r.name, core::to_hex(r.client_random), r.timestamp_ms, r.tk);
  key += as_chars(r.signature);
  return key;
}

struct login_memo {
  fuzz::memo<result<login_request>> opened;     // open_login_req by the frame's bytes
  fuzz::memo<bool> verified;                    // verify_login by verify_key
};

login_memo& memos() {
  static login_memo m = [] {
    login_memo made;
    const auto& k = keys();
    auto prepare = [&](const login_secrets& secrets, const directory_entry& user) {
      auto opened = open_login_req(k.server, secrets.request);
      PARLEY_FUZZ_CHECK(opened.has_value(), "a prepared login_req does not open");
      bool valid = verify_login(user.key, *opened);
      PARLEY_FUZZ_CHECK(valid, "a prepared login_req's signature does not verify");
      made.verified.keep(verify_key(user, *opened), valid);
      made.opened.keep(std::string(as_chars(secrets.request)), std::move(opened));
    };
    for (std::size_t u = 0; u < k.directory.size(); ++u) {
      for (const auto& secrets : k.logins[u]) prepare(secrets, k.directory[u]);
      prepare(k.stale_logins[u], k.directory[u]);
    }
    return made;
  }();
  return m;
}

// The server_random of `frame` when it is the login_res that answers `login`: sealed under its tk, type
// login_res, sqn 1, sid 0, uid 0, and the lines SHA-256 of the login_req, a server_random, then exactly
// the directory of the hub's users. Comparing the directory's text is stricter than open_login_res (which
// the payload fuzzer fuzzes) and costs no key parsing: that was half of this target's time.
std::optional<bytes> login_res_random(const login_secrets& login, byte_view frame) {
  auto opened = open_frame(login.tk, direction::to_client, frame);
  if (!opened) return std::nullopt;
  const header& h = opened->h;
  if (h.type != static_cast<std::uint16_t>(msg_type::login_res) || h.sqn != 1 || h.sid != 0 || h.uid != 0)
    return std::nullopt;
  std::string_view text = as_chars(opened->payload);
  std::string hash = core::to_hex(core::sha256(login.request)) + "\n";
  if (!text.starts_with(hash)) return std::nullopt;
  text.remove_prefix(hash.size());
  auto end = text.find('\n');
  if (end == std::string_view::npos || text.substr(end + 1) != keys().directory_text) return std::nullopt;
  auto random = core::from_hex(text.substr(0, end));
  if (!random || random->size() != random_size) return std::nullopt;
  return *random;
}

bool server_may_send(std::uint16_t type) {
  return known_type(type) && type != static_cast<std::uint16_t>(msg_type::init_req) &&
         type != static_cast<std::uint16_t>(msg_type::login_req);
}

struct connection {
  bool open = false;
  core::conn_id id = 0;
  int user = -1;                         // whom it logs in as
  std::optional<login_secrets> pending;  // a login_req sent, its login_res not yet seen
  bool logged_in = false;
  session_keys keys;
  sequence out, in;
};

struct harness {
  hub h;
  std::array<connection, connections> conns{};
  std::set<core::conn_id> closed;
  std::map<int, int> logins_made;  // per user: how many of its prepared logins this input used
  core::conn_id next_id = 1;
  session_id last_sid = 0;
  time_point now{};
  fault planted;

  explicit harness(hub_options options) : h(options), planted(options.planted) {}

  connection* by_id(core::conn_id id) {
    for (auto& c : conns)
      if (c.open && c.id == id) return &c;
    return nullptr;
  }

  void apply(core::actions& out) {
    for (auto& action : out.take()) {
      if (auto* close = std::get_if<core::close_action>(&action)) {
        closed.insert(close->conn);
        if (auto* c = by_id(close->conn)) c->open = false;
        continue;
      }
      if (std::holds_alternative<core::crash_action>(action)) continue;  // a planted crash; the hub goes on
      auto& send = std::get<core::send_action>(action);
      PARLEY_FUZZ_CHECK(!closed.contains(send.conn), "sent to a closed connection");
      connection* c = by_id(send.conn);
      PARLEY_FUZZ_CHECK(c != nullptr, "sent to a connection that does not exist");
      bytes frame = to_bytes(send.bytes);
      if (!c->logged_in) {
        PARLEY_FUZZ_CHECK(c->pending.has_value(), "sent to a connection before its login_req");
        auto server_random = login_res_random(*c->pending, frame);
        PARLEY_FUZZ_CHECK(server_random.has_value(), "the answer to a login_req is not its login_res under its tk");
        c->keys = *derive_keys(c->pending->client_random, *server_random, c->pending->request);
        c->pending.reset();
        c->logged_in = true;
        c->out.next_to_send();
        c->in.accept(1);
        if (planted == fault::skip_sqn) c->in.accept(2);  // the planted gap: the next frame is 3, exactly
        continue;
      }
      auto opened = open_frame(c->keys.to_client, direction::to_client, frame);
      PARLEY_FUZZ_CHECK(opened.has_value(), "a server frame does not open under the connection's key");
      PARLEY_FUZZ_CHECK(c->in.accept(opened->h.sqn), "a server frame's sqn is not the previous + 1");
      PARLEY_FUZZ_CHECK(server_may_send(opened->h.type), "the server sent a type only clients send");
      auto type = static_cast<msg_type>(opened->h.type);
      if ((type == msg_type::init_res || type == msg_type::invite_req) && opened->h.sid != 0) last_sid = opened->h.sid;
      if (type == msg_type::msg_req) {
        auto parts = parse_message_parts(as_chars(opened->payload));
        PARLEY_FUZZ_CHECK(parts && parts->size() == 1, "a forwarded msg_req is not exactly one line");
        PARLEY_FUZZ_CHECK((*parts)[0].to == keys().directory[static_cast<std::size_t>(c->user)].uid,
                          "a forwarded msg_req line is addressed to someone else");
      }
    }
  }

  void check_state() {
    std::size_t open = 0;
    for (const auto& c : conns) open += c.open;
    PARLEY_FUZZ_CHECK(h.connection_count() == open, "the hub's connection count differs from the open connections");
  }

  void login(connection& c, int user, int flags, core::actions& out) {
    const auto& k = keys();
    auto u = static_cast<std::size_t>(user);
    int& made = logins_made[user];
    login_secrets secrets;
    if (flags & 1) secrets = k.stale_logins[u];
    else if ((flags & 2) && made > 0) secrets = k.logins[u][static_cast<std::size_t>(made - 1) % logins_per_user];  // a replay
    else secrets = k.logins[u][static_cast<std::size_t>(made++) % logins_per_user];
    c.user = user;
    c.pending = secrets;
    h.on_data(c.id, as_chars(secrets.request), now, out);
  }

  void seal(connection& c, std::uint16_t type, int flags, std::string_view payload, core::actions& out) {
    if (!c.logged_in) return;
    std::uint16_t sqn = (flags & 2) ? c.out.last() : c.out.next_to_send().value_or(0);
    user_id uid = keys().directory[static_cast<std::size_t>(c.user)].uid;
    if (flags & 4) uid = keys().directory[static_cast<std::size_t>((c.user + 1) % 5)].uid;
    header hd{.type = type, .sqn = sqn, .sid = (flags & 8) ? last_sid : 0, .uid = uid};
    auto frame = seal_frame(c.keys.to_server, direction::to_server, hd, as_bytes(payload));
    if (!frame) return;
    if (flags & 1) frame->back() ^= 1;
    h.on_data(c.id, as_chars(*frame), now, out);
  }

  void request(connection& c, int kind, std::uint8_t arg, core::actions& out) {
    const auto& dir = keys().directory;
    std::vector<user_id> chosen;
    for (int u = 0; u < 5; ++u)
      if (arg >> u & 1) chosen.push_back(dir[static_cast<std::size_t>(u)].uid);
    switch (kind) {
      case 0: return seal(c, 0x0000, 0, uid_lines(chosen), out);
      case 1: return seal(c, 0x0310, 8, (arg & 1) ? "Accept" : "Deny", out);
      case 2: {
        std::string lines;
        for (auto uid : chosen) lines += id_to_hex(uid) + " AAAAAAAAAAAAAAAA\n";
        return seal(c, 0x0200, 8, lines, out);
      }
      case 3: return seal(c, 0x0100, 8, "", out);
      default: return seal(c, 0x0400, 0, id_to_hex(dir[arg % 5].uid), out);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& k = keys();
  auto faults = all_faults();
  hub_options options{.server_key = k.server, .users = k.directory, .status_interval = millis(1000),
                      .status_timeout = millis(300), .unix_ms = [] { return clock_ms; }};
  auto& memo = memos();
  options.open_login = [&k, &memo](byte_view frame) {
    return memo.opened.get(std::string(as_chars(frame)), [&] { return open_login_req(k.server, frame); });
  };
  options.verify_login = [&memo](const directory_entry& user, const login_request& request) {
    return memo.verified.get(verify_key(user, request), [&] { return verify_login(user.key, request); });
  };
  std::uint64_t counter = 0;
  options.random = [&counter](std::size_t n) {  // reproducible runs: sids and randoms from a counter
    bytes b(n, 0);
    std::uint64_t v = ++counter;
    for (std::size_t i = 0; i < n && i < 8; ++i) b[n - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
  };
  if (auto planted = fuzz::planted_fault(data, size, faults)) options.planted = *planted;
  harness h(options);

  fuzz::hub_records records(data, size, 7, connections, [](int op) { return op != 3; });
  while (auto r = records.next()) {
    int op = r->op;
    int conn = r->conn;
    std::size_t len = r->len;
    std::string_view payload = r->payload;
    connection& c = h.conns[conn];
    auto byte = [&](std::size_t i) { return i < payload.size() ? static_cast<std::uint8_t>(payload[i]) : std::uint8_t{0}; };
    core::actions out;
    if (op == 0 && !c.open) {
      c = connection{};
      c.open = true;
      c.id = h.next_id++;
      h.h.on_connect(c.id, "fuzz", h.now, out);
    } else if (!c.open) {
      continue;
    } else if (op == 1) {
      h.h.on_data(c.id, payload, h.now, out);
    } else if (op == 2) {
      c.open = false;
      h.closed.insert(c.id);
      h.h.on_close(c.id, h.now, out);
    } else if (op == 3) {
      h.now += millis(static_cast<long long>(len) * 50);
      fuzz::fire_due_timers(h.h, h.now, out);
    } else if (op == 4 && !c.logged_in && !c.pending) {
      h.login(c, byte(0) % 5, byte(1), out);
    } else if (op == 5) {
      h.seal(c, types[byte(0) % 13], byte(1), payload.size() > 2 ? payload.substr(2) : std::string_view{}, out);
    } else if (op == 6) {
      h.request(c, byte(0) % 5, byte(1), out);
    }
    h.apply(out);
    h.check_state();
  }
  return 0;
}
