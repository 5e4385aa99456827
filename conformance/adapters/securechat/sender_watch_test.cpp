#include "conformance/adapters/securechat/sender_watch.hpp"

#include <gtest/gtest.h>

namespace parley::conform::securechat_watch {
namespace {

std::string join(const std::string& name, const std::string& signature = "abcd") {
  return R"({"_command": "JoinMessage", "id": "j-)" + name + R"(", "name": ")" + name + R"(", "signature": ")" +
         signature + R"("})";
}
const std::string welcome = R"({"_command":"WelcomeMessage","id":"w","users":[]})";

// A watcher that saw alice join on a#0 and bob on b#1.
std::unique_ptr<session_watcher> alice_and_bob_joined() {
  auto w = make_sender_watcher();
  w->sent("a#0", join("alice"));
  w->received("a#0", welcome);
  w->sent("b#1", join("bob"));
  w->received("b#1", welcome);
  return w;
}

TEST(SecurechatSenderWatch, RelaysNamingTheJoinedSenderPass) {
  auto w = alice_and_bob_joined();
  // A from_name the client puts in is ignored; the relay names the joined sender.
  w->sent("a#0", R"({"_command": "PublicMessage", "id": "p1", "text": "caf\u00e9", "from_name": "bob"})");
  w->received("b#1", R"({"_command":"RoutedPublicMessage","from_name":"alice","id":"r1","text":"café"})");
  w->sent("b#1", R"({"_command": "PrivateMessage", "id": "p2", "to_name": "alice", "encrypted_text": "00ff"})");
  w->received("a#0", R"({"_command":"RoutedPrivateMessage","encrypted_text":"00ff","from_name":"bob","id":"r2","to_name":"alice"})");
  EXPECT_TRUE(w->verdicts().empty());
}

TEST(SecurechatSenderWatch, ARelayUnderAnotherNameBreaksTheSenderRules) {
  auto w = alice_and_bob_joined();
  w->sent("a#0", R"({"_command": "PublicMessage", "id": "p1", "text": "mine", "from_name": "bob"})");
  w->received("b#1", R"({"_command":"RoutedPublicMessage","from_name":"bob","id":"r1","text":"mine"})");
  w->sent("b#1", R"({"_command": "PrivateMessage", "id": "p2", "to_name": "alice", "encrypted_text": "00ff"})");
  w->received("a#0", R"({"_command":"RoutedPrivateMessage","encrypted_text":"00ff","from_name":"alice","id":"r2","to_name":"alice"})");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].rule, "SC-PUB-02");
  EXPECT_NE(v[0].message.find("a#0 (joined as alice)"), std::string::npos) << v[0].message;
  EXPECT_EQ(v[1].rule, "SC-PRIV-02");
}

TEST(SecurechatSenderWatch, WhatAnAnonymousConnectionSentIsNotRouted) {
  auto w = make_sender_watcher();
  w->sent("b#1", join("bob"));
  w->received("b#1", welcome);
  w->sent("x#0", R"({"_command": "PublicMessage", "id": "p1", "text": "sneaky"})");
  w->received("b#1", R"({"_command":"RoutedPublicMessage","from_name":"ghost","id":"r1","text":"sneaky"})");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "SC-JOIN-02");
}

TEST(SecurechatSenderWatch, WhatNoConnectionOfTheSessionSentIsNotJudged) {
  auto w = make_sender_watcher();
  w->sent("a#0", join("alice"));
  // Welcomed unread: the connection closed before its answer came, so its name is unknown, not absent.
  w->sent("a#0", R"({"_command": "PublicMessage", "id": "p1", "text": "hi"})");
  w->received("b#1", R"({"_command":"RoutedPublicMessage","from_name":"alice","id":"r1","text":"hi"})");
  w->received("b#1", R"({"_command":"RoutedPublicMessage","from_name":"carol","id":"r2","text":"other client"})");
  w->sent("c#2", "not json at all");
  EXPECT_TRUE(w->verdicts().empty());
}

// The key store, as the watcher sees it: alice's signature is "600d"; carol is not in the store.
std::unique_ptr<session_watcher> watcher_with_keys() {
  return make_sender_watcher([](const std::string& name, const std::string& signature) -> std::optional<bool> {
    if (name != "alice") return std::nullopt;
    return signature == "600d";
  });
}

TEST(SecurechatSenderWatch, AWelcomeAfterABadSignatureIsScJoin04) {
  auto w = watcher_with_keys();
  w->sent("a#0", join("alice", "bad0"));
  w->received("a#0", welcome);
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "SC-JOIN-04");
  EXPECT_NE(v[0].message.find("alice"), std::string::npos);
}

TEST(SecurechatSenderWatch, AWelcomeThatMayAnswerAGoodJoinOrAnUnknownNameIsNotJudged) {
  auto w = watcher_with_keys();
  // Two joins before the Welcome: it may answer the good one.
  w->sent("a#0", join("alice", "600d"));
  w->sent("a#0", join("alice", "bad0"));
  w->received("a#0", welcome);
  // A name the store does not hold: the watcher cannot tell.
  w->sent("c#1", join("carol", "bad0"));
  w->received("c#1", welcome);
  // A bad join refused (no Welcome) is what the server must do.
  w->sent("d#2", join("alice", "bad0"));
  w->received("d#2", R"({"_command":"ErrorMessage","id":"e","text":"Invalid signature"})");
  EXPECT_TRUE(w->verdicts().empty());
}

}  // namespace
}  // namespace parley::conform::securechat_watch
