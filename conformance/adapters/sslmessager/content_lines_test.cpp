#include "conformance/adapters/sslmessager/content_lines.hpp"

#include <gtest/gtest.h>

namespace parley::conform {
namespace {

std::vector<std::string> read_all(sslmessager_lines& f) {
  std::vector<std::string> out;
  std::string error;
  while (auto m = f.next(error)) out.push_back(*m);
  EXPECT_EQ(error, "");
  return out;
}

TEST(SslmessagerLines, HandsOnContentAndFindsNothingInTheRightForm) {
  sslmessager_lines f(8192);
  f.feed("ACCEPT aaa \r\nRELAY bbb aaa  \r\n \r\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"ACCEPT aaa", "RELAY bbb aaa "}));
  EXPECT_TRUE(f.take_findings().empty());
  EXPECT_TRUE(f.logged_in());
}

TEST(SslmessagerLines, AWrongFormIsOneFindingAgainstFrame01) {
  sslmessager_lines f(8192);
  f.feed("ACCEPT aaa\r\nRELAY bbb aaa hi\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"ACCEPT aaa", "RELAY bbb aaa hi"}));
  auto findings = f.take_findings();
  ASSERT_EQ(findings.size(), 1u);  // once per connection, however many lines are wrong
  EXPECT_EQ(findings[0].rule, "SSLM-FRAME-01");
  EXPECT_NE(findings[0].message.find("no SP before CR LF"), std::string::npos) << findings[0].message;
}

TEST(SslmessagerLines, AClientsTypedLineFeedIsClient03NotFrame01) {
  sslmessager_lines f(8192, true);
  f.feed("AUTH aaa pw \r\nMSG bbb aaa hello  \n \r\nMSG bbb aaa hi\r\n \r\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"AUTH aaa pw", "MSG bbb aaa hello ", "MSG bbb aaa hi"}));
  auto findings = f.take_findings();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, "SSLM-CLIENT-03");
  EXPECT_NE(findings[0].message.find("line break (LF)"), std::string::npos) << findings[0].message;
}

TEST(SslmessagerLines, AClientsBareLfTerminatorIsStillFrame01) {
  sslmessager_lines f(8192, true);
  f.feed("MSG bbb aaa hi\nMSG bbb aaa ho\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"MSG bbb aaa hi", "MSG bbb aaa ho"}));
  auto findings = f.take_findings();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, "SSLM-FRAME-01");
}

TEST(SslmessagerLines, AServersLinesAreNeverAClientsText) {
  sslmessager_lines f(8192);
  f.feed("MSG bbb aaa hello\n \r\n");
  EXPECT_EQ(read_all(f), (std::vector<std::string>{"MSG bbb aaa hello"}));
  auto findings = f.take_findings();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, "SSLM-FRAME-01");
}

TEST(SslmessagerLines, AnEndClosesTheSessionForTheFarewell) {
  sslmessager_lines f(8192);
  f.feed("ACCEPT aaa \r\nEND <end accepted> \r\n");
  read_all(f);
  EXPECT_FALSE(f.logged_in());
}

TEST(SslmessagerLines, TooMuchWithoutALineEndingIsAnError) {
  sslmessager_lines f(16);
  f.feed(std::string(40, 'x'));
  std::string error;
  EXPECT_FALSE(f.next(error));
  EXPECT_NE(error, "");
}

}  // namespace
}  // namespace parley::conform
