#include "conformance/adapters/multiparty/sender_watch.hpp"

#include <gtest/gtest.h>

namespace parley::conform::multiparty_watch {
namespace {

constexpr const char* alice = "00000000000000a1";
constexpr const char* bob = "00000000000000b0";
constexpr const char* sid = "5e55000000000001";

std::string frame(const std::string& type, const std::string& uid, const std::string& payload) {
  return type + " sid=" + sid + " uid=" + uid + " | " + payload;
}

// A watcher that saw alice log in on a#0 and bob on b#1.
std::unique_ptr<session_watcher> alice_and_bob_logged_in() {
  auto w = make_sender_watcher();
  w->sent_sealed("a#0", frame("login_req", alice, "alice\\n..."));
  w->received("a#0", frame("login_res", "0000000000000000", "OK\\n..."));
  w->sent_sealed("b#1", frame("login_req", bob, "bob\\n..."));
  w->received("b#1", frame("login_res", "0000000000000000", "OK\\n..."));
  return w;
}

TEST(MultipartySenderWatch, AForwardUnderTheSendersUidPasses) {
  auto w = alice_and_bob_logged_in();
  w->sent_sealed("a#0", frame("msg_req", alice, std::string(bob) + " cGFydC1mb3ItYm9i\\n"));
  w->received("b#1", frame("msg_req", alice, std::string(bob) + " cGFydC1mb3ItYm9i\\n"));
  EXPECT_TRUE(w->verdicts().empty());
}

TEST(MultipartySenderWatch, AForwardUnderAnotherUidBreaksMsg04) {
  auto w = alice_and_bob_logged_in();
  // alice's frame claims bob's uid; the server forwards her line as from bob.
  w->sent_sealed("a#0", frame("msg_req", bob, std::string(bob) + " cGFydA==\\n" + alice + " b3RoZXI=\\n"));
  w->received("b#1", frame("msg_req", bob, std::string(bob) + " cGFydA==\\n"));
  auto v = w->verdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].rule, "MP-MSG-04");
  EXPECT_NE(v[0].message.find("a#0 (logged in as uid 00000000000000a1)"), std::string::npos) << v[0].message;
}

TEST(MultipartySenderWatch, WhatNoLoggedInConnectionSentIsNotJudged) {
  auto w = make_sender_watcher();
  // a#0's login was refused (the engine could not open the answer), so its uid is unknown.
  w->sent_sealed("a#0", frame("login_req", alice, "alice\\n..."));
  w->received("a#0", "refused login_res: bad tag, unreadable frame (header 00)");
  w->sent_sealed("a#0", frame("msg_req", bob, std::string(bob) + " cGFydA==\\n"));
  w->received("b#1", frame("msg_req", bob, std::string(bob) + " cGFydA==\\n"));
  w->received("b#1", frame("msg_req", alice, std::string(bob) + " ZnJvbS1lbHNld2hlcmU=\\n"));
  w->received("b#1", "not a frame line");
  EXPECT_TRUE(w->verdicts().empty());
}

}  // namespace
}  // namespace parley::conform::multiparty_watch
