#include "conformance/adapters/peerchat/rendezvous_lines.hpp"

#include <gtest/gtest.h>

namespace parley::conform::peerchat_engine {
namespace {

std::vector<std::string> read_all(rendezvous_lines& f) {
  std::vector<std::string> out;
  std::string error;
  while (auto m = f.next(error)) out.push_back(*m);
  return out;
}

TEST(PeerchatRendezvousLines, ServerCrLfIsOneFindingAndTheCrIsRemoved) {
  rendezvous_lines f(2048, true);
  f.feed("HELLO\r\nREGISTERED alice OK\r\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"HELLO", "REGISTERED alice OK"}));
  auto findings = f.take_findings();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, "PC-LINE-01");
}

TEST(PeerchatRendezvousLines, AClientsCrLfBreaksNothing) {
  rendezvous_lines f(2048, false);
  f.feed("REGISTER alice\r\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"REGISTER alice"}));
  EXPECT_TRUE(f.take_findings().empty());
}

TEST(PeerchatRendezvousLines, RemembersThatTheServerEndedTheSession) {
  rendezvous_lines f(2048, true);
  f.feed("CLOSE\n");
  read_all(f);
  EXPECT_TRUE(f.ended_by_server());
}

}  // namespace
}  // namespace parley::conform::peerchat_engine
