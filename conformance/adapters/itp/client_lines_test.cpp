#include "conformance/adapters/itp/client_lines.hpp"

#include <gtest/gtest.h>

namespace parley::conform::itp_lines {
namespace {

std::vector<std::string> read_all(client_lines& f) {
  std::vector<std::string> out;
  std::string error;
  while (auto m = f.next(error)) out.push_back(*m);
  return out;
}

TEST(ItpClientLines, LfAndCrLfAreBothFine) {
  client_lines f;
  f.feed("IDENT alice\r\nPM_PUBKEY KEY\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"IDENT alice", "PM_PUBKEY KEY"}));
  EXPECT_TRUE(f.take_findings().empty());
}

TEST(ItpClientLines, ACrLfSplitBetweenReadsIsNoLoneCr) {
  client_lines f;
  f.feed("IDENT alice\r");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"IDENT alice"}));
  f.feed("\nBCST hi\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"BCST hi"}));
  EXPECT_TRUE(f.take_findings().empty());
}

TEST(ItpClientLines, ALoneCrIsOneFindingAgainstClient04) {
  client_lines f;
  f.feed("IDENT alice\rBCST hi\rBCST again\r\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"IDENT alice", "BCST hi", "BCST again"}));
  auto findings = f.take_findings();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, "ITP-CLIENT-04");
}

}  // namespace
}  // namespace parley::conform::itp_lines
