#include "impl/server/peerchat/hub.hpp"

#include <gtest/gtest.h>

#include <set>

namespace parley::peerchat {
namespace {

using lines = std::vector<std::string>;

// Valid Ed25519 public keys (RFC 8032 §7.1, tests 1 and 2).
constexpr const char* key1 = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr const char* key2 = "ed25519:3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

class PeerchatHub : public ::testing::Test {
protected:
  explicit PeerchatHub(fault f = fault::none, std::size_t max_connections = 1024)
      : hub_({.port_timeout = millis(1000),
              .register_timeout = millis(5000),
              .max_connections = max_connections,
              .planted = f,
              // Deterministic: each draw is the next counter value, so port = 40000 + counter.
              .random = [this] { return random_++; }}) {}

  void connect(core::conn_id c, std::string peer = "") {
    if (peer.empty()) peer = "127.0.0." + std::to_string(c) + ":5000";
    run([&](core::actions& a) { hub_.on_connect(c, peer, now_, a); });
  }
  void data(core::conn_id c, std::string_view bytes) { run([&](core::actions& a) { hub_.on_data(c, bytes, now_, a); }); }
  void drop(core::conn_id c) {
    closed_.insert(c);
    run([&](core::actions& a) { hub_.on_close(c, now_, a); });
  }
  void advance(millis by) {
    now_ += by;
    run([&](core::actions& a) {
      while (auto wake = hub_.next_wake()) {
        if (*wake > now_) break;
        hub_.on_timer(now_, a);
      }
    });
  }
  void join(core::conn_id c, const std::string& name, const std::string& key = "") {
    connect(c);
    data(c, "REGISTER " + name + (key.empty() ? "" : " " + key) + "\n");
    ASSERT_EQ(take(c), lines{"REGISTERED " + name + " OK\n"});
  }
  // alice (1) asks bob (2); returns the first port offered.
  unsigned start_alice_bob() {
    join(1, "alice");
    join(2, "bob");
    data(1, "CHAT bob\n");
    auto got = take(1);
    EXPECT_EQ(got.size(), 2u);
    EXPECT_EQ(got.at(0), "OK\n");
    return port_of(got.at(1));
  }
  static unsigned port_of(const std::string& line) {
    EXPECT_TRUE(line.starts_with("PORT ") && line.ends_with("\n")) << line;
    return static_cast<unsigned>(std::stoul(line.substr(5)));
  }
  lines take(core::conn_id c) { return std::exchange(inbox_[c], {}); }
  bool closed(core::conn_id c) const { return closed_.contains(c); }

  std::uint32_t random_ = 0;
  hub hub_;
  time_point now_{};

private:
  template <class F>
  void run(F f) {
    core::actions a;
    f(a);
    for (auto& action : a.take()) {
      if (auto* s = std::get_if<core::send_action>(&action)) {
        EXPECT_FALSE(closed_.contains(s->conn)) << "sent after close: " << s->bytes.str();
        inbox_[s->conn].push_back(s->bytes);
      } else if (auto* c = std::get_if<core::close_action>(&action)) {
        closed_.insert(c->conn);  // not reported back by the host
      }
    }
  }
  std::map<core::conn_id, lines> inbox_;
  std::set<core::conn_id> closed_;
};

TEST_F(PeerchatHub, NoGreetingAndHelloInEveryState) {
  connect(1);
  EXPECT_TRUE(take(1).empty());  // PC-CONN-02
  data(1, "HELLO\nHELLO peerchat/2\nHELLO peerchat/3\nHELLO peerchat/2 x\n");
  EXPECT_EQ(take(1), (lines{"HELLO\n", "HELLO peerchat/2\n", "HELLO\n", "HELLO\n"}));
  data(1, "REGISTER alice\nHELLO\n");
  EXPECT_EQ(take(1), (lines{"REGISTERED alice OK\n", "HELLO\n"}));
}

TEST_F(PeerchatHub, RegisterChecksRunInTheSpecOrder) {
  join(1, "alice");
  data(1, "REGISTER alice\nREGISTER carol\nREGISTER al i ce\nREGISTER\nREGISTER  x\nREGISTER x \n");
  EXPECT_EQ(take(1), (lines{"ERROR User_exists\n", "ERROR Already_auth\n", "ERROR Bad_syntax\n",
                            "ERROR Bad_syntax\n", "ERROR Bad_syntax\n", "ERROR Bad_syntax\n"}));
  connect(2);
  data(2, "REGISTER al!ce\nREGISTER STARTUSERS\nREGISTER " + std::string(33, 'a') + "\n");
  EXPECT_EQ(take(2), (lines{"ERROR Invalid_name\n", "ERROR Invalid_name\n", "ERROR Invalid_name\n"}));
  // The key is checked after the name and before the name is looked up.
  // A second field is always a key (PC-KEY-02), so `REGISTER al ice` is a bad key, not an extra field.
  data(2, "REGISTER al!ce ed25519:00\nREGISTER alice ed25519:00\nREGISTER bob ED25519:aa\nREGISTER al ice\n");
  EXPECT_EQ(take(2), (lines{"ERROR Invalid_name\n", "ERROR Bad_key\n", "ERROR Bad_key\n", "ERROR Bad_key\n"}));
  data(2, std::string("REGISTER alice ") + key1 + "\n");
  EXPECT_EQ(take(2), lines{"ERROR User_exists\n"});
  data(2, std::string("REGISTER bob ") + key1 + "\nREGISTER bob\n");
  EXPECT_EQ(take(2), (lines{"REGISTERED bob OK\n", "ERROR User_exists\n"}));
  EXPECT_EQ(hub_.registered_count(), 2u);
}

TEST_F(PeerchatHub, UnknownAndServerOnlyWordsAreOperationUnknown) {
  connect(1);
  data(1, "\nhello\nFOO\nSTARTUSERS\nREGISTERED a OK\nPORT 40000\nSTARTCHAT 1.2.3.4 40000 a\n\r\n");
  EXPECT_EQ(take(1), lines(8, "ERROR Operation_unknown\n"));
  data(1, "LISTUSERS\nCHAT bob\nCHAT\n");
  EXPECT_EQ(take(1), (lines{"ERROR Not_registered\n", "ERROR Not_registered\n", "ERROR Bad_syntax\n"}));
  EXPECT_FALSE(closed(1));
}

TEST_F(PeerchatHub, FramingAcceptsSplitsBatchesAndCrlf) {
  connect(1);
  data(1, "HEL");
  EXPECT_TRUE(take(1).empty());
  data(1, "LO\r");
  data(1, "\nHELLO\nHEL");
  EXPECT_EQ(take(1), (lines{"HELLO\n", "HELLO\n"}));
  data(1, "LO\n");
  EXPECT_EQ(take(1), lines{"HELLO\n"});
  // 511 bytes and the LF make 512: still a line.
  data(1, std::string(511, 'X') + "\n");
  EXPECT_EQ(take(1), lines{"ERROR Operation_unknown\n"});
  EXPECT_FALSE(closed(1));
}

TEST_F(PeerchatHub, AnOverlongLineEndsTheConnectionAndItsRegistration) {
  unsigned port = start_alice_bob();
  (void)port;
  data(2, std::string(300, 'X'));
  data(2, std::string(300, 'X'));
  EXPECT_EQ(take(2), lines{"ERROR Line_too_long\n"});
  EXPECT_TRUE(closed(2));
  EXPECT_EQ(take(1), lines{"ERROR Chat_aborted\n"});
  EXPECT_EQ(hub_.connection_count(), 1u);
  data(1, "LISTUSERS\n");
  EXPECT_EQ(take(1), (lines{"STARTUSERS\n", "ENDUSERS\n"}));
  join(3, "bob");  // the name is free at once (PC-REG-05)
}

TEST_F(PeerchatHub, ListUsersShowsTheOthersInRegistrationOrder) {
  join(1, "zed");
  join(2, "amy");
  join(3, "bob");
  data(2, "LISTUSERS\n");
  EXPECT_EQ(take(2), (lines{"STARTUSERS\n", "zed\n", "bob\n", "ENDUSERS\n"}));
  drop(1);
  join(4, "zed");
  data(2, "LISTUSERS\n");
  EXPECT_EQ(take(2), (lines{"STARTUSERS\n", "bob\n", "zed\n", "ENDUSERS\n"}));
}

TEST_F(PeerchatHub, ChatChecksRunInTheSpecOrder) {
  join(1, "alice");
  join(2, "bob");
  join(3, "carol");
  data(1, "CHAT\nCHAT bob carol\nCHAT  bob\nCHAT dave\nCHAT alice\n");
  EXPECT_EQ(take(1), (lines{"ERROR Bad_syntax\n", "ERROR Bad_syntax\n", "ERROR Bad_syntax\n",
                            "ERROR User_not_online\n", "ERROR Self_chat\n"}));
  data(1, "CHAT bob\n");
  EXPECT_EQ(take(1).size(), 2u);   // OK, PORT
  data(1, "CHAT carol\n");         // the requester is busy
  data(3, "CHAT bob\nCHAT alice\n");  // the target is busy
  EXPECT_EQ(take(1), lines{"ERROR User_busy\n"});
  EXPECT_EQ(take(3), (lines{"ERROR User_busy\n", "ERROR User_busy\n"}));
  data(2, "CHAT carol\n");  // a target who has not been asked yet is busy too
  EXPECT_EQ(take(2), lines{"ERROR User_busy\n"});
}

TEST_F(PeerchatHub, BothAcceptingMakesStartchatForTheRequesterFirst) {
  join(1, "alice", key1);
  connect(2, "[::ffff:10.0.0.9]:7000");
  data(2, "REGISTER bob\n");
  take(2);
  data(1, "CHAT bob\n");
  auto first = take(1);
  ASSERT_EQ(first, (lines{"OK\n", "PORT 40000\n"}));
  EXPECT_TRUE(take(2).empty());  // the target is asked only after the requester accepts (PC-PORT-02)
  data(1, "OK\n");
  EXPECT_EQ(take(2), lines{"PORT 40000\n"});
  EXPECT_TRUE(take(1).empty());
  data(2, "OK 40000\n");
  EXPECT_EQ(take(1), lines{"STARTCHAT 10.0.0.9 40000 bob\n"});
  EXPECT_EQ(take(2), lines{"STARTCHAT 127.0.0.1 40000 alice " + std::string(key1) + "\n"});
  EXPECT_EQ(hub_.negotiation_count(), 0u);
  // The original client's second OK is absorbed (PC-PORT-06), and both may chat again at once.
  data(2, "OK\n");
  data(1, "OK\n");
  EXPECT_TRUE(take(1).empty());
  EXPECT_TRUE(take(2).empty());
  data(2, "CHAT alice\n");
  EXPECT_EQ(take(2), (lines{"OK\n", "PORT 40001\n"}));
}

TEST_F(PeerchatHub, RefusalsStartNewRoundsAndTheTwentiethEndsTheNegotiation) {
  random_ = 7;
  start_alice_bob();
  std::set<unsigned> offered{40007};
  // The requester refuses: the target is never asked that round.
  data(1, "ERROR Port_unavailable\n");
  auto next = take(1);
  ASSERT_EQ(next.size(), 1u);
  offered.insert(port_of(next[0]));
  EXPECT_TRUE(take(2).empty());
  // The requester accepts and the target refuses.
  data(1, "OK\n");
  ASSERT_EQ(take(2).size(), 1u);
  data(2, "ERROR\n");
  for (int round = 3; round <= max_rounds; ++round) {
    next = take(1);
    ASSERT_EQ(next.size(), 1u) << round;
    unsigned port = port_of(next[0]);
    EXPECT_TRUE(valid_chat_port(port));
    EXPECT_TRUE(offered.insert(port).second) << "port offered twice: " << port;
    data(1, "ERROR\n");
  }
  EXPECT_EQ(offered.size(), 20u);
  EXPECT_EQ(take(1), lines{"ERROR Max_PortAgree_Retries_Exceded\n"});
  EXPECT_TRUE(take(2).empty());
  EXPECT_EQ(hub_.negotiation_count(), 0u);
  data(1, "OK\n");
  EXPECT_TRUE(take(1).empty());
}

TEST_F(PeerchatHub, AGeneratorThatRepeatsItselfStillGivesFreshPorts) {
  hub h({.random = [] { return std::uint32_t(5); }});
  core::actions a;
  h.on_connect(1, "127.0.0.1:1", now_, a);
  h.on_connect(2, "127.0.0.2:1", now_, a);
  h.on_data(1, "REGISTER a\n", now_, a);
  h.on_data(2, "REGISTER b\n", now_, a);
  h.on_data(1, "CHAT b\n", now_, a);
  for (int i = 1; i < max_rounds; ++i) h.on_data(1, "ERROR\n", now_, a);
  std::set<std::string> ports;
  for (const auto& action : a.list())
    if (auto* s = std::get_if<core::send_action>(&action); s && s->bytes.str().starts_with("PORT ")) ports.insert(s->bytes);
  EXPECT_EQ(ports.size(), 20u);
  EXPECT_TRUE(ports.contains("PORT 40005\n"));
}

TEST_F(PeerchatHub, TheDefaultGeneratorDrawsInTheRange) {
  hub h({});
  core::actions a;
  h.on_connect(1, "127.0.0.1:1", now_, a);
  h.on_connect(2, "127.0.0.2:1", now_, a);
  h.on_data(1, "REGISTER a\nREGISTER b\n", now_, a);
  h.on_data(2, "REGISTER b\n", now_, a);
  h.on_data(1, "CHAT b\n", now_, a);
  for (int i = 1; i < max_rounds; ++i) h.on_data(1, "ERROR\n", now_, a);
  int seen = 0;
  for (const auto& action : a.list())
    if (auto* s = std::get_if<core::send_action>(&action); s && s->bytes.str().starts_with("PORT ")) {
      EXPECT_TRUE(valid_chat_port(port_of(s->bytes)));
      ++seen;
    }
  EXPECT_EQ(seen, 20);
}

TEST_F(PeerchatHub, StrayAndMismatchedAnswersAreIgnored) {
  join(3, "carol");
  data(3, "OK\nOK 40000\nERROR\nERROR whatever\n");
  EXPECT_TRUE(take(3).empty());
  unsigned port = start_alice_bob();
  data(2, "OK\nERROR\n");  // the target has not been asked
  data(1, "OK " + std::to_string(port + 1) + "\nOK abc\n");  // another round's port
  EXPECT_TRUE(take(1).empty());
  EXPECT_TRUE(take(2).empty());
  data(1, "OK " + std::to_string(port) + "\n");
  EXPECT_EQ(take(2), lines{port_line(port)});
  data(1, "OK\nERROR\n");  // the requester has already answered this round
  EXPECT_TRUE(take(1).empty());
  data(2, "OK\n");
  EXPECT_EQ(take(1).size(), 1u);
}

TEST_F(PeerchatHub, OtherLinesWhileAnAnswerIsPendingAreProcessedAsUsual) {
  start_alice_bob();
  data(1, "HELLO\nLISTUSERS\nCHAT bob\nFOO\nREGISTER x\n");
  EXPECT_EQ(take(1), (lines{"HELLO\n", "STARTUSERS\n", "bob\n", "ENDUSERS\n", "ERROR User_busy\n",
                            "ERROR Operation_unknown\n", "ERROR Already_auth\n"}));
  data(1, "OK\n");
  EXPECT_EQ(take(2).size(), 1u);
}

TEST_F(PeerchatHub, ASilentUserAbortsTheNegotiationAfterThePortTimeout) {
  start_alice_bob();
  advance(millis(900));
  data(1, "OK\n");  // the target's own 1000 ms start now
  EXPECT_EQ(take(2).size(), 1u);
  advance(millis(900));
  EXPECT_TRUE(take(1).empty());
  advance(millis(100));
  EXPECT_EQ(take(1), lines{"ERROR Chat_aborted\n"});
  EXPECT_EQ(take(2), lines{"ERROR Chat_aborted\n"});
  EXPECT_EQ(hub_.negotiation_count(), 0u);
  data(2, "OK\n");  // too late: ignored, and no further round
  EXPECT_TRUE(take(1).empty());
  EXPECT_TRUE(take(2).empty());
  EXPECT_FALSE(closed(1));
  EXPECT_FALSE(closed(2));
}

TEST_F(PeerchatHub, ADepartureAbortsTheNegotiationForTheOtherUser) {
  start_alice_bob();
  drop(2);
  EXPECT_EQ(take(1), lines{"ERROR Chat_aborted\n"});
  data(1, "OK\n");
  EXPECT_TRUE(take(1).empty());
  join(3, "bob");
  data(3, "CHAT alice\n");
  EXPECT_EQ(take(3).size(), 2u);  // alice is free again
  data(3, "CLOSE\n");
  EXPECT_EQ(take(3), lines{"CLOSE\n"});
  EXPECT_TRUE(closed(3));
  EXPECT_EQ(take(1), lines{"ERROR Chat_aborted\n"});
  EXPECT_EQ(hub_.negotiation_count(), 0u);
}

TEST_F(PeerchatHub, CloseAnswersCloseAndDropsWhatFollows) {
  join(1, "alice");
  data(1, "CLOSE\nHELLO\n");
  EXPECT_EQ(take(1), lines{"CLOSE\n"});
  EXPECT_TRUE(closed(1));
  EXPECT_EQ(hub_.connection_count(), 0u);
  EXPECT_EQ(hub_.registered_count(), 0u);
  connect(2);
  data(2, "CLOSE\n");
  EXPECT_EQ(take(2), lines{"CLOSE\n"});
}

TEST_F(PeerchatHub, UnregisteredConnectionsAreClosedSilentlyAfterTheRegisterTimeout) {
  connect(1);
  join(2, "bob");
  advance(millis(4999));
  EXPECT_FALSE(closed(1));
  advance(millis(1));
  EXPECT_TRUE(closed(1));
  EXPECT_TRUE(take(1).empty());
  advance(millis(100000));
  EXPECT_FALSE(closed(2));  // registered users have no idle timeout
  EXPECT_FALSE(hub_.next_wake());
}

class PeerchatHubSmall : public PeerchatHub {
protected:
  PeerchatHubSmall() : PeerchatHub(fault::none, 2) {}
};

TEST_F(PeerchatHubSmall, BeyondTheLimitAConnectionGetsServerFullWhenAllHaveRegistered) {
  join(1, "alice");
  join(2, "bob");
  connect(3);
  EXPECT_EQ(take(3), lines{"ERROR Server_full\n"});
  EXPECT_TRUE(closed(3));
  EXPECT_EQ(hub_.connection_count(), 2u);
  data(3, "HELLO\n");  // never recorded: ignored
  drop(1);
  connect(4);
  EXPECT_FALSE(closed(4));
  data(4, "HELLO\n");
  EXPECT_EQ(take(4), lines{"HELLO\n"});
}

TEST_F(PeerchatHubSmall, WhenFullTheOldestConnectionNotRegisteredMakesRoom) {
  connect(1);
  join(2, "alice");
  connect(3);
  connect(4);  // full: 1 (not registered, the oldest) and 2 (alice); 3 took 1's place, 4 takes 3's
  EXPECT_TRUE(closed(1));
  EXPECT_TRUE(take(1).empty());  // PC-LIMIT-02: without a message
  EXPECT_TRUE(closed(3));
  EXPECT_FALSE(closed(2));
  EXPECT_FALSE(closed(4));
  data(4, "HELLO\n");
  EXPECT_EQ(take(4), lines{"HELLO\n"});
  EXPECT_TRUE(hub_.signed_in(2));
  EXPECT_FALSE(hub_.signed_in(4));
}

// --- planted faults: each one changes what the hub does ---------------------------------------------

template <fault F>
class PeerchatFault : public PeerchatHub {
protected:
  PeerchatFault() : PeerchatHub(F) {}
};

using NoStartchat = PeerchatFault<fault::no_startchat>;
TEST_F(NoStartchat, BothAcceptAndNothingFollows) {
  start_alice_bob();
  data(1, "OK\n");
  take(2);
  data(2, "OK\n");
  EXPECT_TRUE(take(1).empty());
  EXPECT_TRUE(take(2).empty());
}

using ListIncludesSelf = PeerchatFault<fault::list_includes_self>;
TEST_F(ListIncludesSelf, TheRequesterIsListed) {
  join(1, "alice");
  data(1, "LISTUSERS\n");
  EXPECT_EQ(take(1), (lines{"STARTUSERS\n", "alice\n", "ENDUSERS\n"}));
}

using NoBareOk = PeerchatFault<fault::no_bare_ok>;
TEST_F(NoBareOk, ChatGoesStraightToPort) {
  join(1, "alice");
  join(2, "bob");
  data(1, "CHAT bob\n");
  EXPECT_EQ(take(1), lines{"PORT 40000\n"});
}

using TargetAskedFirst = PeerchatFault<fault::target_asked_first>;
TEST_F(TargetAskedFirst, TheTargetGetsThePortFirst) {
  join(1, "alice");
  join(2, "bob");
  data(1, "CHAT bob\n");
  EXPECT_EQ(take(1), lines{"OK\n"});
  EXPECT_EQ(take(2), lines{"PORT 40000\n"});
  data(2, "OK\n");
  EXPECT_EQ(take(1), lines{"PORT 40000\n"});
}

using PortOutOfRange = PeerchatFault<fault::port_out_of_range>;
TEST_F(PortOutOfRange, TheFirstPortIsBelowTheRange) {
  join(1, "alice");
  join(2, "bob");
  data(1, "CHAT bob\n");
  EXPECT_EQ(take(1), (lines{"OK\n", "PORT 1024\n"}));
}

using StartchatAfterRetries = PeerchatFault<fault::startchat_after_retries>;
TEST_F(StartchatAfterRetries, TwentyRefusalsStillIntroduceTheUsers) {
  start_alice_bob();
  for (int round = 1; round < max_rounds; ++round) {
    data(1, "ERROR\n");
    EXPECT_EQ(take(1).size(), 1u);
  }
  data(1, "ERROR\n");
  EXPECT_EQ(take(1), lines{"STARTCHAT 127.0.0.2 40019 bob\n"});
  EXPECT_EQ(take(2), lines{"STARTCHAT 127.0.0.1 40019 alice\n"});
}

using NoPortTimeout = PeerchatFault<fault::no_port_timeout>;
TEST_F(NoPortTimeout, ASilentUserIsWaitedForForever) {
  start_alice_bob();
  advance(millis(3'600'000));
  EXPECT_TRUE(take(1).empty());
  EXPECT_EQ(hub_.negotiation_count(), 1u);
}

using StrayOkUnknown = PeerchatFault<fault::stray_ok_unknown>;
TEST_F(StrayOkUnknown, AStrayOkIsAnUnknownCommand) {
  join(1, "alice");
  data(1, "OK\n");
  EXPECT_EQ(take(1), lines{"ERROR Operation_unknown\n"});
}

using KeepNameAfterClose = PeerchatFault<fault::keep_name_after_close>;
TEST_F(KeepNameAfterClose, TheNameStaysTaken) {
  join(1, "alice");
  drop(1);
  connect(2);
  data(2, "REGISTER alice\n");
  EXPECT_EQ(take(2), lines{"ERROR User_exists\n"});
}

using OwnAddress = PeerchatFault<fault::own_address>;
TEST_F(OwnAddress, StartchatCarriesTheWildcardAddress) {
  start_alice_bob();
  data(1, "OK\n");
  take(2);
  data(2, "OK\n");
  EXPECT_EQ(take(1), lines{"STARTCHAT 0.0.0.0 40000 bob\n"});
}

using AllowSelfChat = PeerchatFault<fault::allow_self_chat>;
TEST_F(AllowSelfChat, ChatWithOneselfIsNegotiated) {
  join(1, "alice");
  data(1, "CHAT alice\n");
  EXPECT_EQ(take(1), (lines{"OK\n", "PORT 40000\n"}));
  data(1, "OK\n");
  EXPECT_EQ(take(1), lines{"PORT 40000\n"});
  data(1, "OK\n");
  EXPECT_EQ(take(1), (lines{"STARTCHAT 127.0.0.1 40000 alice\n", "STARTCHAT 127.0.0.1 40000 alice\n"}));
}

using CrlfLines = PeerchatFault<fault::crlf_lines>;
TEST_F(CrlfLines, EveryLineEndsInCrLf) {
  connect(1);
  data(1, "HELLO\n");
  EXPECT_EQ(take(1), lines{"HELLO\r\n"});
  data(1, "LISTUSERS\n");
  EXPECT_EQ(take(1), lines{"ERROR Not_registered\r\n"});
  data(1, "REGISTER alice\nLISTUSERS\n");
  EXPECT_EQ(take(1), (lines{"REGISTERED alice OK\r\n", "STARTUSERS\r\n", "ENDUSERS\r\n"}));
}

using HelloV1Only = PeerchatFault<fault::hello_v1_only>;
TEST_F(HelloV1Only, IsAWholePeerchat1Server) {
  connect(1);
  data(1, "HELLO peerchat/2\n");
  EXPECT_EQ(take(1), lines{"HELLO\n"});
  // The key field is ignored, as the original ignores it: no Bad_key, and no key in STARTCHAT.
  data(1, "REGISTER alice ed25519:00\n");
  EXPECT_EQ(take(1), lines{"REGISTERED alice OK\n"});
  join(2, "bob", key2);
  data(1, "CHAT bob\nOK\n");
  EXPECT_EQ(take(1), (lines{"OK\n", "PORT 40000\n"}));
  EXPECT_EQ(take(2), lines{"PORT 40000\n"});
  data(2, "OK\nOK\n");  // the original client's two OKs: the second one is ignored (PC-PORT-06)
  EXPECT_EQ(take(1), lines{"STARTCHAT 127.0.0.2 40000 bob\n"});
  EXPECT_EQ(take(2), lines{"STARTCHAT 127.0.0.1 40000 alice\n"});
}

using HelloAnyArgument = PeerchatFault<fault::hello_any_argument>;
TEST_F(HelloAnyArgument, AnyVersionIsTakenForTwo) {
  connect(1);
  data(1, "HELLO peerchat/3\nHELLO\n");
  EXPECT_EQ(take(1), (lines{"HELLO peerchat/2\n", "HELLO\n"}));
}

using DropKey = PeerchatFault<fault::drop_key>;
TEST_F(DropKey, StartchatLosesTheKey) {
  join(1, "alice", key1);
  join(2, "bob", key2);
  data(1, "CHAT bob\nOK\n");
  take(1);
  take(2);
  data(2, "OK\n");
  EXPECT_EQ(take(1), lines{"STARTCHAT 127.0.0.2 40000 bob\n"});
  EXPECT_EQ(take(2), lines{"STARTCHAT 127.0.0.1 40000 alice\n"});
}

using NoRegisterTimeout = PeerchatFault<fault::no_register_timeout>;
TEST_F(NoRegisterTimeout, AnUnregisteredConnectionStays) {
  connect(1);
  advance(millis(100000));
  EXPECT_FALSE(closed(1));
}

TEST(PeerchatFaults, NamesAreUniqueAndFound) {
  std::set<std::string_view> names;
  for (const auto& f : all_faults()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_EQ(fault_from_name(f.name), f.value);
  }
  EXPECT_TRUE(names.contains("no-startchat"));
  EXPECT_FALSE(fault_from_name("none"));
}

}  // namespace
}  // namespace parley::peerchat
