// Fuzzes the securechat server hub with four virtual connections. Joins can pass the signature check:
// the hub trusts the test keys in fuzz/keys/, which also signed the joins in the recorded seeds, and op 4
// makes a correctly signed join on the spot, so fuzzing reaches routing, user updates and errors.
//
// Input: the first byte picks a planted fault (0: none), then records [op:1][conn:1][len:2 big-endian]:
//   op % 5 = 0 connect conn % 4      1 one WebSocket message of len bytes on conn % 4
//            2 the peer closes       3 time passes: len * 7 ms (the login timeout is 1 s here)
//            4 a join on conn % 4: payload[0] % 6 picks the user (5 = unknown), payload[1] % 3 the signature
//              (valid, another user's, over another name); payload bytes from 2 on are the message id
// A message over the 1 MiB limit is what the host would refuse: the connection closes instead (a record
// holds at most 65 535 bytes, so fuzzing never gets there).
// Invariants: nothing is sent to a closed connection; every message sent decodes, and is a message servers
// send; before its Welcome a connection gets nothing but one ErrorMessage followed by a close; names are
// unique and the session count matches the open connections.
// Speed: the hub's RSA verify of a join goes through hub_options::verify, memoized by key, name and
// signature (fuzz/memo.hpp) and prefilled with the joins op 4 makes; the harness decodes each message the
// hub sends once for all its recipients, and once for the inputs that make the same message.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <set>

#include "fuzz/check.hpp"
#include "fuzz/hub_records.hpp"
#include "fuzz/memo.hpp"
#include "fuzz/test_keys.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/proto/securechat/crypto.hpp"
#include "impl/server/securechat/hub.hpp"

namespace {

using namespace parley;
using namespace parley::securechat;

constexpr int connections = 4;
constexpr const char* users[] = {"alice", "bob", "carol", "dave", "erin", "zed"};  // zed: no key

struct test_keys {
  std::map<std::string, known_key> publics;
  std::map<std::string, core::pkey> privates;
  // joins[user][mode]: signature hex for the modes valid / another user's key / over another name
  std::map<std::string, std::array<std::string, 3>> signatures;
};

const test_keys& keys() {
  static const test_keys k = [] {
    test_keys t;
    for (const auto& [name, pem] : fuzz::user_keys()) {
      auto key = core::pkey::from_private_pem(pem);
      PARLEY_FUZZ_CHECK(key.has_value(), "cannot load the fuzz keys");
      t.privates[std::string(name)] = *key;
      t.publics[std::string(name)] = {*core::pkey::from_public_pem(key->public_pem()), key->public_pem()};
    }
    PARLEY_FUZZ_CHECK(t.privates.size() >= 2, "fuzz/keys holds fewer than two users");
    for (const char* user : users) {
      const auto& own = t.privates.contains(user) ? t.privates.at(user) : t.privates.begin()->second;
      const auto& other = std::next(t.privates.begin())->second;
      t.signatures[user] = {*sign_join(own, user), *sign_join(other, user), *sign_join(own, std::string(user) + "x")};
    }
    return t;
  }();
  return k;
}

// What an RSA verify of a join depends on: the key (its PEM), the name and the signature.
std::string verify_key(const known_key& key, std::string_view name, std::string_view signature_hex) {
  std::string made = key.pem;
  made += '\n';
  made += name;
  made += '\n';
  made += signature_hex;
  return made;
}

fuzz::memo<bool>& verified() {
  static fuzz::memo<bool> memo = [] {
    fuzz::memo<bool> made;
    const auto& k = keys();
    for (const auto& [user, signatures] : k.signatures) {
      auto key = k.publics.find(user);
      if (key == k.publics.end()) continue;  // no key: the hub refuses the join before any signature check
      for (const auto& signature : signatures)
        made.keep(verify_key(key->second, user, signature), verify_join(key->second.key, user, signature));
    }
    return made;
  }();
  return memo;
}

// What the harness decoded of the hub's messages, by their text: bounded, so a long run's memory stays flat.
fuzz::memo<decoded>& sent_decoded() {
  static fuzz::memo<decoded> memo(1024);
  return memo;
}

bool server_sends(const message& m) {
  return std::holds_alternative<msg::routed_private>(m) || std::holds_alternative<msg::routed_public>(m) ||
         std::holds_alternative<msg::welcome>(m) || std::holds_alternative<msg::add_user>(m) ||
         std::holds_alternative<msg::remove_user>(m) || std::holds_alternative<msg::error>(m);
}

struct harness {
  hub h;
  bool keep_open_fault;
  std::array<bool, connections> open{};
  std::array<core::conn_id, connections> id{};
  std::set<core::conn_id> closed, welcomed;
  core::conn_id next_id = 1;
  time_point now{};

  explicit harness(hub_options options) : h(options), keep_open_fault(options.planted == fault::keep_open_before_join) {}

  void apply(core::actions& out) {
    auto list = out.take();
    const std::string* last_text = nullptr;  // the previous send's bytes and what they decoded to
    decoded d;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (auto* send = std::get_if<core::send_action>(&list[i])) {
        PARLEY_FUZZ_CHECK(!closed.contains(send->conn), "sent to a closed connection");
        // A broadcast is one encoded message sent to each recipient: decode is pure, so once will do; and
        // the same messages recur from input to input (ids come from a counter per input), so they are
        // decoded once for many inputs. The hub's own decode of what it receives is never memoized.
        if (!last_text || *last_text != send->bytes.str())
          d = sent_decoded().get(send->bytes, [&] { return decode(send->bytes); });
        last_text = &send->bytes.str();
        if (!std::holds_alternative<envelope>(d))
          std::fprintf(stderr, "undecodable: %s\n", std::get<decode_failure>(d).detail.c_str());
        PARLEY_FUZZ_CHECK(std::holds_alternative<envelope>(d), "a hub message does not decode");
        const auto& body = std::get<envelope>(d).body;
        PARLEY_FUZZ_CHECK(server_sends(body), "the hub sent a message only clients send");
        if (std::holds_alternative<msg::welcome>(body)) welcomed.insert(send->conn);
        if (!welcomed.contains(send->conn)) {
          PARLEY_FUZZ_CHECK(std::holds_alternative<msg::error>(body), "a connection that has not joined got more than an error");
          bool closes_next = i + 1 < list.size() && std::holds_alternative<core::close_action>(list[i + 1]) &&
                             std::get<core::close_action>(list[i + 1]).conn == send->conn;
          PARLEY_FUZZ_CHECK(closes_next || keep_open_fault, "a refusal before the join does not close");
        }
      } else if (auto* close = std::get_if<core::close_action>(&list[i])) {
        auto conn = close->conn;
        closed.insert(conn);
        for (int c = 0; c < connections; ++c)
          if (id[c] == conn) open[c] = false;
      }
    }
  }

  // What the host does with one WebSocket message: past the size limit it closes the connection (1009)
  // and the hub only hears of the close, so the hub never sees a message larger than that.
  void message(int c, std::string_view text, core::actions& out) {
    if (text.size() <= max_message_bytes) return h.on_data(id[c], text, now, out);
    open[c] = false;
    closed.insert(id[c]);
    h.on_close(id[c], now, out);
  }

  void check_state(bool duplicates_allowed) {
    std::size_t live = 0;
    for (bool o : open) live += o;
    PARLEY_FUZZ_CHECK(h.session_count() == live, "session count differs from the open connections");
    auto names = h.joined_names();
    for (const auto& n : names) PARLEY_FUZZ_CHECK(valid_name(n), "an invalid name joined");
    std::sort(names.begin(), names.end());
    PARLEY_FUZZ_CHECK(duplicates_allowed || std::adjacent_find(names.begin(), names.end()) == names.end(),
                      "a name joined twice");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& k = keys();
  auto faults = all_faults();
  hub_options options;
  options.login_timeout = millis(1000);  // reachable by a few time records
  options.keys = [&k](std::string_view name) -> std::optional<known_key> {
    auto it = k.publics.find(std::string(name));
    if (it == k.publics.end()) return std::nullopt;
    return it->second;
  };
  options.verify = [](const known_key& key, std::string_view name, std::string_view signature_hex) {
    return verified().get(verify_key(key, name, signature_hex), [&] { return verify_join(key.key, name, signature_hex); });
  };
  int counter = 0;
  options.make_id = [&counter] { return "s" + std::to_string(++counter); };
  if (auto planted = fuzz::planted_fault(data, size, faults)) options.planted = *planted;
  harness h(options);

  fuzz::hub_records records(data, size, 5, connections, [](int op) { return op == 1 || op == 4; });
  while (auto r = records.next()) {
    int op = r->op;
    int conn = r->conn;
    std::string_view payload = r->payload;
    core::actions out;
    if (op == 0 && !h.open[conn]) {
      h.id[conn] = h.next_id++;
      h.open[conn] = true;
      h.h.on_connect(h.id[conn], "fuzz", h.now, out);
    } else if (op == 1 && h.open[conn]) {
      h.message(conn, payload, out);
    } else if (op == 2 && h.open[conn]) {
      h.open[conn] = false;
      h.closed.insert(h.id[conn]);
      h.h.on_close(h.id[conn], h.now, out);
    } else if (op == 3) {
      h.now += millis(static_cast<long long>(r->len) * 7);
      fuzz::fire_due_timers(h.h, h.now, out);
    } else if (op == 4 && h.open[conn] && payload.size() >= 2) {
      const char* user = users[static_cast<unsigned char>(payload[0]) % 6];
      int mode = static_cast<unsigned char>(payload[1]) % 3;
      std::string join_id(payload.substr(2));
      if (join_id.empty()) join_id = "j";
      std::string text = encode({join_id, msg::join{user, k.signatures.at(user)[mode]}});
      h.message(conn, text, out);
    } else {
      continue;  // the hub was not called: nothing it did to check
    }
    h.apply(out);
    h.check_state(options.planted == fault::accept_duplicate_name);
  }
  return 0;
}
