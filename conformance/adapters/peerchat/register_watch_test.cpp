#include "conformance/adapters/peerchat/register_watch.hpp"

#include <gtest/gtest.h>

namespace parley::conform::peerchat_watch {
namespace {

const std::string good_key = "ed25519:3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

TEST(PeerchatRegisterWatch, AValidRegistrationIsNotJudged) {
  auto w = make_register_watcher();
  w->sent("a", "HELLO peerchat/2\n");
  w->received("a", "HELLO peerchat/2");
  w->sent("a", "REGISTER al");  // a write cut in two
  w->sent("a", "ice " + good_key + "\r\n");
  w->received("a", "REGISTERED alice OK");
  w->sent("b", "REGISTER bob\n");
  w->received("b", "REGISTER bob OK");  // the seed's spelling of success
  EXPECT_TRUE(w->verdicts().empty());
}

TEST(PeerchatRegisterWatch, ANameOutsideTheGrammarRegisteredIsPcReg04) {
  auto w = make_register_watcher();
  w->sent("a", "REGISTER al`ce\nREGISTER al@ce\n");
  w->received("a", "ERROR Invalid_name");
  w->received("a", "REGISTERED al@ce OK");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "PC-REG-04");
  EXPECT_NE(v[0].message.find("al@ce"), std::string::npos);
}

TEST(PeerchatRegisterWatch, ABadKeyIsJudgedOnlyWhereTheServerSpeaksPeerchat2) {
  auto w = make_register_watcher();
  std::string bad_key = good_key.substr(0, good_key.size() - 1) + "G";
  // A peerchat/1 server ignores the key field, as the original does.
  w->sent("a", "HELLO peerchat/2\nREGISTER alice " + bad_key + "\n");
  w->received("a", "HELLO");
  w->received("a", "REGISTERED alice OK");
  EXPECT_TRUE(w->verdicts().empty());
  w->sent("b", "HELLO peerchat/2\nREGISTER bob " + bad_key + "\n");
  w->received("b", "HELLO peerchat/2");
  w->received("b", "REGISTERED bob OK");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "PC-KEY-02");
}

TEST(PeerchatRegisterWatch, ASuccessIsJudgedOnlyWhenNoLineForItsNameMaySucceed) {
  auto w = make_register_watcher();
  // The first line got ERROR Bad_syntax, the second succeeded: nothing wrong.
  w->sent("a", "REGISTER alice " + good_key + " extra\nREGISTER alice\n");
  w->received("a", "ERROR Bad_syntax");
  w->received("a", "REGISTERED alice OK");
  EXPECT_TRUE(w->verdicts().empty());
}

TEST(PeerchatRegisterWatch, AnExtraFieldRegisteredIsPcErr02AndOtherAnswersAreNotJudged) {
  auto w = make_register_watcher();
  w->sent("a", "REGISTER alice " + good_key + " extra\n");
  w->received("a", "REGISTERED alice OK");
  // A success for a name this connection never sent, and a line that is no success, say nothing.
  w->received("b", "REGISTERED carol OK");
  w->sent("c", "REGISTER d~ve\n");
  w->received("c", "ERROR Invalid_name");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "PC-ERR-02");
}

}  // namespace
}  // namespace parley::conform::peerchat_watch
