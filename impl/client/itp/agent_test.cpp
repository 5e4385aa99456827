#include "impl/client/itp/agent.hpp"

#include <gtest/gtest.h>

#include "impl/core/crypto/digest.hpp"
#include "impl/server/itp/hub.hpp"

namespace parley::itp {
namespace {

// Agents wired to the real hub in memory: every byte either side sends is delivered to the other.
class network {
public:
  agent& join(const std::string& name) {
    core::conn_id id = agents_.size() + 1;
    names_[id] = name;
    ids_[name] = id;
    agents_.emplace(id, agent({.name = name, .key = *core::pkey::generate_rsa(2048)}));
    core::actions out;
    hub_.on_connect(id, "test", {}, out);
    deliver(out);
    return agents_.at(id);
  }
  void type(const std::string& name, std::string_view command) {
    agent_output out;
    agents_.at(ids_.at(name)).on_command(command, out);
    to_hub(ids_.at(name), out);
  }
  const std::vector<event>& events(const std::string& name) { return events_[name]; }
  const std::string& server_saw() const { return server_saw_; }

private:
  void to_hub(core::conn_id id, agent_output& out) {
    for (auto& e : out.events) events_[names_[id]].push_back(e);
    for (auto& line : out.sends) {
      server_saw_ += line;
      core::actions actions;
      hub_.on_data(id, line, {}, actions);
      deliver(actions);
    }
  }
  void deliver(core::actions& actions) {
    for (auto& a : actions.take()) {
      auto* send = std::get_if<core::send_action>(&a);
      if (!send) continue;
      agent_output out;
      agents_.at(send->conn).on_data(send->bytes, out);
      to_hub(send->conn, out);
    }
  }

  hub hub_;
  std::map<core::conn_id, agent> agents_;
  std::map<core::conn_id, std::string> names_;
  std::map<std::string, core::conn_id> ids_;
  std::map<std::string, std::vector<event>> events_;
  std::string server_saw_;
};

const event* find(const std::vector<event>& events, std::string_view type) {
  for (const auto& e : events)
    if (e.type == type) return &e;
  return nullptr;
}

TEST(ItpAgent, PrivateMessageIsReadableOnlyByItsRecipient) {
  network net;
  net.join("alice");
  net.join("bob");
  net.join("carol");
  net.type("alice", "/pm bob the eagle lands at noon");
  const event* pm = find(net.events("bob"), "pm");
  ASSERT_NE(pm, nullptr);
  EXPECT_EQ(pm->field("from"), "alice");
  EXPECT_EQ(pm->field("text"), "the eagle lands at noon");
  EXPECT_EQ(pm->field("authenticated"), "true");
  EXPECT_EQ(find(net.events("carol"), "pm"), nullptr);
  EXPECT_EQ(net.server_saw().find("eagle"), std::string::npos);
  EXPECT_NE(net.server_saw().find("PM_SESSIONKEY bob oaep256."), std::string::npos);

  // The session key went out once; the second PM reuses it.
  net.type("alice", "/pm bob second");
  std::string saw = net.server_saw();
  std::size_t count = 0;
  for (auto at = saw.find("PM_SESSIONKEY bob"); at != std::string::npos; at = saw.find("PM_SESSIONKEY bob", at + 1))
    ++count;
  EXPECT_EQ(count, 1u);
}

TEST(ItpAgent, QueuesCommandsUntilLoggedInAndReportsMissingKeys) {
  network net;
  auto& alice = net.join("alice");
  EXPECT_TRUE(alice.logged_in());
  net.type("alice", "/pm nobody hi");
  const event* error = find(net.events("alice"), "error");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->field("code"), "no_key");
}

TEST(ItpAgent, NeverShowsABodyThatFailsAuthentication) {
  auto bob_key = *core::pkey::generate_rsa(2048);
  agent bob({.name = "bob", .key = bob_key});
  agent_output out;
  bob.on_data("INIT hi\nOK IDENT bob\n", out);
  auto key = make_session_key();
  std::string line = "PM_SESSIONKEY alice " + *wrap_session_key(bob_key, key) + "\n";
  std::string body = *seal_body(key, "alice", "bob", "genuine");
  body[body.size() / 2] = body[body.size() / 2] == 'A' ? 'B' : 'A';
  bob.on_data(line + "NPM alice " + body + "\n" + "NPM alice " + *seal_body(key, "carol", "bob", "x") + "\n", out);
  EXPECT_EQ(find(out.events, "pm"), nullptr);
  std::size_t errors = 0;
  for (const auto& e : out.events) errors += e.type == "error" && e.field("code") == "undecryptable";
  EXPECT_EQ(errors, 2u);
  EXPECT_EQ(out.sends.back(), "OK PM_SESSIONKEY\n");  // ITP-CRYPTO-08
}

TEST(ItpAgent, ReadsLegacyTokensAndFlagsThemUnauthenticated) {
  auto bob_key = *core::pkey::generate_rsa(2048);
  agent bob({.name = "bob", .key = bob_key});
  agent_output out;
  auto aes = core::random_bytes(16);
  bob.on_data("INIT hi\nOK IDENT bob\nPM_SESSIONKEY alice " + *wrap_legacy_session_key(bob_key, aes) +
                  "\nNPM alice " + *seal_legacy_body(aes, "old client") + "\n",
              out);
  const event* pm = find(out.events, "pm");
  ASSERT_NE(pm, nullptr);
  EXPECT_EQ(pm->field("text"), "old client");
  EXPECT_EQ(pm->field("authenticated"), "false");
}

TEST(ItpAgent, SendsQuitOnceWhenAScriptsQuitMeetsTheEndOfInput) {
  network net;
  net.join("alice");
  net.type("alice", "/quit");
  net.type("alice", "/quit");  // what the end of a script's input adds
  const std::string& saw = net.server_saw();
  EXPECT_EQ(saw.find("QUIT\n"), saw.rfind("QUIT\n")) << saw;
  EXPECT_NE(saw.find("QUIT\n"), std::string::npos);
}

TEST(ItpAgent, AnswersPingAndIgnoresUnknownLines) {
  agent a({.name = "alice", .key = *core::pkey::generate_rsa(1024)});
  agent_output out;
  a.on_data("SOMETHING new\nINIT hi\nPING\n", out);
  ASSERT_EQ(out.sends.size(), 2u);
  EXPECT_EQ(out.sends[0], "IDENT alice\n");
  EXPECT_EQ(out.sends[1], "PONG\n");
  EXPECT_EQ(out.events.front().type, "unknown");
}

}  // namespace
}  // namespace parley::itp
