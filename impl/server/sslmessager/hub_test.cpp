#include "impl/server/sslmessager/hub.hpp"

#include <gtest/gtest.h>

namespace parley::sslmessager {
namespace {

const std::map<std::string, user_entry>& users() {
  static const auto made = [] {
    std::map<std::string, user_entry> u;
    for (const char* name : {"aaa", "bbb", "ccc"}) u[name] = *make_entry(name, "123", {16384, 8, 1});
    return u;
  }();
  return made;
}

class SslmessagerHub : public ::testing::Test {
protected:
  explicit SslmessagerHub(fault f = fault::none)
      : hub_({.users = users(), .check_interval = millis(1000), .login_timeout = millis(5000), .planted = f}) {}

  void connect(core::conn_id c) { run([&](core::actions& a) { hub_.on_connect(c, "t", now_, a); }); }
  void data(core::conn_id c, std::string_view bytes) { run([&](core::actions& a) { hub_.on_data(c, bytes, now_, a); }); }
  void drop(core::conn_id c) { run([&](core::actions& a) { hub_.on_close(c, now_, a); }); }
  void advance(millis by) {
    now_ += by;
    run([&](core::actions& a) {
      while (auto wake = hub_.next_wake()) {
        if (*wake > now_) break;
        hub_.on_timer(now_, a);
      }
    });
  }
  void login(core::conn_id c, const std::string& name) {
    connect(c);
    data(c, "AUTH " + name + " 123 \r\n");
    ASSERT_EQ(take(c), (std::vector<std::string>{"ACCEPT " + name + " \r\n"}));
  }
  std::vector<std::string> take(core::conn_id c) { return std::exchange(inbox_[c], {}); }
  bool closed(core::conn_id c) const { return closed_.contains(c); }
  // The crash a planted fault asked for: "" for none, else "process" or "listener".
  std::string crashed() const { return crashed_; }

  hub hub_;
  time_point now_{};

private:
  template <class F>
  void run(F f) {
    core::actions a;
    f(a);
    for (auto& action : a.take()) {
      if (auto* s = std::get_if<core::send_action>(&action)) {
        EXPECT_FALSE(closed_.contains(s->conn)) << "sent after close";
        inbox_[s->conn].push_back(s->bytes);
      } else if (auto* c = std::get_if<core::close_action>(&action)) {
        closed_.insert(c->conn);  // the host does not report a close the hub asked for
      } else if (auto* crash = std::get_if<core::crash_action>(&action)) {
        crashed_ = crash->whole_process ? "process" : "listener";
      }
    }
  }
  std::map<core::conn_id, std::vector<std::string>> inbox_;
  std::set<core::conn_id> closed_;
  std::string crashed_;
};

TEST_F(SslmessagerHub, RelaysUnderTheRealSenderAndAnswersCntForOfflineTargets) {
  login(1, "aaa");
  login(2, "bbb");
  data(1, "MSG bbb aaa hello  there caf\xc3\xa9 \r\n");
  EXPECT_EQ(take(2), (std::vector<std::string>{"RELAY bbb aaa hello  there caf\xc3\xa9 \r\n"}));
  EXPECT_TRUE(take(1).empty());  // no acknowledgement (SSLM-MSG-05)
  data(1, "MSG ccc aaa anyone?\r\nMSG nobody aaa x\r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"CNT <user not online> \r\n", "CNT <user not online> \r\n"}));
  data(1, "MSG aaa aaa note to self\r\nMSG bbb aaa\r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"RELAY aaa aaa note to self \r\n"}));
  EXPECT_EQ(take(2), (std::vector<std::string>{"RELAY bbb aaa  \r\n"}));
}

TEST_F(SslmessagerHub, AForgedSenderEndsTheConnection) {
  login(1, "aaa");
  login(2, "bbb");
  data(1, "MSG bbb ccc I am ccc \r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"END * <incorrect sender> \r\n"}));
  EXPECT_TRUE(closed(1));
  EXPECT_TRUE(take(2).empty());
}

TEST_F(SslmessagerHub, LoginRefusalsLookTheSame) {
  connect(1);
  data(1, "AUTH aaa 124 \r\n");
  connect(2);
  data(2, "AUTH nobody 123 \r\n");
  connect(3);
  data(3, "AUTH bad:name 123 \r\n");
  for (core::conn_id c : {1, 2, 3}) {
    EXPECT_EQ(take(c), (std::vector<std::string>{"END <incorrect username or password> \r\n"}));
    EXPECT_TRUE(closed(c));
  }
  login(4, "aaa");
  connect(5);
  data(5, "AUTH aaa 123 \r\n");
  EXPECT_EQ(take(5), (std::vector<std::string>{"END <user already online> \r\n"}));
  EXPECT_FALSE(closed(4));
  EXPECT_TRUE(take(4).empty());
}

TEST_F(SslmessagerHub, ProtocolErrorsEndOnlyTheOffender) {
  connect(1);
  data(1, "MSG bbb aaa hi \r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"END * <incorrect protocol> \r\n"}));
  login(2, "aaa");
  login(3, "bbb");
  data(2, "HELLO bbb x\r\n");
  EXPECT_EQ(take(2), (std::vector<std::string>{"END * <incorrect protocol> \r\n"}));
  EXPECT_TRUE(take(3).empty());
  EXPECT_FALSE(closed(3));
  data(3, "AUTH bbb 123\r\n");  // a second AUTH on a logged-in connection
  EXPECT_EQ(take(3), (std::vector<std::string>{"END * <incorrect protocol> \r\n"}));
  EXPECT_EQ(hub_.online_count(), 0u);
}

TEST_F(SslmessagerHub, EndFreesTheNameAtOnce) {
  login(1, "aaa");
  data(1, "END \r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"END <end accepted> \r\n"}));
  EXPECT_TRUE(closed(1));
  login(2, "aaa");
  drop(2);  // a reset: offline at once (SSLM-END-02)
  login(3, "aaa");
  EXPECT_EQ(hub_.connection_count(), 1u);  // ended and dropped connections are forgotten
}

TEST_F(SslmessagerHub, FragmentsWithoutTerminatorBecomeMessages) {
  connect(1);
  data(1, "AUTH aaa 123");  // the original client's style: one message per record, no CRLF
  EXPECT_TRUE(take(1).empty());
  advance(millis(199));
  EXPECT_TRUE(take(1).empty());
  advance(millis(1));
  EXPECT_EQ(take(1), (std::vector<std::string>{"ACCEPT aaa \r\n"}));
}

TEST_F(SslmessagerHub, OverlongMessagesEndTheConnection) {
  login(1, "aaa");
  data(1, std::string(5000, 'x'));
  EXPECT_EQ(take(1), (std::vector<std::string>{"END * <message too long> \r\n"}));
  login(2, "bbb");
  data(2, "MSG aaa bbb " + std::string(4001, 'y') + "\r\n");
  EXPECT_EQ(take(2), (std::vector<std::string>{"END * <message too long> \r\n"}));
}

TEST_F(SslmessagerHub, ChecksEveryIntervalAndTimesOutLogins) {
  login(1, "aaa");
  connect(2);
  advance(millis(999));
  EXPECT_TRUE(take(1).empty());
  advance(millis(1));
  EXPECT_EQ(take(1), (std::vector<std::string>{"CHECK \r\n"}));
  advance(millis(1000));
  EXPECT_EQ(take(1), (std::vector<std::string>{"CHECK \r\n"}));
  EXPECT_TRUE(take(2).empty());  // never to a connection that is not online
  advance(millis(3000));
  EXPECT_EQ(take(2), (std::vector<std::string>{"END * <login timeout> \r\n"}));
  EXPECT_FALSE(closed(1));
}

// Found under load: an AUTH that arrived 2.5 intervals after the connect got ACCEPT, a CHECK at once and
// another soon after, because the interval was counted from the connect.
TEST_F(SslmessagerHub, TheFirstCheckComesOneIntervalAfterALateLogin) {
  connect(1);
  advance(millis(2500));
  data(1, "AUTH aaa 123 \r\n");
  ASSERT_EQ(take(1), (std::vector<std::string>{"ACCEPT aaa \r\n"}));
  advance(millis(999));
  EXPECT_TRUE(take(1).empty());
  advance(millis(1));
  EXPECT_EQ(take(1), (std::vector<std::string>{"CHECK \r\n"}));
  advance(millis(999));
  EXPECT_TRUE(take(1).empty());
  advance(millis(1));
  EXPECT_EQ(take(1), (std::vector<std::string>{"CHECK \r\n"}));
}

// A loop that wakes 2.5 intervals late (the same slow scrypt) sends one CHECK, and the next a whole interval
// after it, not two more to catch up.
TEST_F(SslmessagerHub, ALateWakeUpSendsOneCheckNotABurst) {
  login(1, "aaa");
  advance(millis(2500));
  EXPECT_EQ(take(1), (std::vector<std::string>{"CHECK \r\n"}));
  advance(millis(999));
  EXPECT_TRUE(take(1).empty());
  advance(millis(1));
  EXPECT_EQ(take(1), (std::vector<std::string>{"CHECK \r\n"}));
}

class SslmessagerHubSpoofable : public SslmessagerHub {
protected:
  SslmessagerHubSpoofable() : SslmessagerHub(fault::spoofable_sender) {}
};

TEST_F(SslmessagerHubSpoofable, TheFaultRelaysForgedSenders) {
  login(1, "aaa");
  login(2, "bbb");
  data(1, "MSG bbb ccc forged\r\n");
  EXPECT_EQ(take(2), (std::vector<std::string>{"RELAY bbb ccc forged \r\n"}));
}

class SslmessagerHubUnframed : public SslmessagerHub {
protected:
  SslmessagerHubUnframed() : SslmessagerHub(fault::no_framing) {}
};

TEST_F(SslmessagerHubUnframed, TheFaultTakesEachReadAsOneMessage) {
  login(1, "aaa");
  login(2, "bbb");
  data(1, "MSG bbb aaa no terminator");  // at once, without waiting for the fragment timeout
  EXPECT_EQ(take(2), (std::vector<std::string>{"RELAY bbb aaa no terminator \r\n"}));
  data(1, "MSG bbb aaa in ");  // a message in two reads is two messages
  EXPECT_EQ(take(2), (std::vector<std::string>{"RELAY bbb aaa in \r\n"}));
  data(1, "pieces \r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"END * <incorrect protocol> \r\n"}));
  data(2, "MSG aaa bbb one \r\nMSG aaa bbb two \r\n");  // and two in one read are none
  EXPECT_EQ(take(2), (std::vector<std::string>{"END * <incorrect protocol> \r\n"}));
}

class SslmessagerHubFragileListener : public SslmessagerHub {
protected:
  SslmessagerHubFragileListener() : SslmessagerHub(fault::unknown_user_kills_listener) {}
};

TEST_F(SslmessagerHubFragileListener, TheFaultRefusesAnUnknownUserThenStopsTheListenerOnly) {
  login(2, "bbb");
  connect(3);
  data(3, "AUTH bbb wrong \r\n");  // a known user's wrong password leaves the listener alone
  EXPECT_EQ(crashed(), "");
  connect(4);
  data(4, "AUTH nobody 123 \r\n");
  EXPECT_EQ(take(4), (std::vector<std::string>{"END <incorrect username or password> \r\n"}));
  EXPECT_EQ(crashed(), "listener");
  data(2, "MSG bbb bbb still here \r\n");  // open sessions go on
  EXPECT_EQ(take(2), (std::vector<std::string>{"RELAY bbb bbb still here \r\n"}));
}

class SslmessagerHubRelayToEveryone : public SslmessagerHub {
protected:
  SslmessagerHubRelayToEveryone() : SslmessagerHub(fault::relay_to_everyone) {}
};

TEST_F(SslmessagerHubRelayToEveryone, TheFaultCopiesRelaysButStillAnswersCnt) {
  login(1, "aaa");
  login(2, "bbb");
  data(1, "MSG bbb aaa hi \r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"RELAY bbb aaa hi \r\n"}));
  EXPECT_EQ(take(2), (std::vector<std::string>{"RELAY bbb aaa hi \r\n"}));
  data(1, "MSG ccc aaa anyone? \r\n");
  EXPECT_EQ(take(1), (std::vector<std::string>{"CNT <user not online> \r\n"}));
}

}  // namespace
}  // namespace parley::sslmessager
