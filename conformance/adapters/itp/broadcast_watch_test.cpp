#include "conformance/adapters/itp/broadcast_watch.hpp"

#include <gtest/gtest.h>

namespace parley::conform::itp_watch {
namespace {

TEST(ItpSenderWatch, RelaysNamingTheirSenderPass) {
  auto w = make_sender_watcher();
  w->received("a", "OK IDENT alice");
  w->received("b", "OK IDENT bob");
  w->sent("a", "BCST hello  there\n");
  w->received("b", "BCST alice hello  there");
  w->sent("b", "PM alice secret body\r\n");
  w->received("a", "NPM bob secret body");
  EXPECT_TRUE(w->verdicts().empty());
}

TEST(ItpSenderWatch, ARelayUnderAnotherNameBreaksTheRelayRule) {
  auto w = make_sender_watcher();
  w->received("a", "OK IDENT alice");
  w->received("b", "OK IDENT bob");
  w->sent("a", "BCST mine\n");
  w->received("b", "BCST bob mine");
  w->sent("b", "PM alice psst\n");
  w->received("a", "NPM alice psst");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].rule, "ITP-BCST-02");
  EXPECT_EQ(v[1].rule, "ITP-PM-01");
  // Another client's broadcast on a shared server is not judged.
  auto other = make_sender_watcher();
  other->received("b", "BCST carol hi");
  EXPECT_TRUE(other->verdicts().empty());
}

}  // namespace
}  // namespace parley::conform::itp_watch
