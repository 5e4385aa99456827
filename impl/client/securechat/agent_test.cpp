// The reference client against the reference hub, in memory: what one agent sends is what the hub gets.
#include "impl/client/securechat/agent.hpp"

#include <gtest/gtest.h>

#include "impl/core/crypto/test_keys.hpp"
#include "impl/proto/securechat/codec.hpp"
#include "impl/proto/securechat/crypto.hpp"
#include "impl/server/securechat/hub.hpp"

namespace parley::securechat {
namespace {

using core::testing::key_of;

class SecurechatAgent : public ::testing::Test {
protected:
  SecurechatAgent()
      : hub_({.keys = [](std::string_view name) -> std::optional<known_key> {
                const auto& key = key_of(std::string(name));
                return known_key{*core::pkey::from_public_pem(key.public_pem()), key.public_pem()};
              }}) {}

  struct peer {
    std::unique_ptr<agent> a;
    std::vector<event> events;
    std::vector<std::string> received;  // raw messages the hub sent to this peer
  };

  void open(core::conn_id conn, const std::string& name) {
    peers_[conn].a = std::make_unique<agent>(agent_options{.name = name, .key = key_of(name)});
    core::actions none;
    hub_.on_connect(conn, "test", {}, none);
    agent_output out;
    peers_[conn].a->on_open(out);
    deliver(conn, out);
  }
  void type(core::conn_id conn, std::string_view line) {
    agent_output out;
    peers_[conn].a->on_command(line, out);
    deliver(conn, out);
  }
  // Sends straight from the "server" to one agent, bypassing the hub.
  void inject(core::conn_id conn, const std::string& text) {
    agent_output out;
    peers_[conn].a->on_message(text, out);
    deliver(conn, out);
  }
  std::vector<event> events(core::conn_id conn) { return std::exchange(peers_[conn].events, {}); }
  bool has_event(core::conn_id conn, const std::string& type, const std::string& field = {}, const std::string& value = {}) {
    for (const auto& e : peers_[conn].events)
      if (e.type == type && (field.empty() || e.field(field) == value)) return true;
    return false;
  }

  std::vector<std::string> sent_by_agent_;  // everything any agent sent, in order
  std::map<core::conn_id, bool> closed_;
  std::map<core::conn_id, peer> peers_;

private:
  void deliver(core::conn_id from, agent_output& out) {
    for (auto& e : out.events) peers_[from].events.push_back(e);
    for (auto& text : out.sends) {
      sent_by_agent_.push_back(text);
      core::actions actions;
      hub_.on_data(from, text, {}, actions);
      route(actions);
    }
    if (out.close) closed_[from] = true;
  }
  void route(core::actions& actions) {
    for (auto& a : actions.take()) {
      if (auto* s = std::get_if<core::send_action>(&a)) {
        peers_[s->conn].received.push_back(s->bytes);
        agent_output out;
        peers_[s->conn].a->on_message(s->bytes, out);
        deliver(s->conn, out);
      }
    }
  }
  hub hub_;
};

TEST_F(SecurechatAgent, JoinsWithAVerifiableSignatureAndNothingElseFirst) {
  open(1, "alice");
  ASSERT_FALSE(sent_by_agent_.empty());
  auto first = std::get<envelope>(decode(sent_by_agent_.front()));
  auto join = std::get<msg::join>(first.body);
  EXPECT_TRUE(verify_join(key_of("alice"), "alice", join.signature));
  EXPECT_TRUE(peers_[1].a->welcomed());
  EXPECT_TRUE(has_event(1, "users", "reason", "welcome"));
}

TEST_F(SecurechatAgent, CommandsBeforeTheWelcomeWait) {
  peers_[1].a = std::make_unique<agent>(agent_options{.name = "alice", .key = key_of("alice")});
  agent_output out;
  peers_[1].a->on_open(out);
  ASSERT_EQ(out.sends.size(), 1u);
  peers_[1].a->on_command("hello early", out);
  EXPECT_EQ(out.sends.size(), 1u);  // still only the JoinMessage
}

TEST_F(SecurechatAgent, PrivateMessagesAreReadOnlyByTheRecipient) {
  open(1, "alice");
  open(2, "bob");
  open(3, "carol");
  events(2), events(3);
  type(1, "/pm bob meet at noon");
  EXPECT_TRUE(has_event(2, "private", "text", "meet at noon"));
  EXPECT_TRUE(has_event(2, "private", "from", "alice"));
  EXPECT_FALSE(has_event(3, "private"));
  // What travelled through the hub is ciphertext only.
  for (const auto& text : sent_by_agent_) EXPECT_EQ(text.find("noon"), std::string::npos) << text;
}

TEST_F(SecurechatAgent, UndecryptableTextIsAnsweredWithTheMessagesId) {
  open(1, "alice");
  auto garbage = *encrypt_private_text(key_of("mallory"), "not for alice");
  std::size_t before = sent_by_agent_.size();
  inject(1, encode({"rp-1", msg::routed_private{"alice", garbage, "bob"}}));
  ASSERT_EQ(sent_by_agent_.size(), before + 1);
  auto reply = std::get<msg::error>(std::get<envelope>(decode(sent_by_agent_.back())).body);
  EXPECT_EQ(reply.ref_message_id, "rp-1");
  EXPECT_EQ(reply.text, "Decryption failed");
}

TEST_F(SecurechatAgent, AddUserReplacesAKnownKey) {
  open(1, "alice");
  open(2, "bob");
  events(1);
  inject(1, encode({"au", msg::add_user{"bob", key_of("bob2").public_pem()}}));
  EXPECT_TRUE(has_event(1, "key_changed", "name", "bob"));
  std::size_t before = sent_by_agent_.size();
  type(1, "/pm bob new key");
  // The first message after the command is alice's; bob (who still has his old key) then complains.
  auto pm = std::get<msg::private_text>(std::get<envelope>(decode(sent_by_agent_.at(before))).body);
  EXPECT_EQ(*decrypt_private_text(key_of("bob2"), pm.encrypted_text), "new key");
}

TEST_F(SecurechatAgent, RemoveUserForgetsKnownUsersAndIgnoresOthers) {
  open(1, "alice");
  open(2, "bob");
  events(1);
  inject(1, encode({"ru", msg::remove_user{"nobody"}}));
  EXPECT_TRUE(events(1).empty());
  inject(1, encode({"ru2", msg::remove_user{"bob"}}));
  EXPECT_TRUE(has_event(1, "left", "name", "bob"));
  std::size_t before = sent_by_agent_.size();
  type(1, "/pm bob hello?");
  EXPECT_EQ(sent_by_agent_.size(), before);  // nothing sent to a user who left
  EXPECT_TRUE(has_event(1, "error", "code", "unknown_user"));
}

TEST_F(SecurechatAgent, PublicFromAnUnknownSenderIsReported) {
  open(1, "alice");
  inject(1, encode({"pub-1", msg::routed_public{"hi", "ghost"}}));
  auto reply = std::get<msg::error>(std::get<envelope>(decode(sent_by_agent_.back())).body);
  EXPECT_EQ(reply.ref_message_id, "pub-1");
}

TEST_F(SecurechatAgent, TooLongPrivateTextIsRefusedLocally) {
  open(1, "alice");
  open(2, "bob");
  std::size_t before = sent_by_agent_.size();
  type(1, "/pm bob " + std::string(246, 'x'));
  EXPECT_EQ(sent_by_agent_.size(), before);
  EXPECT_TRUE(has_event(1, "error", "code", "too_long"));
}

TEST_F(SecurechatAgent, QuitSendsLeaveLastAndCloses) {
  open(1, "alice");
  type(1, "/quit");
  auto last = std::get<envelope>(decode(sent_by_agent_.back()));
  EXPECT_TRUE(std::holds_alternative<msg::leave>(last.body));
  EXPECT_TRUE(closed_[1]);
  std::size_t before = sent_by_agent_.size();
  type(1, "anything");
  EXPECT_EQ(sent_by_agent_.size(), before);
}

}  // namespace
}  // namespace parley::securechat
