// Two agents against each other with a fake clock and a fake UDP network in between. The rendezvous
// server's lines are typed in by the test, so each case shows exactly what the agent is told.
#include "impl/client/peerchat/agent.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <set>

#include "impl/proto/peerchat/datagram.hpp"

namespace parley::peerchat {
namespace {

using namespace std::chrono_literals;

struct in_flight {
  std::string from_address;
  unsigned from_port;
  std::string to_address;
  unsigned to_port;
  std::string data;
};

struct node {
  std::unique_ptr<agent> a;
  std::string address;
  std::vector<event> events;
  std::vector<std::string> lines;  // to the server
  std::set<unsigned> bound;
  std::vector<in_flight> sent;
  bool closed = false;
  int saves = 0;

  std::vector<event> of(std::string_view type) const {
    std::vector<event> found;
    for (const auto& e : events)
      if (e.type == type) found.push_back(e);
    return found;
  }
  bool has(std::string_view type, std::string_view field = {}, std::string_view value = {}) const {
    for (const auto& e : events)
      if (e.type == type && (field.empty() || e.field(field) == value)) return true;
    return false;
  }
};

std::shared_ptr<const identity> new_identity() {
  auto made = identity::generate();
  EXPECT_TRUE(made.has_value());
  return std::make_shared<const identity>(std::move(*made));
}

class PeerchatAgent : public ::testing::Test {
protected:
  node& add(const std::string& name, const std::string& address, agent_options options = {}) {
    options.name = name;
    if (!options.me && !options.v1) options.me = new_identity();
    auto& n = nodes_[name];
    keys_[name] = options.me;
    n.address = address;
    n.a = std::make_unique<agent>(std::move(options));
    agent_output out;
    n.a->on_open(out);
    apply(n, out);
    return n;
  }

  // The server's side of HELLO and REGISTER.
  node& join(const std::string& name, const std::string& address, agent_options options = {}, bool v2 = true) {
    auto& n = add(name, address, std::move(options));
    server(name, v2 ? "HELLO peerchat/2" : "HELLO");
    server(name, "REGISTERED " + name + " OK");
    return n;
  }

  void server(const std::string& name, const std::string& line) {
    agent_output out;
    nodes_[name].a->on_data(line + "\n", now_, out);
    apply(nodes_[name], out);
    pump();
  }
  void type(const std::string& name, const std::string& line) {
    agent_output out;
    nodes_[name].a->on_command(line, now_, out);
    apply(nodes_[name], out);
    pump();
  }

  std::string key_field(const std::string& name) { return " " + format_public_key(keys_[name]->public_key_bytes()); }

  // The negotiation as the server runs it for a CHAT from `a` to `b` (the port agreed at once).
  void start(const std::string& a, const std::string& b, bool with_keys, unsigned port = 40000) {
    server(a, "PORT " + std::to_string(port));
    server(b, "PORT " + std::to_string(port));
    server(a, "STARTCHAT " + nodes_[b].address + " " + std::to_string(port) + " " + b + (with_keys ? key_field(b) : ""));
    server(b, "STARTCHAT " + nodes_[a].address + " " + std::to_string(port) + " " + a + (with_keys ? key_field(a) : ""));
  }

  void apply(node& n, agent_output& out) {
    for (auto& e : out.events) n.events.push_back(e);
    for (auto& l : out.sends) n.lines.push_back(l);
    if (out.contacts_changed) ++n.saves;
    if (out.close) n.closed = true;
    for (auto& r : out.udp) {
      switch (r.what) {
        case udp_request::kind::bind: {
          bool ok = !refused_.contains(r.port) && !n.bound.contains(r.port);
          if (ok) n.bound.insert(r.port);
          agent_output next;
          n.a->on_bind_result(r.port, ok, now_, next);
          apply(n, next);
          break;
        }
        case udp_request::kind::release:
          n.bound.erase(r.port);
          break;
        case udp_request::kind::send: {
          EXPECT_TRUE(n.bound.contains(r.port)) << "sent from a port not bound";
          EXPECT_LE(r.data.size(), max_datagram);
          in_flight d{n.address, r.port, r.address, r.remote_port, r.data};
          n.sent.push_back(d);
          if (!lose_ || !lose_(d)) wire_.push_back(std::move(d));
          break;
        }
      }
    }
  }

  // A datagram from outside the simulated wire (an injector, or one built by hand) to n's chat port 40000.
  void inject(node& n, const std::string& from, std::string_view data) {
    agent_output out;
    n.a->on_datagram(40000, from, 40000, data, now_, out);
    apply(n, out);
  }

  void deliver(const in_flight& d) {
    for (auto& [name, n] : nodes_) {
      if (n.address != d.to_address || !n.bound.contains(d.to_port)) continue;
      agent_output out;
      n.a->on_datagram(d.to_port, d.from_address, d.from_port, d.data, now_, out);
      apply(n, out);
    }
  }

  void pump() {
    for (int guard = 0; !wire_.empty() && guard < 10000; ++guard) {
      auto d = std::move(wire_.front());
      wire_.pop_front();
      deliver(d);
    }
  }

  // Moves the clock in small steps, waking every agent that asked for it.
  void advance(millis total, millis step = 10ms) {
    for (millis done{0}; done < total; done += step) {
      now_ += step;
      for (auto& [name, n] : nodes_) {
        auto wake = n.a->next_wake();
        if (!wake || *wake > now_) continue;
        agent_output out;
        n.a->on_timer(now_, out);
        apply(n, out);
      }
      pump();
    }
  }

  static std::size_t count_type(const node& n, datagram_type type) {
    std::size_t count = 0;
    for (const auto& d : n.sent)
      if (auto p = parse_plain(d.data); p && p->type == type) ++count;
    return count;
  }

  std::map<std::string, node> nodes_;
  std::map<std::string, std::shared_ptr<const identity>> keys_;
  std::deque<in_flight> wire_;
  std::set<unsigned> refused_;
  std::function<bool(const in_flight&)> lose_;
  time_point now_{std::chrono::hours(1)};
};

// --- rendezvous ----------------------------------------------------------------------------------------

TEST_F(PeerchatAgent, SaysHelloThenRegistersWithItsKeyToAPeerchat2Server) {
  auto& a = add("alice", "127.0.0.1");
  ASSERT_EQ(a.lines, std::vector<std::string>{"HELLO peerchat/2\n"});
  server("alice", "HELLO peerchat/2");
  ASSERT_EQ(a.lines.size(), 2u);
  EXPECT_EQ(a.lines[1], "REGISTER alice" + key_field("alice") + "\n");
  server("alice", "REGISTERED alice OK");
  EXPECT_TRUE(a.has("hello", "version", "peerchat/2"));
  EXPECT_TRUE(a.has("registered", "secure", "true"));
  EXPECT_TRUE(a.a->registered());
}

TEST_F(PeerchatAgent, RegistersWithoutKeyToAPeerchat1ServerAndAcceptsTheSeedsReply) {
  auto& a = add("alice", "127.0.0.1");
  server("alice", "HELLO");
  EXPECT_EQ(a.lines.back(), "REGISTER alice\n");  // PC-KEY-02: no key to a plain HELLO
  server("alice", "REGISTER alice OK");             // PC-CLI-02: the seed's spelling
  EXPECT_TRUE(a.has("registered", "secure", "false"));
}

TEST_F(PeerchatAgent, V1FlagSaysPlainHello) {
  auto& a = add("alice", "127.0.0.1", {.v1 = true});
  EXPECT_EQ(a.lines.front(), "HELLO\n");
  server("alice", "HELLO peerchat/2");  // not asked for: still peerchat/1
  EXPECT_EQ(a.lines.back(), "REGISTER alice\n");
}

TEST_F(PeerchatAgent, RefusedRegistrationEndsTheSession) {
  auto& a = add("alice", "127.0.0.1");
  server("alice", "HELLO peerchat/2");
  server("alice", "ERROR User_exists");
  EXPECT_TRUE(a.has("error", "code", "User_exists"));
  EXPECT_TRUE(a.closed);
  EXPECT_FALSE(a.a->registered());
}

TEST_F(PeerchatAgent, CommandsWaitForTheRegistration) {
  auto& a = add("alice", "127.0.0.1");
  type("alice", "/users");
  EXPECT_EQ(a.lines.size(), 1u);
  server("alice", "HELLO peerchat/2");
  server("alice", "REGISTERED alice OK");
  EXPECT_EQ(a.lines.back(), "LISTUSERS\n");
}

TEST_F(PeerchatAgent, UserListHidesOwnNameAndTakesEveryLineInsideAsAName) {
  auto& a = join("alice", "127.0.0.1");
  type("alice", "/users");
  for (auto line : {"STARTUSERS", "bob", "alice", "OK", "ENDUSERS"}) server("alice", line);
  auto users = a.of("users");
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].list, (std::vector<std::string>{"bob", "OK"}));
}

TEST_F(PeerchatAgent, IgnoresUnexpectedLinesAndMatchesOnlyTheFirstWord) {
  auto& a = join("alice", "127.0.0.1");
  auto before = a.lines.size();
  server("alice", "XPORT 40000");
  server("alice", "ERROR Operation_unknown");
  server("alice", "something else entirely");
  EXPECT_EQ(a.lines.size(), before);
  EXPECT_FALSE(a.closed);
  EXPECT_TRUE(a.bound.empty());
}

TEST_F(PeerchatAgent, AnswersPortWithOkAndTheNumberToAPeerchat2Server) {
  auto& a = join("alice", "127.0.0.1");
  server("alice", "PORT 40000");
  EXPECT_EQ(a.lines.back(), "OK 40000\n");
  EXPECT_TRUE(a.bound.contains(40000));
  EXPECT_TRUE(a.has("port", "accepted", "true"));
}

TEST_F(PeerchatAgent, AnswersPortWithTwoBareOksToAPeerchat1Server) {
  auto& a = join("alice", "127.0.0.1", {}, false);
  auto before = a.lines.size();
  server("alice", "PORT 40000");
  ASSERT_EQ(a.lines.size(), before + 2);
  EXPECT_EQ(a.lines[before], "OK\n");
  EXPECT_EQ(a.lines[before + 1], "OK\n");
}

TEST_F(PeerchatAgent, SingleOkFaultAnswersOnce) {
  auto& a = join("alice", "127.0.0.1", {.fault = client_fault::single_ok}, false);
  auto before = a.lines.size();
  server("alice", "PORT 40000");
  ASSERT_EQ(a.lines.size(), before + 1);
  EXPECT_EQ(a.lines.back(), "OK\n");
}

TEST_F(PeerchatAgent, RefusesAPortItCannotBind) {
  auto& a = join("alice", "127.0.0.1");
  refused_.insert(40001);
  server("alice", "PORT 40001");
  EXPECT_EQ(a.lines.back(), "ERROR Port_unavailable\n");
  EXPECT_TRUE(a.has("port", "accepted", "false"));
}

TEST_F(PeerchatAgent, HeldPortIsReleasedAfter15SecondsOrAnError) {
  auto& a = join("alice", "127.0.0.1");
  server("alice", "PORT 40000");
  server("alice", "PORT 40001");
  EXPECT_EQ(a.bound.size(), 2u);
  server("alice", "ERROR Chat_aborted");
  EXPECT_TRUE(a.bound.empty());
  server("alice", "PORT 40002");
  advance(14900ms);
  EXPECT_TRUE(a.bound.contains(40002));
  advance(200ms);
  EXPECT_TRUE(a.bound.empty());
}

TEST_F(PeerchatAgent, StartchatKeepsOnlyItsPort) {
  auto& a = join("alice", "127.0.0.1");
  join("bob", "127.0.0.2", {.v1 = true}, false);
  server("alice", "PORT 40000");
  server("alice", "PORT 40001");
  server("alice", "STARTCHAT 127.0.0.2 40001 bob");
  EXPECT_EQ(a.bound, std::set<unsigned>{40001});
  EXPECT_TRUE(a.has("chat_started", "secure", "false"));
}

TEST_F(PeerchatAgent, RefusesPortDuringAChat) {
  join("alice", "127.0.0.1");
  auto& b = join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(1s);
  server("bob", "PORT 41000");
  EXPECT_EQ(b.lines.back(), "ERROR Port_unavailable\n");
}

// --- peerchat/1 ---------------------------------------------------------------------------------------

TEST_F(PeerchatAgent, V1ChatConnectsAndCarriesMessagesInOrder) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true}, false);
  type("alice", "/chat bob");
  EXPECT_EQ(a.lines.back(), "CHAT bob\n");
  server("alice", "OK");
  start("alice", "bob", false);
  EXPECT_TRUE(a.has("connected", "secure", "false"));
  EXPECT_TRUE(b.has("connected", "secure", "false"));
  ASSERT_FALSE(a.sent.empty());
  EXPECT_EQ(a.sent.front().to_address, "127.0.0.2");
  EXPECT_EQ(a.sent.front().to_port, 40000u);
  auto first = parse_plain(a.sent.front().data);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->user, "alice");
  EXPECT_EQ(first->type, datagram_type::connect);
  for (auto text : {"one", "two", "three"}) type("alice", text);
  type("bob", "General Kenobi");
  auto got = b.of("message");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].field("text"), "one");
  EXPECT_EQ(got[2].field("text"), "three");
  EXPECT_EQ(got[0].field("from"), "alice");
  EXPECT_EQ(a.of("message").at(0).field("text"), "General Kenobi");
  EXPECT_EQ(b.sent.back().data, "bob\nMsg\nGeneral Kenobi\n\n");  // PC-UDP-02
}

TEST_F(PeerchatAgent, TextTypedBeforeTheChatIsSentOnceConnected) {
  join("alice", "127.0.0.1", {.v1 = true}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true}, false);
  type("alice", "/chat bob");
  type("alice", "early words");
  start("alice", "bob", false);
  advance(100ms);
  ASSERT_EQ(b.of("message").size(), 1u);
  EXPECT_EQ(b.of("message")[0].field("text"), "early words");
}

TEST_F(PeerchatAgent, LongInputIsSplitIntoMsgsOfAtMost1000Bytes) {
  join("alice", "127.0.0.1", {.v1 = true}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  type("alice", std::string(2500, 'x'));
  auto got = b.of("message");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].field("text").size(), 1000u);
  EXPECT_EQ(got[2].field("text").size(), 500u);
}

TEST_F(PeerchatAgent, V1ConnectIsPacedAndGivesUpAfter30Seconds) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  server("alice", "PORT 40000");
  server("alice", "STARTCHAT 127.0.0.2 40000 bob");  // bob never listens
  advance(29s);
  auto connects = count_type(a, datagram_type::connect);
  EXPECT_GE(connects, 110u);
  EXPECT_LE(connects, 120u);  // PC-UDP-05: one per 250 ms
  EXPECT_FALSE(a.has("chat_ended"));
  advance(2s);
  EXPECT_TRUE(a.has("chat_ended", "reason", "unreachable"));
  EXPECT_TRUE(a.bound.empty());
  auto after = a.sent.size();
  advance(5s);
  EXPECT_EQ(a.sent.size(), after);
}

TEST_F(PeerchatAgent, TightConnectFaultSendsBursts) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true, .fault = client_fault::tight_connect}, false);
  server("alice", "PORT 40000");
  server("alice", "STARTCHAT 127.0.0.2 40000 bob");
  advance(250ms);
  EXPECT_GT(count_type(a, datagram_type::connect), 20u);
}

TEST_F(PeerchatAgent, TightConnectFaultStillAnswersAConnectOnce) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true, .fault = client_fault::tight_connect}, false);
  server("alice", "PORT 40000");
  server("alice", "STARTCHAT 127.0.0.2 40000 bob");
  inject(a, "127.0.0.2", "bob\nConnect\n4711\n\n");
  EXPECT_TRUE(a.has("connected"));
  auto answers = std::count_if(a.sent.begin(), a.sent.end(), [](const in_flight& d) {
    auto p = parse_plain(d.data);
    return p && p->type == datagram_type::connect && p->text == "4711";
  });
  EXPECT_EQ(answers, 1);  // the fault breaks PC-UDP-05 only, not PC-UDP-06
}

TEST_F(PeerchatAgent, ConnectsDespiteLossOfTheFirstConnects) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true}, false);
  int lost = 0;
  lose_ = [&](const in_flight& d) { return d.from_address == "127.0.0.1" && lost++ < 8; };
  server("alice", "PORT 40000");
  server("bob", "PORT 40000");
  server("alice", "STARTCHAT 127.0.0.2 40000 bob");
  advance(1s);  // bob is not listening yet: alice's Connects are lost
  server("bob", "STARTCHAT 127.0.0.1 40000 alice");
  advance(3s);
  EXPECT_TRUE(a.has("connected"));
  EXPECT_TRUE(b.has("connected"));
  type("bob", "hi");
  EXPECT_EQ(a.of("message").size(), 1u);
}

TEST_F(PeerchatAgent, V1DropsWrongUserWrongAddressAndMalformedWithoutReply) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  advance(1s);
  auto sent_before = a.sent.size();
  inject(a, "127.0.0.2", "mallory\nMsg\nhi\n\n");
  inject(a, "127.0.0.9", "bob\nMsg\nhi\n\n");
  inject(a, "127.0.0.2", "bob\nShout\nhi\n\n");
  inject(a, "127.0.0.2", std::string("bob\nMsg\nh\0i\n\n", 12));
  EXPECT_EQ(a.of("dropped").size(), 4u);
  EXPECT_TRUE(a.of("message").empty());
  EXPECT_EQ(a.sent.size(), sent_before);  // PC-UDP-08: no reply
  inject(a, "127.0.0.2", "bob MSG hello from the seed");  // the seed's layout is accepted
  EXPECT_EQ(a.of("message").at(0).field("text"), "hello from the seed");
}

// PC-UDP-06: an answer echoes the Connect's text, and an echo of our own text is not answered, so two
// connected peers far apart cannot keep answering each other's answers.
TEST_F(PeerchatAgent, ConnectAnswersEchoAndAreNotAnswered) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  advance(1s);
  ASSERT_TRUE(a.has("connected"));
  auto sent_before = a.sent.size();
  inject(a, "127.0.0.2", "bob\nConnect\n271828\n\n");
  ASSERT_EQ(a.sent.size(), sent_before + 1);
  auto answer = parse_plain(a.sent.back().data);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->type, datagram_type::connect);
  EXPECT_EQ(answer->text, "271828");

  advance(300ms);
  sent_before = a.sent.size();
  inject(a, "127.0.0.2", "bob\nConnect\n271828\n\n");  // the echo of alice's own answer: an answer, not answered
  EXPECT_EQ(a.sent.size(), sent_before);
  inject(a, "127.0.0.2", "bob\nConnect\n314159\n\n");  // a new Connect is answered
  EXPECT_EQ(a.sent.size(), sent_before + 1);
}

TEST_F(PeerchatAgent, AnyUserFaultAcceptsAStranger) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true, .fault = client_fault::any_user}, false);
  join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  inject(a, "127.0.0.2", "mallory\nMsg\nhi\n\n");
  EXPECT_EQ(a.of("message").size(), 1u);
}

TEST_F(PeerchatAgent, AnswerMalformedFaultReplies) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true, .fault = client_fault::answer_malformed}, false);
  join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  auto before = a.sent.size();
  inject(a, "127.0.0.2", "garbage");
  EXPECT_GT(a.sent.size(), before);
}

TEST_F(PeerchatAgent, KeepAliveKeepsAnIdleChatAndSilenceTimesOut) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  advance(60s, 50ms);
  EXPECT_GE(count_type(a, datagram_type::keepalive), 10u);  // PC-KEEP-01: one per 5 s of silence
  EXPECT_LE(count_type(a, datagram_type::keepalive), 13u);
  EXPECT_FALSE(a.has("chat_ended"));
  EXPECT_FALSE(b.has("chat_ended"));
  // The path dies just after bob's next keep-alive reached alice, so her 20 s count from now: cut at
  // any other moment, her last datagram could be up to 5 s old and she would rightly end sooner.
  auto bob_keepalives = count_type(b, datagram_type::keepalive);
  while (count_type(b, datagram_type::keepalive) == bob_keepalives) advance(50ms, 50ms);
  lose_ = [](const in_flight&) { return true; };
  advance(19s, 50ms);
  EXPECT_FALSE(a.has("chat_ended"));
  advance(2s, 50ms);
  EXPECT_TRUE(a.has("chat_ended", "reason", "timeout"));  // PC-KEEP-02
  EXPECT_TRUE(b.has("chat_ended", "reason", "timeout"));
}

TEST_F(PeerchatAgent, NoKeepaliveFaultLetsThePeerTimeOut) {
  join("alice", "127.0.0.1", {.v1 = true, .fault = client_fault::no_keepalive}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true, .keepalive = 60s}, false);
  start("alice", "bob", false);
  advance(21s, 50ms);
  EXPECT_TRUE(b.has("chat_ended", "reason", "timeout"));
}

TEST_F(PeerchatAgent, CloseSendsThreeClosesAndThePeerStops) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  type("alice", "/close");
  EXPECT_TRUE(a.has("chat_ended", "reason", "closed"));
  EXPECT_TRUE(b.has("chat_ended", "reason", "peer_closed"));
  EXPECT_TRUE(b.bound.empty());  // bob drops everything that follows
  advance(500ms);
  EXPECT_EQ(count_type(a, datagram_type::close), 3u);
  EXPECT_TRUE(a.bound.empty());
  type("alice", "anyone?");
  EXPECT_TRUE(a.has("error", "code", "usage"));
}

TEST_F(PeerchatAgent, CloseBurstIsSpaced100Ms) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  type("alice", "/close");
  EXPECT_EQ(count_type(a, datagram_type::close), 1u);
  advance(90ms);
  EXPECT_EQ(count_type(a, datagram_type::close), 1u);
  advance(20ms);
  EXPECT_EQ(count_type(a, datagram_type::close), 2u);
  advance(100ms);
  EXPECT_EQ(count_type(a, datagram_type::close), 3u);
}

TEST_F(PeerchatAgent, IgnoreCloseFaultGoesOn) {
  join("alice", "127.0.0.1", {.v1 = true}, false);
  auto& b = join("bob", "127.0.0.2", {.v1 = true, .fault = client_fault::ignore_close}, false);
  start("alice", "bob", false);
  type("alice", "/close");
  EXPECT_FALSE(b.has("chat_ended"));
}

TEST_F(PeerchatAgent, QuitClosesTheChatBeforeTheServerConnection) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true}, false);
  join("bob", "127.0.0.2", {.v1 = true}, false);
  start("alice", "bob", false);
  type("alice", "/quit");
  EXPECT_NE(a.lines.back(), "CLOSE\n");
  advance(300ms);
  EXPECT_EQ(count_type(a, datagram_type::close), 3u);
  EXPECT_EQ(a.lines.back(), "CLOSE\n");
  server("alice", "CLOSE");
  EXPECT_TRUE(a.has("goodbye"));
  EXPECT_TRUE(a.closed);
}

// --- peerchat/2 ---------------------------------------------------------------------------------------

TEST_F(PeerchatAgent, V2HandshakeStoresNewContactsAndCarriesSealedMessages) {
  auto& a = join("alice", "127.0.0.1");
  auto& b = join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(100ms);
  EXPECT_TRUE(a.has("chat_started", "secure", "true"));
  EXPECT_TRUE(a.has("connected", "secure", "true"));
  EXPECT_TRUE(b.has("connected", "secure", "true"));
  EXPECT_TRUE(a.has("new_contact", "fingerprint", fingerprint(keys_["bob"]->public_key_bytes())));
  EXPECT_TRUE(a.a->contacts().find("bob").has_value());
  EXPECT_GE(a.saves, 1);
  type("alice", "hello there");
  type("bob", "General Kenobi");
  ASSERT_EQ(b.of("message").size(), 1u);
  EXPECT_EQ(b.of("message")[0].field("text"), "hello there");
  EXPECT_EQ(a.of("message").at(0).field("text"), "General Kenobi");
  for (const auto& d : a.sent) EXPECT_EQ(static_cast<unsigned char>(d.data.at(0)), v2_marker);  // PC-HS-01
  for (const auto& d : a.sent) EXPECT_EQ(d.data.find("hello there"), std::string::npos);
  advance(2s);  // the handshake resends stop once both sides confirmed
  auto quiet = a.sent.size();
  advance(2s);
  EXPECT_EQ(a.sent.size(), quiet);
}

TEST_F(PeerchatAgent, V2ReplayedRecordIsDroppedAndReported) {
  auto& a = join("alice", "127.0.0.1");
  auto& b = join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(100ms);
  type("bob", "once");
  auto record = b.sent.back();
  deliver(record);
  EXPECT_EQ(a.of("message").size(), 1u);
  EXPECT_FALSE(a.of("dropped").empty());  // PC-REPLAY-02
  EXPECT_FALSE(a.has("chat_ended"));
}

TEST_F(PeerchatAgent, NoReplayWindowFaultShowsTheReplay) {
  auto& a = join("alice", "127.0.0.1", {.fault = client_fault::no_replay_window});
  auto& b = join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(100ms);
  type("bob", "once");
  deliver(b.sent.back());
  EXPECT_EQ(a.of("message").size(), 2u);
}

TEST_F(PeerchatAgent, V2TamperedAndForeignDatagramsAreDropped) {
  auto& a = join("alice", "127.0.0.1");
  join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(100ms);
  auto sent_before = a.sent.size();
  inject(a, "127.0.0.2", "bob\nMsg\nplain text\n\n");  // PC-TRUST-03
  inject(a, "127.0.0.2", std::string("\xB2\x02") + std::string(40, 'x'));
  EXPECT_EQ(a.of("dropped").size(), 2u);
  EXPECT_TRUE(a.of("message").empty());
  EXPECT_EQ(a.sent.size(), sent_before);
}

TEST_F(PeerchatAgent, KnownContactIsNeverSpokenToInPlainText) {
  auto& a = join("alice", "127.0.0.1");
  auto& b = join("bob", "127.0.0.2");
  start("alice", "bob", true);  // first chat: both learn each other
  advance(100ms);
  type("alice", "/close");
  advance(500ms);
  start("alice", "bob", false, 40002);  // a server that strips the keys
  advance(100ms);
  EXPECT_EQ(a.of("chat_started").back().field("secure"), "true");
  EXPECT_EQ(b.of("chat_started").back().field("secure"), "true");
  EXPECT_EQ(a.of("connected").size(), 2u);
}

TEST_F(PeerchatAgent, ChangedKeyEndsTheChatAndIsReported) {
  auto& a = join("alice", "127.0.0.1");
  join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(100ms);
  auto old_fp = fingerprint(keys_["bob"]->public_key_bytes());
  type("alice", "/close");
  advance(500ms);
  // bob comes back with a new key (or someone pretends to be bob).
  nodes_.erase("bob");
  join("bob", "127.0.0.2");
  start("alice", "bob", true, 40003);
  advance(500ms);
  auto changed = a.of("key_changed");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].field("old"), old_fp);
  EXPECT_EQ(changed[0].field("new"), fingerprint(keys_["bob"]->public_key_bytes()));
  EXPECT_EQ(a.of("chat_ended").back().field("reason"), "key_changed");
  EXPECT_EQ(a.of("connected").size(), 1u);
  EXPECT_EQ(fingerprint(*a.a->contacts().find("bob")), old_fp);  // nothing stored

  type("alice", "/trust bob");  // the user's explicit action
  EXPECT_FALSE(a.a->contacts().find("bob").has_value());
  // bob accepted alice and cannot know she refused him (she had no session key to seal a CLOSE with),
  // so his chat lasts until its peer timeout; until then he refuses new ports (one chat at a time).
  advance(21s, 50ms);
  EXPECT_TRUE(nodes_["bob"].has("chat_ended", "reason", "timeout"));
  start("alice", "bob", true, 40004);
  advance(500ms);
  EXPECT_EQ(a.of("connected").size(), 2u);
}

TEST_F(PeerchatAgent, AcceptNewKeyReplacesTheContact) {
  contact_list known;
  auto stranger = new_identity();
  known.set("bob", stranger->public_key_bytes());
  auto& a = join("alice", "127.0.0.1", {.contacts = known, .accept_new_key = true});
  join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(100ms);
  EXPECT_EQ(a.of("key_changed").size(), 1u);
  EXPECT_TRUE(a.has("connected"));
  EXPECT_EQ(*a.a->contacts().find("bob"), keys_["bob"]->public_key_bytes());
}

TEST_F(PeerchatAgent, TrustAnyKeyFaultSaysNothing) {
  contact_list known;
  known.set("bob", new_identity()->public_key_bytes());
  auto& a = join("alice", "127.0.0.1", {.contacts = known, .fault = client_fault::trust_any_key});
  join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(100ms);
  EXPECT_TRUE(a.of("key_changed").empty());
  EXPECT_TRUE(a.has("connected"));
}

TEST_F(PeerchatAgent, KeyOtherThanTheServersIsDropped) {
  auto& a = join("alice", "127.0.0.1");
  join("bob", "127.0.0.2");
  server("alice", "PORT 40000");
  server("bob", "PORT 40000");
  server("alice", "STARTCHAT 127.0.0.2 40000 bob " + format_public_key(new_identity()->public_key_bytes()));
  server("bob", "STARTCHAT 127.0.0.1 40000 alice" + key_field("alice"));
  advance(1s);
  EXPECT_FALSE(a.has("connected"));
  EXPECT_FALSE(a.of("dropped").empty());
  advance(30s, 50ms);
  EXPECT_TRUE(a.has("chat_ended", "reason", "handshake_failed"));  // PC-HS-07
}

TEST_F(PeerchatAgent, IgnoreAnnouncedKeyFaultAcceptsAnotherKey) {
  auto& a = join("alice", "127.0.0.1", {.fault = client_fault::ignore_announced_key});
  join("bob", "127.0.0.2");
  server("alice", "PORT 40000");
  server("bob", "PORT 40000");
  server("alice", "STARTCHAT 127.0.0.2 40000 bob " + format_public_key(new_identity()->public_key_bytes()));
  server("bob", "STARTCHAT 127.0.0.1 40000 alice" + key_field("alice"));
  advance(1s);
  EXPECT_TRUE(a.has("connected", "secure", "true"));
}

// Spec §12 R20: a --v1 client registered no key, so its peer got none and speaks peerchat/1; the v1
// client ignores the key its own STARTCHAT carries and speaks peerchat/1 too.
TEST_F(PeerchatAgent, V1ClientAndV2ClientChatInPlainText) {
  auto& a = join("alice", "127.0.0.1", {.v1 = true, .me = new_identity()}, false);
  auto& b = join("bob", "127.0.0.2");
  EXPECT_EQ(a.lines.at(1), "REGISTER alice\n");
  server("alice", "PORT 40000");
  server("bob", "PORT 40000");
  server("alice", "STARTCHAT 127.0.0.2 40000 bob" + key_field("bob"));  // bob registered his key
  server("bob", "STARTCHAT 127.0.0.1 40000 alice");                     // alice did not
  advance(100ms);
  EXPECT_EQ(a.of("chat_started").back().field("secure"), "false");
  EXPECT_EQ(b.of("chat_started").back().field("secure"), "false");
  type("alice", "from v1");
  type("bob", "from v2");
  ASSERT_EQ(b.of("message").size(), 1u);
  EXPECT_EQ(b.of("message")[0].field("text"), "from v1");
  ASSERT_EQ(a.of("message").size(), 1u);
  EXPECT_EQ(a.of("message")[0].field("text"), "from v2");
}

TEST_F(PeerchatAgent, V2SurvivesLossOfTheFirstHandshakeDatagrams) {
  auto& a = join("alice", "127.0.0.1");
  auto& b = join("bob", "127.0.0.2");
  int lost = 0;
  lose_ = [&](const in_flight&) { return lost++ < 6; };
  start("alice", "bob", true);
  advance(3s);
  EXPECT_TRUE(a.has("connected"));
  EXPECT_TRUE(b.has("connected"));
  type("alice", "made it");
  EXPECT_EQ(b.of("message").size(), 1u);
}

TEST_F(PeerchatAgent, V2KeepaliveTimeoutAndClose) {
  auto& a = join("alice", "127.0.0.1");
  auto& b = join("bob", "127.0.0.2");
  start("alice", "bob", true);
  advance(30s, 50ms);
  EXPECT_FALSE(a.has("chat_ended"));  // PC-KEEP-03: sealed keep-alives hold the chat
  type("bob", "/close");
  EXPECT_TRUE(a.has("chat_ended", "reason", "peer_closed"));
  EXPECT_TRUE(b.has("chat_ended", "reason", "closed"));
}

TEST_F(PeerchatAgent, ServerCloseAndLostConnectionAreReported) {
  auto& a = join("alice", "127.0.0.1");
  server("alice", "CLOSE");
  EXPECT_TRUE(a.has("disconnected"));
  EXPECT_TRUE(a.closed);
  auto& b = join("bob", "127.0.0.2");
  agent_output out;
  b.a->on_closed(out);
  apply(b, out);
  EXPECT_TRUE(b.has("disconnected"));
  EXPECT_TRUE(b.a->finished());
}

TEST_F(PeerchatAgent, WhoisShowsTheStoredFingerprint) {
  auto& a = join("alice", "127.0.0.1");
  join("bob", "127.0.0.2");
  type("alice", "/whois bob");
  EXPECT_EQ(a.of("whois").at(0).field("fingerprint"), "");
  start("alice", "bob", true);
  advance(100ms);
  type("alice", "/whois bob");
  EXPECT_EQ(a.of("whois").at(1).field("fingerprint"), fingerprint(keys_["bob"]->public_key_bytes()));
}

}  // namespace
}  // namespace parley::peerchat
