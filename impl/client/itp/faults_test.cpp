// The agent's line rules (ITP-CLIENT-07, -08) and what each planted fault changes, with no server: bytes
// in, lines out.
#include "impl/client/itp/agent.hpp"

#include <gtest/gtest.h>

#include <set>

namespace parley::itp {
namespace {

struct logged_in_agent {
  explicit logged_in_agent(client_fault fault = client_fault::none)
      : a({.name = "alice", .key = *core::pkey::generate_rsa(1024), .fault = fault}) {
    a.on_open(out);
    a.on_data("INIT Welcome\nOK IDENT alice\n", out);
    out = {};
  }
  std::vector<std::string> type(std::string_view line) {
    out = {};
    a.on_command(line, out);
    return out.sends;
  }
  bool error(std::string_view code) const {
    for (const auto& e : out.events)
      if (e.type == "error" && e.field("code") == code) return true;
    return false;
  }
  agent a;
  agent_output out;
};

TEST(ItpClientFaults, EveryFaultHasANameAndDeclaresItsRules) {
  std::set<std::string_view> names;
  for (const auto& f : all_client_faults()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_FALSE(f.rules.empty()) << f.name;
    EXPECT_EQ(client_fault_from_name(f.name), f.value);
  }
  EXPECT_FALSE(client_fault_from_name("no-such-fault"));
}

TEST(ItpClientLines, TypedTextGoesOutAsTypedAndEmptyLinesNotAtAll) {
  logged_in_agent alice;
  EXPECT_EQ(alice.type("  two  spaces "), std::vector<std::string>{"BCST   two  spaces \n"});
  EXPECT_TRUE(alice.type("").empty());
  EXPECT_EQ(alice.type("   "), std::vector<std::string>{"BCST    \n"});
}

TEST(ItpClientLines, NoLineLongerThanTheServerTakes) {
  logged_in_agent alice;
  EXPECT_EQ(alice.type(std::string(1019, 'y')).size(), 1u);  // a 1024-byte line
  EXPECT_TRUE(alice.type(std::string(1020, 'y')).empty());
  EXPECT_TRUE(alice.error("too_long"));
}

TEST(ItpClientLines, AnOverlongPrivateMessageSendsNoSessionKeyEither) {
  logged_in_agent alice;
  auto bob = *core::pkey::generate_rsa(1024);
  alice.a.on_data("PM_PUBKEY bob " + encode_public_key(bob) + "\n", alice.out);
  EXPECT_TRUE(alice.type("/pm bob " + std::string(800, 'z')).empty());
  EXPECT_TRUE(alice.error("too_long"));
  auto sent = alice.type("/pm bob short");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].starts_with("PM_SESSIONKEY bob oaep256."));
}

TEST(ItpClientFaults, IdentBeforeInitSendsIdentOnce) {
  agent a({.name = "alice", .key = *core::pkey::generate_rsa(1024), .fault = client_fault::ident_before_init});
  agent_output out;
  a.on_open(out);
  a.on_data("INIT Welcome\n", out);
  EXPECT_EQ(out.sends, std::vector<std::string>{"IDENT alice\n"});
}

TEST(ItpClientFaults, LineFaults) {
  EXPECT_EQ(logged_in_agent(client_fault::cr_line_ends).type("hi"), std::vector<std::string>{"BCST hi\r"});
  EXPECT_EQ(logged_in_agent(client_fault::trim_typed_text).type("  hi "), std::vector<std::string>{"BCST hi\n"});
  EXPECT_EQ(logged_in_agent(client_fault::no_line_limit).type(std::string(2000, 'y')).size(), 1u);
  logged_in_agent quitter(client_fault::quit_without_waiting);
  EXPECT_EQ(quitter.type("/quit"), std::vector<std::string>{"QUIT\n"});
  EXPECT_TRUE(quitter.out.close);
}

TEST(ItpClientFaults, CryptoFaults) {
  auto bob = *core::pkey::generate_rsa(1024);
  std::string announce = "PM_PUBKEY bob " + encode_public_key(bob) + "\n";
  logged_in_agent fixed(client_fault::fixed_nonce);
  fixed.a.on_data(announce, fixed.out);
  auto first = fixed.type("/pm bob same");
  auto second = fixed.type("/pm bob same");
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[1], second[0]);

  logged_in_agent unprefixed(client_fault::unprefixed_session_key);
  unprefixed.a.on_data(announce, unprefixed.out);
  auto sent = unprefixed.type("/pm bob hi");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].starts_with("PM_SESSIONKEY bob ")) << sent[0];
  EXPECT_EQ(sent[0].find("oaep256."), std::string::npos);

  logged_in_agent small(client_fault::refuse_small_keys);
  small.a.on_data(announce, small.out);
  EXPECT_TRUE(small.error("bad_key"));
}

}  // namespace
}  // namespace parley::itp
