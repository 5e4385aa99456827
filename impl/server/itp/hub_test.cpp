#include "impl/server/itp/hub.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace parley::itp {
namespace {

using namespace std::chrono_literals;

// Drives a hub like the host would, with a virtual clock; records what each connection receives.
class driver {
public:
  explicit driver(hub_options options = {}) : hub_(std::move(options)) {}

  core::conn_id connect() {
    core::conn_id id = ++last_;
    run([&](core::actions& out) { hub_.on_connect(id, "test", now_, out); });
    EXPECT_EQ(next(id), "INIT Welcome to the server Parley/1.0");
    return id;
  }
  core::conn_id login(std::string_view name) {
    auto id = connect();
    say(id, "IDENT " + std::string(name) + "\n");
    EXPECT_EQ(next(id), "OK IDENT " + std::string(name));
    return id;
  }
  void say(core::conn_id id, std::string_view bytes) {
    run([&](core::actions& out) { hub_.on_data(id, bytes, now_, out); });
  }
  void drop(core::conn_id id) {
    run([&](core::actions& out) { hub_.on_close(id, now_, out); });
  }
  // Advances the virtual clock, firing timers in order as the host would.
  void advance(millis by) {
    time_point until = now_ + by;
    while (auto wake = hub_.next_wake()) {
      if (*wake > until) break;
      now_ = *wake;
      run([&](core::actions& out) { hub_.on_timer(now_, out); });
    }
    now_ = until;
  }
  // The next line sent to `id` (without "\n"), or "" when none is queued.
  std::string next(core::conn_id id) {
    auto& q = inbox_[id];
    if (q.empty()) return "";
    std::string line = q.front();
    q.pop_front();
    return line;
  }
  bool closed(core::conn_id id) const { return closed_.contains(id); }
  bool quiet(core::conn_id id) { return inbox_[id].empty(); }
  hub& target() { return hub_; }

private:
  template <class F>
  void run(F&& event) {
    core::actions out;
    event(out);
    for (auto& a : out.take()) {
      if (auto* s = std::get_if<core::send_action>(&a)) {
        EXPECT_FALSE(closed_.contains(s->conn)) << "sent to a closed connection: " << s->bytes.str();
        ASSERT_TRUE(s->bytes.str().ends_with("\n"));
        inbox_[s->conn].push_back(s->bytes.str().substr(0, s->bytes.size() - 1));
      } else if (auto* c = std::get_if<core::close_action>(&a)) {
        closed_.insert(c->conn);
      }
    }
  }

  hub hub_;
  time_point now_{};
  core::conn_id last_ = 0;
  std::map<core::conn_id, std::deque<std::string>> inbox_;
  std::set<core::conn_id> closed_;
};

TEST(ItpHub, LoginAnnouncesJoinedToOthersOnly) {
  driver d;
  auto alice = d.login("alice");
  auto bob = d.login("bob");
  EXPECT_EQ(d.next(alice), "JOINED bob");
  EXPECT_TRUE(d.quiet(bob));
}

TEST(ItpHub, IdentErrors) {
  driver d;
  auto alice = d.login("alice");
  auto other = d.connect();
  d.say(other, "IDENT ab\nIDENT abcdefghijklmno\nIDENT a)lmn\nIDENT\nIDENT alice\n");
  EXPECT_EQ(d.next(other), "FAIL02 Username has an invalid format or length");
  EXPECT_EQ(d.next(other), "FAIL02 Username has an invalid format or length");
  EXPECT_EQ(d.next(other), "FAIL02 Username has an invalid format or length");
  EXPECT_EQ(d.next(other), "FAIL02 Username has an invalid format or length");
  EXPECT_EQ(d.next(other), "FAIL01 User already logged in");
  d.say(alice, "IDENT alice2\n");
  EXPECT_EQ(d.next(alice), "FAIL04 User cannot login twice");
  d.say(other, "IDENT abcdefghijklmn\n");  // 14 characters: fine
  EXPECT_EQ(d.next(other), "OK IDENT abcdefghijklmn");
}

TEST(ItpHub, CommandsBeforeLoginAndUnknownCommands) {
  driver d;
  auto c = d.connect();
  d.say(c, "BCST hi\nUSERS\nPM x y\nPM_PUBKEY k\nPM_SESSIONKEY x k\nident bob\nHELLO\nBCST\n\n");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(d.next(c), "FAIL03 Please log in first");
  EXPECT_EQ(d.next(c), "FAIL00 Unknown command");
  EXPECT_EQ(d.next(c), "FAIL00 Unknown command");
  EXPECT_EQ(d.next(c), "FAIL00 Missing argument");
  EXPECT_TRUE(d.quiet(c));  // the empty line got no reply
  EXPECT_FALSE(d.closed(c));
}

TEST(ItpHub, BroadcastGoesToOtherLoggedInUsersOnly) {
  driver d;
  auto alice = d.login("alice");
  auto bob = d.login("bob");
  auto anonymous = d.connect();
  d.next(alice);  // JOINED bob
  d.say(alice, "BCST hello  there\n");
  EXPECT_EQ(d.next(alice), "OK BCST hello  there");
  EXPECT_TRUE(d.quiet(alice));
  EXPECT_EQ(d.next(bob), "BCST alice hello  there");
  EXPECT_TRUE(d.quiet(anonymous));
}

TEST(ItpHub, UsersListsEveryoneInLoginOrderOrFailsWhenAlone) {
  driver d;
  auto alice = d.login("alice");
  d.say(alice, "USERS\n");
  EXPECT_EQ(d.next(alice), "FAIL06 You are the only connected user");
  d.login("bob");
  d.login("carol");
  d.next(alice);
  d.next(alice);
  d.say(alice, "USERS\n");
  EXPECT_EQ(d.next(alice), "OK USERS alice:bob:carol");
}

TEST(ItpHub, PrivateMessagesAndKeysAreRelayedToTheRecipientOnly) {
  driver d;
  auto alice = d.login("alice");
  auto bob = d.login("bob");
  auto carol = d.login("carol");
  while (!d.quiet(alice)) d.next(alice);
  d.next(bob);
  d.say(alice, "PM_SESSIONKEY bob oaep256.KEY\nPM bob gcm.BODY\nPRIVATE_MESSAGE bob x y\n");
  EXPECT_EQ(d.next(alice), "OK PM_SESSIONKEY bob");
  EXPECT_EQ(d.next(alice), "OK PM bob gcm.BODY");
  EXPECT_EQ(d.next(alice), "OK PRIVATE_MESSAGE bob x y");
  EXPECT_EQ(d.next(bob), "PM_SESSIONKEY alice oaep256.KEY");
  EXPECT_EQ(d.next(bob), "NPM alice gcm.BODY");
  EXPECT_EQ(d.next(bob), "NPM alice x y");
  EXPECT_TRUE(d.quiet(carol));
  d.say(alice, "PM alice x\nPM dave x\nPM_SESSIONKEY alice k\nPM_SESSIONKEY dave k\n");
  EXPECT_EQ(d.next(alice), "FAIL08 Cannot send a private message to yourself");
  EXPECT_EQ(d.next(alice), "FAIL07 User does not exist");
  EXPECT_EQ(d.next(alice), "FAIL08 Cannot send a private message to yourself");
  EXPECT_EQ(d.next(alice), "FAIL07 User does not exist");
}

TEST(ItpHub, PublicKeysReachCurrentAndLaterUsersAndAreForgotten) {
  driver d;
  auto alice = d.login("alice");
  auto bob = d.login("bob");
  d.next(alice);
  d.say(alice, "PM_PUBKEY AAAA\n");
  EXPECT_EQ(d.next(alice), "OK PM_PUBKEY");
  EXPECT_EQ(d.next(bob), "PM_PUBKEY alice AAAA");
  d.say(bob, "OK PM_PUBKEY\n");  // a recipient's acknowledgement is accepted silently
  EXPECT_TRUE(d.quiet(bob));
  auto carol = d.login("carol");
  EXPECT_EQ(d.next(carol), "PM_PUBKEY alice AAAA");
  EXPECT_TRUE(d.quiet(carol));
  d.say(alice, "QUIT\n");
  d.next(carol);  // LEFT alice
  auto dave = d.login("dave");
  EXPECT_TRUE(d.quiet(dave));
}

TEST(ItpHub, PingsAfterLoginAndDisconnectsSilentClients) {
  driver d({.ping_interval = 10s, .pong_timeout = 3s});
  auto anonymous = d.connect();
  auto alice = d.login("alice");
  auto bob = d.login("bob");
  d.next(alice);
  d.advance(9999ms);
  EXPECT_TRUE(d.quiet(alice));
  d.advance(1ms);
  EXPECT_EQ(d.next(alice), "PING");
  EXPECT_EQ(d.next(bob), "PING");
  d.say(bob, "PONG\n");
  EXPECT_TRUE(d.quiet(bob));
  d.advance(3s);
  EXPECT_EQ(d.next(alice), "DSCN Pong timeout");
  EXPECT_TRUE(d.closed(alice));
  EXPECT_EQ(d.next(bob), "LEFT alice");
  d.advance(7s);  // bob's second ping is 10 s after the first, not after his answer
  EXPECT_EQ(d.next(bob), "PING");
  EXPECT_TRUE(d.quiet(anonymous));  // ITP-PING-05: nobody pings a session that has not logged in
  EXPECT_FALSE(d.closed(anonymous));
}

TEST(ItpHub, AConnectionThatDoesNotLogInIsEndedAfterTheLoginTimeout) {
  driver d({.ping_interval = 100s, .pong_timeout = 3s, .login_timeout = 60s});
  auto idle = d.connect();
  d.advance(30s);
  auto trying = d.connect();
  d.say(trying, "IDENT x\n");
  EXPECT_EQ(d.next(trying), "FAIL02 Username has an invalid format or length");
  auto alice = d.login("alice");  // 30 s after the first
  d.advance(30s - 1ms);
  EXPECT_TRUE(d.quiet(idle));
  d.advance(1ms);
  EXPECT_EQ(d.next(idle), "DSCN Login timeout");
  EXPECT_TRUE(d.closed(idle));
  EXPECT_TRUE(d.quiet(alice));  // no LEFT for a connection that never logged in (ITP-LEFT-03)
  d.advance(30s);  // the failed IDENT did not restart `trying`'s timer: 60 s after it opened
  EXPECT_EQ(d.next(trying), "DSCN Login timeout");
  EXPECT_TRUE(d.closed(trying));
  EXPECT_FALSE(d.closed(alice));
  EXPECT_TRUE(d.target().signed_in(alice));
  EXPECT_FALSE(d.target().signed_in(trying));
}

TEST(ItpHub, PongWithoutPingIsFail05) {
  driver d;
  auto c = d.connect();
  d.say(c, "PONG\n");
  EXPECT_EQ(d.next(c), "FAIL05 Pong without ping");
}

TEST(ItpHub, QuitAndDropAnnounceLeftAndFreeTheName) {
  driver d;
  auto alice = d.login("alice");
  auto bob = d.login("bob");
  d.next(alice);
  d.say(bob, "QUIT\nBCST after quit\n");
  EXPECT_EQ(d.next(bob), "OK Goodbye");
  EXPECT_TRUE(d.quiet(bob));  // nothing is handled after QUIT
  EXPECT_TRUE(d.closed(bob));
  EXPECT_EQ(d.next(alice), "LEFT bob");
  d.drop(bob);  // the host's close notification after the hub's own close is harmless
  auto bob2 = d.login("bob");
  d.next(alice);
  d.drop(bob2);
  EXPECT_EQ(d.next(alice), "LEFT bob");
  auto anonymous = d.connect();
  d.drop(anonymous);
  EXPECT_TRUE(d.quiet(alice));  // ITP-LEFT-03
}

TEST(ItpHub, AssemblesSplitCommandsAndAcceptsAllLineEndings) {
  driver d;
  auto c = d.connect();
  d.say(c, "IDE");
  d.say(c, "NT al");
  EXPECT_TRUE(d.quiet(c));
  d.say(c, "ice\r");
  d.say(c, "\nUSERS\rUSERS\r\n");
  EXPECT_EQ(d.next(c), "OK IDENT alice");
  EXPECT_EQ(d.next(c), "FAIL06 You are the only connected user");
  EXPECT_EQ(d.next(c), "FAIL06 You are the only connected user");
  EXPECT_TRUE(d.quiet(c));
}

TEST(ItpHub, OverlongLineDisconnectsOnlyThatSession) {
  driver d;
  auto alice = d.login("alice");
  auto bob = d.login("bob");
  d.next(alice);
  d.say(bob, std::string(1025, 'x'));
  EXPECT_EQ(d.next(bob), "DSCN Unterminated message");
  EXPECT_TRUE(d.closed(bob));
  EXPECT_EQ(d.next(alice), "LEFT bob");
  d.say(bob, "more\n");  // late bytes after the close are ignored
  EXPECT_EQ(d.target().session_count(), 1u);
}

TEST(ItpHub, FaultsChangeTheBehaviourTheyName) {
  driver d({.planted = fault::echo_bcst});
  auto alice = d.login("alice");
  d.say(alice, "BCST x\n");
  EXPECT_EQ(d.next(alice), "OK BCST x");
  EXPECT_EQ(d.next(alice), "BCST alice x");
  for (const auto& f : all_faults()) EXPECT_EQ(fault_from_name(f.name), f.value);
  EXPECT_FALSE(fault_from_name("no-such-fault"));
}

}  // namespace
}  // namespace parley::itp
