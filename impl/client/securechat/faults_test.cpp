// The reference client's planted faults, each against a hand-played server (no hub): the fault does its one
// wrong thing, and the same input without it does the right one (spec/securechat/spec.md §10).
#include "impl/client/securechat/faults.hpp"

#include <gtest/gtest.h>

#include <set>

#include "impl/client/securechat/agent.hpp"
#include "impl/core/crypto/test_keys.hpp"
#include "impl/proto/securechat/codec.hpp"
#include "impl/proto/securechat/crypto.hpp"

namespace parley::securechat {
namespace {

using core::testing::key_of;

core::pkey public_of(const std::string& name) { return *core::pkey::from_public_pem(key_of(name).public_pem()); }

// One agent for alice, and what it sent and showed.
struct session {
  explicit session(client_fault fault) : a({.name = "alice", .key = key_of("alice"), .fault = fault}) {
    agent_output out;
    a.on_open(out);
    take(out);
  }
  void welcome(std::vector<std::string> others = {"bob"}) {
    std::vector<user_info> users;
    for (const auto& n : others) users.push_back({n, key_of(n).public_pem()});
    users.push_back({"alice", key_of("alice").public_pem()});
    receive({"w-1", msg::welcome{users}});
  }
  void receive(const envelope& e) {
    agent_output out;
    a.on_message(encode(e), out);
    take(out);
  }
  void type(std::string_view line) {
    agent_output out;
    a.on_command(line, out);
    take(out);
  }
  void take(agent_output& out) {
    for (auto& s : out.sends) sent.push_back(std::move(s));
    for (auto& e : out.events) events.push_back(std::move(e));
    closed = closed || out.close;
  }
  template <class M>
  std::optional<M> last_sent() const {
    if (sent.empty()) return std::nullopt;
    auto d = decode(sent.back());
    auto* e = std::get_if<envelope>(&d);
    auto* m = e ? std::get_if<M>(&e->body) : nullptr;
    return m ? std::optional<M>(*m) : std::nullopt;
  }
  const event* last_event(const std::string& type) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->type == type) return &*it;
    return nullptr;
  }

  agent a;
  std::vector<std::string> sent;
  std::vector<event> events;
  bool closed = false;
};

TEST(SecurechatClientFaults, EveryFaultHasANameAndClientRules) {
  std::set<std::string_view> names;
  for (const auto& f : all_client_faults()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_EQ(client_fault_from_name(f.name), f.value);
    EXPECT_TRUE(f.rules.starts_with("SC-CLIENT-")) << f.name;
  }
  EXPECT_EQ(client_fault_from_name("no-such-fault"), std::nullopt);
}

TEST(SecurechatClientFaults, SendBeforeWelcome) {
  session good(client_fault::none), bad(client_fault::send_before_welcome);
  good.type("early");
  bad.type("early");
  EXPECT_EQ(good.sent.size(), 1u);  // the JoinMessage only: the line waits for the Welcome (SC-CLIENT-01)
  ASSERT_TRUE(bad.last_sent<msg::public_text>());
  EXPECT_EQ(bad.last_sent<msg::public_text>()->text, "early");
}

TEST(SecurechatClientFaults, SignCompactJson) {
  session good(client_fault::none), bad(client_fault::sign_compact_json);
  auto join_of = [](const session& s) { return std::get<msg::join>(std::get<envelope>(decode(s.sent.front())).body); };
  EXPECT_TRUE(verify_join(public_of("alice"), "alice", join_of(good).signature));  // SC-CLIENT-02
  EXPECT_FALSE(verify_join(public_of("alice"), "alice", join_of(bad).signature));
}

TEST(SecurechatClientFaults, KeepOldKey) {
  for (auto fault : {client_fault::none, client_fault::keep_old_key}) {
    session s(fault);
    s.welcome();
    s.receive({"au-1", msg::add_user{"bob", key_of("bob2").public_pem()}});
    EXPECT_TRUE(s.last_event("key_changed"));  // both say the key changed
    s.type("/pm bob hi");
    auto pm = s.last_sent<msg::private_text>();
    ASSERT_TRUE(pm);
    // SC-CLIENT-03: the new key; the fault, the old one.
    const char* holder = fault == client_fault::none ? "bob2" : "bob";
    auto text = decrypt_private_text(key_of(holder), pm->encrypted_text);
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "hi");
  }
}

TEST(SecurechatClientFaults, DropOnUnknownRemove) {
  session good(client_fault::none), bad(client_fault::drop_on_unknown_remove);
  for (auto* s : {&good, &bad}) {
    s->welcome();
    s->receive({"ru-1", msg::remove_user{"stranger"}});
  }
  EXPECT_FALSE(good.closed);  // SC-CLIENT-04
  EXPECT_TRUE(bad.closed);
}

TEST(SecurechatClientFaults, KeepRemovedUser) {
  session good(client_fault::none), bad(client_fault::keep_removed_user);
  for (auto* s : {&good, &bad}) {
    s->welcome();
    s->receive({"ru-1", msg::remove_user{"bob"}});
    EXPECT_TRUE(s->last_event("left"));
    s->type("/pm bob still there?");
  }
  EXPECT_FALSE(good.last_sent<msg::private_text>());  // SC-CLIENT-05
  EXPECT_TRUE(bad.last_sent<msg::private_text>());
}

TEST(SecurechatClientFaults, ShowCiphertext) {
  std::string hex = *encrypt_private_text(public_of("alice"), "psst");
  session good(client_fault::none), bad(client_fault::show_ciphertext);
  for (auto* s : {&good, &bad}) {
    s->welcome();
    s->receive({"rp-1", msg::routed_private{"alice", hex, "bob"}});
  }
  ASSERT_TRUE(good.last_event("private") && bad.last_event("private"));
  EXPECT_EQ(good.last_event("private")->field("text"), "psst");  // SC-CLIENT-06
  EXPECT_EQ(bad.last_event("private")->field("text"), hex);
}

TEST(SecurechatClientFaults, DecryptErrorWithoutRef) {
  std::string hex = *encrypt_private_text(public_of("bob"), "not for alice");
  session good(client_fault::none), bad(client_fault::decrypt_error_without_ref);
  for (auto* s : {&good, &bad}) {
    s->welcome();
    s->receive({"rp-2", msg::routed_private{"alice", hex, "bob"}});
  }
  ASSERT_TRUE(good.last_sent<msg::error>() && bad.last_sent<msg::error>());
  EXPECT_EQ(good.last_sent<msg::error>()->ref_message_id, "rp-2");  // SC-CLIENT-07
  EXPECT_EQ(bad.last_sent<msg::error>()->ref_message_id, std::nullopt);
}

TEST(SecurechatClientFaults, AcceptUnknownSender) {
  session good(client_fault::none), bad(client_fault::accept_unknown_sender);
  for (auto* s : {&good, &bad}) {
    s->welcome();
    s->receive({"pub-1", msg::routed_public{"boo", "ghost"}});
  }
  ASSERT_TRUE(good.last_sent<msg::error>());
  EXPECT_EQ(good.last_sent<msg::error>()->ref_message_id, "pub-1");  // SC-CLIENT-08
  EXPECT_FALSE(bad.last_sent<msg::error>());
}

TEST(SecurechatClientFaults, TruncateLongPrivate) {
  std::string text(300, 'x');
  session good(client_fault::none), bad(client_fault::truncate_long_private);
  for (auto* s : {&good, &bad}) {
    s->welcome();
    s->type("/pm bob " + text);
  }
  EXPECT_FALSE(good.last_sent<msg::private_text>());  // SC-CLIENT-09: refused locally
  auto pm = bad.last_sent<msg::private_text>();
  ASSERT_TRUE(pm);
  auto shown = decrypt_private_text(key_of("bob"), pm->encrypted_text);
  ASSERT_TRUE(shown);
  EXPECT_EQ(*shown, text.substr(0, 245));
}

TEST(SecurechatClientFaults, TalkAfterLeave) {
  session good(client_fault::none), bad(client_fault::talk_after_leave);
  for (auto* s : {&good, &bad}) {
    s->welcome();
    s->type("/quit");
    EXPECT_TRUE(s->last_sent<msg::leave>());
    s->type("after quit");
  }
  EXPECT_TRUE(good.closed);  // SC-CLIENT-10: LeaveMessage is the last message
  EXPECT_TRUE(good.last_sent<msg::leave>());
  EXPECT_FALSE(bad.closed);
  EXPECT_TRUE(bad.last_sent<msg::public_text>());
}

TEST(SecurechatClientFaults, CrashOnGarbage) {
  // SC-CLIENT-11: the good client passes over what does not decode and its session goes on.
  session good(client_fault::none);
  good.welcome();
  for (std::string_view garbage : {"{", "GET / HTTP/1.1", "[1, 2]", R"({"_command": "NoSuchMessage", "id": "g-1"})",
                                   R"({"_command": "AddUserMessage", "id": "g-2", "name": 7, "public_key": []})"}) {
    agent_output out;
    good.a.on_message(garbage, out);
    good.take(out);
  }
  EXPECT_FALSE(good.closed);
  good.type("still here");
  EXPECT_TRUE(good.last_sent<msg::public_text>());
  // The fault lives through well-formed messages, the odd ones the other cases send included, and dies of
  // the first that does not decode.
  session bad(client_fault::crash_on_garbage);
  bad.receive({"early-1", msg::routed_public{"too early", "ghost"}});
  bad.welcome();
  bad.receive({"ru-1", msg::remove_user{"stranger"}});
  bad.receive({"rp-1", msg::routed_private{"alice", "00", "bob"}});
  bad.type("still here");
  EXPECT_TRUE(bad.last_sent<msg::public_text>());
  agent_output out;
  EXPECT_DEATH(bad.a.on_message("{", out), "");
}

}  // namespace
}  // namespace parley::securechat
