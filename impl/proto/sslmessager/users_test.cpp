#include "impl/proto/sslmessager/users.hpp"

#include <gtest/gtest.h>

#include "impl/core/encoding.hpp"

namespace parley::sslmessager {
namespace {

TEST(SslmessagerUsers, SpecTestVector) {
  // spec §8.2: aaa / 123 with salt 00..0f.
  auto f = parse_users("# users\naaa:scrypt:32768:8:1:AAECAwQFBgcICQoLDA0ODw==:9FdjihFUnSraD5k0tB36dyrhBZK5Ui2tuIn1L6IgDN8=\n");
  ASSERT_EQ(f.problem, "");
  const auto& aaa = f.users.at("aaa");
  EXPECT_TRUE(verify_password(aaa, "123"));
  EXPECT_FALSE(verify_password(aaa, "124"));
  EXPECT_FALSE(verify_password(aaa, "12 3"));
  EXPECT_EQ(format_entry(aaa), "aaa:scrypt:32768:8:1:AAECAwQFBgcICQoLDA0ODw==:9FdjihFUnSraD5k0tB36dyrhBZK5Ui2tuIn1L6IgDN8=");
}

TEST(SslmessagerUsers, MadeEntriesRoundTrip) {
  auto e = make_entry("bob.b-2", "s3cr\xc3\xa9t", {16384, 8, 1});
  ASSERT_TRUE(e);
  auto f = parse_users(format_entry(*e) + "\n");
  ASSERT_EQ(f.problem, "");
  EXPECT_TRUE(verify_password(f.users.at("bob.b-2"), "s3cr\xc3\xa9t"));
  auto other = make_entry("bob.b-2", "s3cr\xc3\xa9t", {16384, 8, 1});
  EXPECT_NE(other->salt, e->salt);  // a fresh salt every time
  EXPECT_FALSE(make_entry("a b", "x"));
  EXPECT_FALSE(make_entry("ok", "has space"));
}

TEST(SslmessagerUsers, RefusesBadFilesNamingTheLine) {
  std::string good = "aaa:scrypt:16384:8:1:AAECAwQFBgcICQoLDA0ODw==:9FdjihFUnSraD5k0tB36dyrhBZK5Ui2tuIn1L6IgDN8=";
  EXPECT_EQ(parse_users(good + "\n").problem, "");
  EXPECT_NE(parse_users(good + "\n" + good + "\n").problem.find("line 2"), std::string::npos);  // twice
  EXPECT_NE(parse_users("aaa,196102605415948045922091470641921683088\n").problem, "");          // the original's
  EXPECT_NE(parse_users("aaa:scrypt:1000:8:1:AAECAwQFBgcICQoLDA0ODw==:9FdjihFUnSraD5k0tB36dyrhBZK5Ui2tuIn1L6IgDN8=").problem, "");
  EXPECT_NE(parse_users("aaa:scrypt:16384:8:1:AAEC:9FdjihFUnSraD5k0tB36dyrhBZK5Ui2tuIn1L6IgDN8=").problem, "");
  EXPECT_TRUE(valid_name("aaa") && !valid_name("") && !valid_name(std::string(33, 'a')) && !valid_name("a:b"));
  EXPECT_TRUE(valid_password("123") && !valid_password("") && !valid_password("a\tb"));
}

}  // namespace
}  // namespace parley::sslmessager
