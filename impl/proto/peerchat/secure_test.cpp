#include "impl/proto/peerchat/secure.hpp"
#include "impl/proto/peerchat/datagram.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace parley::peerchat {
namespace {

using kind = secure_event::kind;

const identity& alice_key() {
  static const identity key = *identity::generate();
  return key;
}
const identity& bob_key() {
  static const identity key = *identity::generate();
  return key;
}

// Both sides through the whole handshake of §8.4, checking each event on the way.
struct chat_pair {
  secure_session alice{alice_key(), "alice", "bob"};
  secure_session bob{bob_key(), "bob", "alice"};

  void connect() {
    ASSERT_EQ(bob.receive(alice.hello())->what, kind::keys_ready);
    ASSERT_EQ(alice.receive(bob.hello())->what, kind::keys_ready);
    auto proved = bob.receive(*alice.auth());
    ASSERT_TRUE(proved);
    ASSERT_EQ(proved->what, kind::peer_proved);
    EXPECT_EQ(proved->peer_key, alice_key().public_key_bytes());
    EXPECT_FALSE(proved->peer_confirmed);
    bob.accept_peer();
    auto back = alice.receive(*bob.auth());
    ASSERT_EQ(back->what, kind::peer_proved);
    EXPECT_EQ(back->peer_key, bob_key().public_key_bytes());
    EXPECT_TRUE(back->peer_confirmed);  // bob had accepted alice when he sealed it
    EXPECT_TRUE(alice.peer_confirmed());
    alice.accept_peer();
  }
};

TEST(SecureSession, HandshakeThenMessagesBothWays) {
  chat_pair p;
  p.connect();
  EXPECT_TRUE(p.alice.connected());
  EXPECT_TRUE(p.bob.connected());
  auto msg = p.alice.seal(record_type::msg, "hello bob");
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->find("hello bob"), std::string::npos);  // encrypted on the wire
  auto got = p.bob.receive(*msg);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->what, kind::msg);
  EXPECT_EQ(got->text, "hello bob");
  EXPECT_EQ(p.alice.receive(*p.bob.seal(record_type::keepalive))->what, kind::keepalive);
  EXPECT_EQ(p.alice.receive(*p.bob.seal(record_type::close))->what, kind::close);
}

TEST(SecureSession, HelloIsStableAndNamesItsSender) {
  secure_session s(alice_key(), "alice", "bob");
  EXPECT_EQ(s.hello(), s.hello());
  ASSERT_EQ(s.hello().size(), 2u + 32u + 1u + 5u);
  EXPECT_EQ(static_cast<std::uint8_t>(s.hello()[0]), v2_marker);
  EXPECT_EQ(s.hello().substr(35), "alice");
  EXPECT_FALSE(s.has_keys());
  EXPECT_EQ(s.auth().error(), errc::no_keys);
}

TEST(SecureSession, EachChatHasItsOwnEphemeralKey) {
  secure_session one(alice_key(), "alice", "bob");
  secure_session two(alice_key(), "alice", "bob");
  EXPECT_NE(one.hello(), two.hello());
}

TEST(SecureSession, SequenceNumbersCountEveryRecord) {
  chat_pair p;
  p.connect();
  auto before = p.alice.next_seq();
  ASSERT_TRUE(p.alice.auth());
  ASSERT_TRUE(p.alice.auth());
  EXPECT_EQ(p.alice.next_seq(), before + 2);
}

TEST(SecureSession, ReplaysAreDroppedAndOutOfOrderIsAccepted) {
  chat_pair p;
  p.connect();
  auto first = *p.alice.seal(record_type::msg, "one");
  auto second = *p.alice.seal(record_type::msg, "two");
  EXPECT_EQ(p.bob.receive(second)->text, "two");
  EXPECT_EQ(p.bob.receive(first)->text, "one");  // within the window
  EXPECT_EQ(p.bob.receive(first).error(), errc::replayed);
  EXPECT_EQ(p.bob.receive(second).error(), errc::replayed);

  std::string old = *p.alice.seal(record_type::msg, "old");
  for (std::size_t i = 0; i < replay_window + 1; ++i) ASSERT_TRUE(p.bob.receive(*p.alice.seal(record_type::keepalive)));
  EXPECT_EQ(p.bob.receive(old).error(), errc::replayed);  // below the window
}

TEST(SecureSession, TamperedRecordsAreDroppedWithoutHarm) {
  chat_pair p;
  p.connect();
  auto msg = *p.alice.seal(record_type::msg, "intact");
  for (std::size_t at : {std::size_t{5}, std::size_t{12}, msg.size() - 1}) {
    auto bad = msg;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    auto result = p.bob.receive(bad);
    ASSERT_FALSE(result);
    // A changed seq may also look like a fresh record; either way it must not open.
    EXPECT_TRUE(result.error() == errc::bad_tag || result.error() == errc::replayed) << at;
  }
  EXPECT_EQ(p.bob.receive(msg)->text, "intact");  // the window did not move for the forgeries
}

TEST(SecureSession, MalformedDatagramsSayWhy) {
  chat_pair p;
  p.connect();
  EXPECT_EQ(p.bob.receive("").error(), errc::too_short);
  EXPECT_EQ(p.bob.receive("alice\nMsg\nhi\n\n").error(), errc::unknown_kind);
  EXPECT_EQ(p.bob.receive(std::string("\xB2\x07", 2)).error(), errc::unknown_kind);
  EXPECT_EQ(p.bob.receive(std::string("\xB2\x02", 2) + std::string(10, '\0')).error(), errc::too_short);
  EXPECT_EQ(p.bob.receive(std::string("\xB2\x01", 2) + std::string(20, 'x')).error(), errc::too_short);
  EXPECT_EQ(p.bob.receive(std::string(max_datagram + 1, '\xB2')).error(), errc::malformed_datagram);
  auto hello = p.alice.hello();
  EXPECT_EQ(p.bob.receive(hello + "x").error(), errc::malformed_datagram);  // name length does not match
  EXPECT_EQ(p.bob.receive(hello)->what, kind::nothing);                      // a repeat is harmless
}

TEST(SecureSession, HelloFromSomeoneElseOrWithAnotherKeyIsRefused) {
  secure_session bob(bob_key(), "bob", "alice");
  secure_session mallory(bob_key(), "mallory", "bob");
  EXPECT_EQ(bob.receive(mallory.hello()).error(), errc::wrong_peer);
  secure_session alice(alice_key(), "alice", "bob");
  secure_session fake_alice(bob_key(), "alice", "bob");
  ASSERT_EQ(bob.receive(alice.hello())->what, kind::keys_ready);
  EXPECT_EQ(bob.receive(fake_alice.hello()).error(), errc::wrong_peer);  // PC-HS-02: the first one stays
  EXPECT_EQ(bob.receive(bob.hello().substr(0, 34) + std::string("\x05", 1) + "alice").error(), errc::wrong_peer);
}

TEST(SecureSession, AllZeroSharedSecretFailsTheHandshake) {
  secure_session bob(bob_key(), "bob", "alice");
  std::string small_order = std::string("\xB2\x01", 2) + std::string(32, '\0') + "\x05" "alice";
  EXPECT_EQ(bob.receive(small_order).error(), errc::weak_secret);
  EXPECT_FALSE(bob.has_keys());
}

TEST(SecureSession, NothingButAuthBeforeAcceptance) {
  chat_pair p;
  ASSERT_TRUE(p.bob.receive(p.alice.hello()));
  ASSERT_TRUE(p.alice.receive(p.bob.hello()));
  EXPECT_EQ(p.alice.seal(record_type::msg, "early").error(), errc::not_connected);
  ASSERT_EQ(p.bob.receive(*p.alice.auth())->what, kind::peer_proved);
  p.bob.accept_peer();
  // alice has not accepted bob: his MSG is refused, and the refusal does not use up its seq.
  auto early = *p.bob.seal(record_type::msg, "early");
  EXPECT_EQ(p.alice.receive(early).error(), errc::not_connected);
  ASSERT_EQ(p.alice.receive(*p.bob.auth())->what, kind::peer_proved);
  p.alice.accept_peer();
  EXPECT_EQ(p.alice.receive(early)->text, "early");
}

TEST(SecureSession, RecordsOfAnotherChatDoNotOpen) {
  chat_pair one;
  one.connect();
  chat_pair two;
  two.connect();
  EXPECT_EQ(two.bob.receive(*one.alice.seal(record_type::msg, "crossed")).error(), errc::bad_tag);
  // Our own record reflected back is sealed under the other direction's key.
  auto mine = *one.alice.seal(record_type::msg, "echo");
  EXPECT_EQ(one.alice.receive(mine).error(), errc::bad_tag);
}

TEST(SecureSession, AnImpostorProvesItsOwnKeyNotTheVictims) {
  // mallory runs the handshake under alice's name: the session reports mallory's key, and the caller's
  // STARTCHAT/contact check (PC-HS-05) is what refuses it.
  secure_session bob(bob_key(), "bob", "alice");
  auto mallory_key = *identity::generate();
  secure_session mallory(mallory_key, "alice", "bob");
  ASSERT_TRUE(bob.receive(mallory.hello()));
  ASSERT_TRUE(mallory.receive(bob.hello()));
  auto proved = bob.receive(*mallory.auth());
  ASSERT_TRUE(proved);
  EXPECT_EQ(proved->peer_key, mallory_key.public_key_bytes());
  EXPECT_NE(proved->peer_key, alice_key().public_key_bytes());
  EXPECT_FALSE(bob.connected());
}

TEST(Identity, SignaturesVerifyOnlyUnderTheirKey) {
  auto signature = alice_key().sign("message");
  std::string_view sig(reinterpret_cast<const char*>(signature.data()), signature.size());
  EXPECT_TRUE(verify_signature(alice_key().public_key_bytes(), "message", sig));
  EXPECT_FALSE(verify_signature(bob_key().public_key_bytes(), "message", sig));
  EXPECT_FALSE(verify_signature(alice_key().public_key_bytes(), "massage", sig));
  EXPECT_FALSE(verify_signature(alice_key().public_key_bytes(), "message", sig.substr(1)));
}

TEST(Identity, KeyFileIsCreatedPrivateAndReused) {
  auto dir = std::filesystem::temp_directory_path() / ("peerchat_identity_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto path = (dir / "sub" / "alice.pem").string();
  auto first = identity::load_or_create(path);
  ASSERT_TRUE(first);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);  // PC-KEY-01
  auto second = identity::load_or_create(path);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->public_key_bytes(), second->public_key_bytes());
  std::filesystem::remove_all(dir);
}

TEST(Identity, AFileThatIsNotAnEd25519KeyIsRefused) {
  auto path = std::filesystem::temp_directory_path() / ("peerchat_bad_key_" + std::to_string(::getpid()));
  {
    std::ofstream out(path);
    out << "not a key\n";
  }
  EXPECT_FALSE(identity::load_or_create(path.string()));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace parley::peerchat
