#include "conformance/adapters/sslmessager/relay_watch.hpp"

#include <gtest/gtest.h>

namespace parley::conform::sslmessager_watch {
namespace {

TEST(SslmessagerRelayWatch, ARelayIsTracedToTheConnectionThatSentIt) {
  auto w = make_relay_watcher();
  w->sent("a", "AUTH aaa pw \r\n");
  w->sent("b", "AUTH bbb pw \r\n");
  w->received("a", "ACCEPT aaa");
  w->received("b", "ACCEPT bbb");
  w->sent("a", "MSG bbb aa");  // a write cut in two
  w->sent("a", "a hello \r\n");
  w->received("b", "RELAY bbb aaa hello");
  EXPECT_TRUE(w->verdicts().empty());
}

TEST(SslmessagerRelayWatch, AForgedSenderRelayedIsSslmMsg02) {
  auto w = make_relay_watcher();
  w->sent("a", "AUTH aaa pw \r\n");
  w->received("a", "ACCEPT aaa");
  w->sent("a", "MSG bbb ccc forged \r\n");
  w->received("b", "RELAY bbb ccc forged");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "SSLM-MSG-02");
}

TEST(SslmessagerRelayWatch, WhatNoConnectionExplainsOrAnUnreadLoginIsNotJudged) {
  auto w = make_relay_watcher();
  // Another client of a shared server.
  w->received("b", "RELAY bbb zzz from elsewhere");
  // An AUTH whose answer was never read (its connection was reset first) may have been accepted.
  w->sent("c", "AUTH ccc pw \r\nMSG bbb ccc hi \r\n");
  w->received("b", "RELAY bbb ccc hi");
  EXPECT_TRUE(w->verdicts().empty());
  // A MSG from a connection that never sent AUTH, relayed: SSLM-AUTH-01.
  w->sent("d", "MSG bbb ddd early \r\n");
  w->received("b", "RELAY bbb ddd early");
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "SSLM-AUTH-01");
}

}  // namespace
}  // namespace parley::conform::sslmessager_watch
