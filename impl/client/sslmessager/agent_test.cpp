// The client agent against the reference hub, in process: every byte goes through both state machines.
#include "impl/client/sslmessager/agent.hpp"

#include <gtest/gtest.h>

#include "impl/server/sslmessager/hub.hpp"

namespace parley::sslmessager {
namespace {

const std::map<std::string, user_entry>& users() {
  static const auto made = [] {
    std::map<std::string, user_entry> u;
    for (const char* name : {"aaa", "bbb"}) u[name] = *make_entry(name, "123", {16384, 8, 1});
    return u;
  }();
  return made;
}

struct peer {
  std::unique_ptr<agent> a;
  core::conn_id conn = 0;
  std::vector<event> events;
  std::vector<std::string> sent;
  bool closed = false;
};

class SslmessagerAgent : public ::testing::Test {
protected:
  SslmessagerAgent() : hub_({.users = users(), .check_interval = millis(1000)}) {}

  peer& connect(const std::string& name, const std::string& password = "123") {
    auto& p = peers_[name];
    p.a = std::make_unique<agent>(agent_options{name, password});
    p.conn = next_++;
    core::actions a;
    hub_.on_connect(p.conn, "t", now_, a);
    agent_output out;
    p.a->on_open(out);
    apply(p, out);
    return p;
  }
  void type(const std::string& name, const std::string& line) {
    agent_output out;
    peers_[name].a->on_command(line, now_, out);
    apply(peers_[name], out);
  }
  void advance(millis by) {
    now_ += by;
    core::actions a;
    while (auto wake = hub_.next_wake()) {
      if (*wake > now_) break;
      hub_.on_timer(now_, a);
    }
    deliver(a);
    for (auto& [name, p] : peers_) {
      if (p.closed) continue;
      agent_output out;
      p.a->on_timer(now_, out);
      apply(p, out);
    }
  }
  void apply(peer& p, agent_output& out) {
    for (auto& e : out.events) p.events.push_back(e);
    core::actions a;
    for (auto& line : out.sends) {
      p.sent.push_back(line);
      hub_.on_data(p.conn, line, now_, a);
    }
    if (out.close && !p.closed) {
      p.closed = true;
      hub_.on_close(p.conn, now_, a);
    }
    deliver(a);
  }
  void deliver(core::actions& a) {
    for (auto& action : a.take()) {
      peer* p = nullptr;
      for (auto& [name, candidate] : peers_)
        if (candidate.conn == core::conn_of(action)) p = &candidate;
      if (!p || p->closed) continue;
      agent_output out;
      if (auto* s = std::get_if<core::send_action>(&action)) p->a->on_data(s->bytes, now_, out);
      else {
        p->closed = true;  // the hub asked for it: it hears nothing back
        p->a->on_closed(out);
      }
      apply(*p, out);
    }
  }
  std::vector<event> of(const std::string& name, const std::string& type) {
    std::vector<event> found;
    for (auto& e : peers_[name].events)
      if (e.type == type) found.push_back(e);
    return found;
  }

  hub hub_;
  time_point now_{};
  core::conn_id next_ = 1;
  std::map<std::string, peer> peers_;
};

TEST_F(SslmessagerAgent, LoginRelayCntCheckAndQuit) {
  connect("aaa");
  connect("bbb");
  type("aaa", "typed before the login?");  // plain text without /to: a local error once logged in
  EXPECT_EQ(of("aaa", "logged_in").size(), 1u);
  type("aaa", "@bbb hello  there");
  ASSERT_EQ(of("bbb", "message").size(), 1u);
  EXPECT_EQ(of("bbb", "message")[0].field("from"), "aaa");
  EXPECT_EQ(of("bbb", "message")[0].field("text"), "hello  there");
  type("bbb", "/to aaa");
  type("bbb", "back at you");
  EXPECT_EQ(of("aaa", "message").at(0).field("text"), "back at you");
  type("aaa", "/msg ccc anyone");
  EXPECT_EQ(of("aaa", "offline").at(0).field("name"), "ccc");
  std::size_t sent = peers_["aaa"].sent.size();
  advance(millis(1000));  // CHECK
  EXPECT_EQ(peers_["aaa"].sent.size(), sent);  // never answered (SSLM-CLIENT-05)
  type("aaa", "/quit");
  EXPECT_EQ(peers_["aaa"].sent.back(), "END \r\n");
  EXPECT_EQ(of("aaa", "goodbye").at(0).field("reason"), "end accepted");
  EXPECT_TRUE(peers_["aaa"].a->ended_cleanly());
}

TEST_F(SslmessagerAgent, ARefusedLoginIsShownAndEndsTheSession) {
  auto& p = connect("aaa", "wrong");
  EXPECT_TRUE(p.closed);
  EXPECT_EQ(of("aaa", "ended").at(0).field("reason"), "incorrect username or password");
  EXPECT_FALSE(p.a->logged_in());
}

TEST_F(SslmessagerAgent, LocalChecksBeforeSending) {
  connect("aaa");
  std::size_t sent = peers_["aaa"].sent.size();
  type("aaa", "@bbb " + std::string(4001, 'x'));
  type("aaa", "");
  type("aaa", "/msg bad:name hi");
  EXPECT_EQ(peers_["aaa"].sent.size(), sent);
  EXPECT_EQ(of("aaa", "error").size(), 2u);
}

TEST(SslmessagerAgentAlone, AcceptForAnotherNameCloses) {
  agent a({"aaa", "123"});
  agent_output out;
  a.on_open(out);
  a.on_data("ACCEPT bbb \r\n", {}, out);
  EXPECT_TRUE(out.close);
  EXPECT_FALSE(a.logged_in());
}

TEST(SslmessagerAgentAlone, UnterminatedLinesFromTheOriginalAreUnderstood) {
  agent a({"aaa", "123"});
  agent_output out;
  a.on_open(out);
  time_point t{};
  a.on_data("ACCEPT aaa 51234", t, out);  // a later original: an extra field, no terminator
  ASSERT_TRUE(a.next_wake());
  a.on_timer(t + millis(200), out);
  EXPECT_TRUE(a.logged_in());
  a.on_data("CHECK", t + millis(300), out);
  a.on_timer(t + millis(500), out);
  a.on_data("RELAY aaa bbb hi", t + millis(600), out);
  a.on_timer(t + millis(800), out);
  EXPECT_EQ(out.events.back().type, "message");
  EXPECT_EQ(out.sends.size(), 1u);  // the AUTH only
}

// Planted faults (faults.hpp): each changes only what its rule is about.
agent_output logged_in(agent& a, std::string_view accept = "ACCEPT aaa \r\n") {
  agent_output out;
  a.on_open(out);
  a.on_data(accept, {}, out);
  return out;
}

TEST(SslmessagerAgentFaults, EveryFaultDeclaresItsRulesAndIsFoundByName) {
  for (const auto& f : all_client_faults()) {
    EXPECT_FALSE(f.rules.empty()) << f.name;
    EXPECT_EQ(client_fault_from_name(f.name), f.value) << f.name;
  }
  EXPECT_FALSE(client_fault_from_name("none"));
}

TEST(SslmessagerAgentFaults, MessageFaultsChangeTheMsgOnly) {
  auto msg_of = [](client_fault f, std::string_view typed) {
    agent a({"aaa", "123", f});
    auto out = logged_in(a);
    a.on_command("/to bbb", {}, out);
    a.on_command(typed, {}, out);
    return out.sends.back();
  };
  EXPECT_EQ(msg_of(client_fault::none, "hi"), "MSG bbb aaa hi \r\n");
  EXPECT_EQ(msg_of(client_fault::none, "   "), "MSG bbb aaa     \r\n");  // a line of spaces, as typed
  EXPECT_EQ(msg_of(client_fault::keep_line_feed, "hi"), "MSG bbb aaa hi\n \r\n");
  EXPECT_EQ(msg_of(client_fault::target_as_sender, "hi"), "MSG bbb bbb hi \r\n");
  EXPECT_EQ(msg_of(client_fault::send_empty, ""), "MSG bbb aaa  \r\n");
  EXPECT_EQ(msg_of(client_fault::no_length_check, std::string(4001, 'x')).size(), 4001u + 15u);
  EXPECT_EQ(msg_of(client_fault::no_space_before_crlf, "hi"), "MSG bbb aaa hi\r\n");
}

TEST(SslmessagerAgentFaults, LoginFaults) {
  agent hello({"aaa", "123", client_fault::hello_first});
  auto out = logged_in(hello);
  EXPECT_EQ(out.sends.front(), "HELLO aaa \r\n");

  agent eager({"aaa", "123", client_fault::msg_before_accept});
  agent_output early;
  eager.on_open(early);
  eager.on_command("@bbb early", {}, early);
  EXPECT_EQ(early.sends.back(), "MSG bbb aaa early \r\n");

  agent any({"aaa", "123", client_fault::any_accept});
  EXPECT_FALSE(logged_in(any, "ACCEPT bbb \r\n").close);
  EXPECT_TRUE(any.logged_in());

  agent strict({"aaa", "123", client_fault::strict_accept});
  EXPECT_TRUE(logged_in(strict, "ACCEPT aaa 51234 \r\n").close);
  agent plain({"aaa", "123"});
  EXPECT_FALSE(logged_in(plain, "ACCEPT aaa 51234 \r\n").close);
}

TEST(SslmessagerAgentFaults, ServerLineFaults) {
  auto after = [](client_fault f, std::string_view line) {
    agent a({"aaa", "123", f});
    auto out = logged_in(a);
    std::size_t sent = out.sends.size();
    a.on_data(line, {}, out);
    return std::pair{out.close, out.sends.size() - sent};
  };
  EXPECT_EQ(after(client_fault::none, "CNT <user not online> \r\n"), std::pair(false, std::size_t{0}));
  EXPECT_EQ(after(client_fault::close_on_cnt, "CNT <user not online> \r\n"), std::pair(true, std::size_t{0}));
  EXPECT_EQ(after(client_fault::answer_check, "CHECK \r\n"), std::pair(false, std::size_t{1}));
  EXPECT_EQ(after(client_fault::none, "STOP <x> \r\n"), std::pair(false, std::size_t{0}));
  EXPECT_EQ(after(client_fault::close_on_unknown, "STOP <x> \r\n"), std::pair(true, std::size_t{0}));
  EXPECT_EQ(after(client_fault::none, "END * <incorrect protocol> \r\n"), std::pair(true, std::size_t{0}));
  EXPECT_EQ(after(client_fault::ignore_end, "END * <incorrect protocol> \r\n"), std::pair(false, std::size_t{0}));
  std::string overlong = "RELAY aaa bbb " + std::string(5000, 'z') + " \r\n";
  EXPECT_TRUE(after(client_fault::none, overlong).first);
  EXPECT_FALSE(after(client_fault::no_line_limit, overlong).first);

  agent lenient({"aaa", "123"});
  logged_in(lenient, "ACCEPT aaa\n");
  EXPECT_TRUE(lenient.logged_in());
  agent crlf_only({"aaa", "123", client_fault::crlf_only});
  logged_in(crlf_only, "ACCEPT aaa\n");
  EXPECT_FALSE(crlf_only.logged_in());
}

TEST(SslmessagerAgentFaults, CrashOnGarbageDiesOfAKnownCommandItCannotRead) {
  // SSLM-CLIENT-10: lines that are not the protocol, unknown commands and known commands with fields it
  // cannot read are passed over, and the session goes on.
  agent good({"aaa", "123"});
  auto out = logged_in(good);
  good.on_data("{ \r\nGET / HTTP/1.1\r\nFOO bar \r\nRELAY \r\nRELAY aaa \r\nACCEPT \r\nCNT \r\n", {}, out);
  EXPECT_FALSE(out.close);
  good.on_command("@bbb still here", {}, out);
  EXPECT_EQ(out.sends.back(), "MSG bbb aaa still here \r\n");
  // The fault passes over what the other cases send, later originals' commands included, and dies of the
  // first known command it cannot read.
  agent bad({"aaa", "123", client_fault::crash_on_garbage});
  out = logged_in(bad, "ACCEPT aaa 51234 \r\n");
  bad.on_data("{ \r\nSTOP <x> \r\nCMD <list> \r\nRELAYG friends bbb hi \r\nCHECK \r\nCNT <user not online> \r\n", {}, out);
  bad.on_data("RELAY aaa bbb hi \r\n", {}, out);
  EXPECT_FALSE(out.close);
  EXPECT_DEATH(bad.on_data("RELAY aaa \r\n", {}, out), "");
}

TEST(SslmessagerAgentFaults, QuitFaults) {
  agent rude({"aaa", "123", client_fault::quit_without_end});
  auto out = logged_in(rude);
  std::size_t sent = out.sends.size();
  rude.on_command("/quit", {}, out);
  EXPECT_TRUE(out.close);
  EXPECT_EQ(out.sends.size(), sent);

  agent patient({"aaa", "123", client_fault::no_quit_timeout});
  out = logged_in(patient);
  patient.on_command("/quit", {}, out);
  EXPECT_EQ(out.sends.back(), "END \r\n");
  patient.on_timer(time_point{} + millis(5000), out);
  EXPECT_FALSE(out.close);
  // It still takes the server's answer to its own END.
  agent deaf({"aaa", "123", client_fault::ignore_end});
  out = logged_in(deaf);
  deaf.on_command("/quit", {}, out);
  deaf.on_data("END <end accepted> \r\n", {}, out);
  EXPECT_TRUE(out.close);
}

}  // namespace
}  // namespace parley::sslmessager
