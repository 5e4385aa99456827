// The client agent against the reference hub, in process: every byte goes through both state machines.
#include "impl/client/multiparty/agent.hpp"

#include <gtest/gtest.h>

#include "impl/core/crypto/test_keys.hpp"
#include "impl/server/multiparty/hub.hpp"

namespace parley::multiparty {
namespace {

constexpr std::uint64_t clock_ms = 1'800'000'000'000;

using core::testing::key_of;
using core::testing::public_of;

struct peer {
  std::unique_ptr<agent> a;
  core::conn_id conn;
  std::vector<event> events;
  std::vector<std::string> sent;  // frames the agent sent, for tampering tests
  bool closed = false;
};

class MultipartyAgent : public ::testing::Test {
protected:
  MultipartyAgent()
      : hub_({.server_key = key_of("server"),
              .users = {entry("alice"), entry("bob"), entry("carol")},
              .status_interval = millis(1000),
              .unix_ms = [] { return clock_ms; }}) {}

  static directory_entry entry(const std::string& name) {
    return {name, uid_of(key_of(name)), public_of(key_of(name))};
  }

  peer& connect(const std::string& name) {
    auto& p = peers_[name];
    p.a = std::make_unique<agent>(agent_options{.name = name, .key = key_of(name),
                                                .server_public = public_of(key_of("server")),
                                                .unix_ms = [] { return clock_ms; }});
    p.conn = next_conn_++;
    core::actions a;
    hub_.on_connect(p.conn, "t", now_, a);
    agent_output out;
    p.a->on_open(out);
    apply(p, out);
    deliver(a);
    return p;
  }

  void type(const std::string& name, const std::string& line) {
    agent_output out;
    peers_[name].a->on_command(line, out);
    apply(peers_[name], out);
  }

  // The agent's frames go to the hub, the hub's answers back to the agents, until nothing moves. What the
  // hub emits is queued and delivered in order, as TCP would: never overtaken by a later reaction.
  void apply(peer& p, agent_output& out) {
    for (auto& e : out.events) p.events.push_back(e);
    core::actions a;
    for (auto& frame : out.sends) {
      p.sent.push_back(frame);
      hub_.on_data(p.conn, frame, now_, a);
    }
    if (out.close && !p.closed) {
      p.closed = true;
      hub_.on_close(p.conn, now_, a);
    }
    deliver(a);
  }

  void deliver(core::actions& a) {
    for (auto& action : a.take()) pending_.push_back(std::move(action));
    if (delivering_) return;
    delivering_ = true;
    while (!pending_.empty()) {
      auto action = std::move(pending_.front());
      pending_.pop_front();
      peer* p = by_conn(core::conn_of(action));
      if (!p || p->closed) continue;
      agent_output out;
      if (auto* s = std::get_if<core::send_action>(&action)) p->a->on_data(s->bytes, out);
      else {
        p->closed = true;
        p->a->on_closed(out);
      }
      apply(*p, out);
    }
    delivering_ = false;
  }

  peer* by_conn(core::conn_id conn) {
    for (auto& [name, p] : peers_)
      if (p.conn == conn) return &p;
    return nullptr;
  }

  // The last event of `type` that `name` was shown.
  event last(const std::string& name, const std::string& type) {
    auto& events = peers_[name].events;
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->type == type) return *it;
    ADD_FAILURE() << name << " was never shown a " << type << " event";
    return {};
  }
  std::size_t count(const std::string& name, const std::string& type) {
    auto& events = peers_[name].events;
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](auto& e) { return e.type == type; }));
  }

  hub hub_;
  time_point now_{};
  core::conn_id next_conn_ = 1;
  std::map<std::string, peer> peers_;
  std::deque<core::action> pending_;
  bool delivering_ = false;
};

TEST_F(MultipartyAgent, ThreeUsersChatDeclineAndClose) {
  connect("alice"), connect("bob"), connect("carol");
  EXPECT_TRUE(peers_["alice"].a->logged_in());
  EXPECT_EQ(last("bob", "logged_in").list, (std::vector<std::string>{"alice", "bob", "carol"}));

  type("alice", "/init bob carol");
  std::string sid = last("alice", "session").field("sid");
  ASSERT_EQ(sid.size(), 16u);
  EXPECT_EQ(last("alice", "session").list, (std::vector<std::string>{"bob invited", "carol invited"}));
  EXPECT_EQ(last("bob", "invite").field("from"), "alice");
  type("bob", "/accept " + sid);
  type("carol", "/decline " + sid);
  EXPECT_EQ(last("alice", "answer").field("answer"), "Deny");

  type("alice", "/msg " + sid + " hello bob");
  EXPECT_EQ(last("bob", "message").field("text"), "hello bob");
  EXPECT_EQ(last("bob", "message").field("from"), "alice");
  EXPECT_EQ(last("alice", "sent").field("delivered"), "1");
  EXPECT_EQ(last("alice", "receipt").field("text"), "OK");
  EXPECT_EQ(count("carol", "message"), 0u);

  // bob addresses everyone invited, carol included; the server refuses, bob resends without her.
  type("bob", "/msg " + sid + " hi alice");
  EXPECT_EQ(last("alice", "message").field("text"), "hi alice");
  EXPECT_EQ(last("bob", "sent").field("delivered"), "1");
  EXPECT_EQ(count("bob", "error"), 0u);

  type("alice", "/close " + sid);
  EXPECT_EQ(last("bob", "closed").field("by"), "alice");
  type("bob", "/msg " + sid + " too late");
  EXPECT_NE(last("bob", "error").field("text").find("closed"), std::string::npos);
}

TEST_F(MultipartyAgent, CommandsTypedBeforeTheLoginWaitForIt) {
  auto& p = peers_["alice"];
  p.a = std::make_unique<agent>(agent_options{.name = "alice", .key = key_of("alice"),
                                              .server_public = public_of(key_of("server")),
                                              .unix_ms = [] { return clock_ms; }});
  agent_output out;
  p.a->on_open(out);
  p.a->on_command("/status", out);
  EXPECT_EQ(out.sends.size(), 1u);  // the login_req only (MP-CLIENT-01)
}

TEST_F(MultipartyAgent, AnImpostorServerIsRefused) {
  // A server that does not hold the pinned key cannot read tk, so it cannot answer the login.
  agent a({.name = "alice", .key = key_of("alice"), .server_public = public_of(key_of("mallory")),
           .unix_ms = [] { return clock_ms; }});
  peers_["alice"].conn = 1;
  agent_output out;
  a.on_open(out);
  core::actions actions;
  hub_.on_connect(1, "t", now_, actions);
  hub_.on_data(1, out.sends[0], now_, actions);
  for (auto& action : actions.take()) EXPECT_TRUE(std::holds_alternative<core::close_action>(action));
  EXPECT_FALSE(a.logged_in());
}

TEST_F(MultipartyAgent, ATamperedServerFrameClosesTheConnection) {
  connect("alice"), connect("bob");
  type("alice", "/init bob");
  std::string sid = last("bob", "invite").field("sid");
  // A frame the hub sealed for bob, one payload bit flipped on the way.
  agent_output out;
  core::actions a;
  type("bob", "/accept " + sid);
  hub_.on_timer(now_ + millis(1000), a);  // a status_req for everyone silent since the start
  for (auto& action : a.take()) {
    auto* s = std::get_if<core::send_action>(&action);
    if (!s || s->conn != peers_["bob"].conn) continue;
    std::string frame = s->bytes;
    frame[30] ^= 1;
    peers_["bob"].a->on_data(frame, out);
  }
  EXPECT_TRUE(out.close);
  EXPECT_TRUE(out.sends.empty());
}

TEST_F(MultipartyAgent, AnswersTheServersStatusRequest) {
  connect("alice");
  now_ += millis(1000);
  core::actions a;
  hub_.on_timer(now_, a);
  deliver(a);  // status_req to alice; her agent answers status_res
  now_ += millis(3000);  // without her answer, the hub would close her now
  hub_.on_timer(now_, a);
  deliver(a);
  EXPECT_FALSE(peers_["alice"].closed);
  EXPECT_EQ(count("alice", "status"), 0u);  // an answer to the server is not shown as a status
}

TEST_F(MultipartyAgent, RefusesLongTextsAndAnswersOnlyRealInvitations) {
  connect("alice"), connect("bob");
  type("alice", "/init bob");
  std::string sid = last("alice", "session").field("sid");
  type("bob", "/accept " + sid);
  type("alice", "/msg " + sid + " " + std::string(2049, 'x'));
  EXPECT_NE(last("alice", "error").field("text").find("2048"), std::string::npos);
  EXPECT_EQ(count("bob", "message"), 0u);
  std::size_t frames = peers_["bob"].sent.size();
  type("bob", "/accept " + sid);  // already answered: nothing is sent (MP-CLIENT-07)
  type("bob", "/decline 0123456789abcdef");
  EXPECT_EQ(peers_["bob"].sent.size(), frames);
}

}  // namespace
}  // namespace parley::multiparty
