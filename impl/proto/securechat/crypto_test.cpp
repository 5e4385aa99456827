#include "impl/proto/securechat/crypto.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace parley::securechat {
namespace {

const core::pkey& alice() {
  static core::pkey key = *core::pkey::generate_rsa(2048);
  return key;
}
const core::pkey& bob() {
  static core::pkey key = *core::pkey::generate_rsa(2048);
  return key;
}

TEST(SecurechatCrypto, SignedBytesAreWhatPythonSigns) {
  EXPECT_EQ(signed_join_bytes("alice"), R"({"name": "alice"})");
}

TEST(SecurechatCrypto, JoinSignatureVerifiesOnlyForItsNameAndKey) {
  auto sig = sign_join(alice(), "alice");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 512u);  // 256 bytes of RSA-2048, hex
  EXPECT_TRUE(verify_join(alice(), "alice", *sig));
  std::string upper = *sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify_join(alice(), "alice", upper));
  EXPECT_FALSE(verify_join(alice(), "alicf", *sig));
  EXPECT_FALSE(verify_join(bob(), "alice", *sig));
  EXPECT_FALSE(verify_join(alice(), "alice", "zz"));
  EXPECT_FALSE(verify_join(alice(), "alice", ""));
  EXPECT_FALSE(verify_join(alice(), "alice", sig->substr(2)));
}

TEST(SecurechatCrypto, PrivateTextRoundTripsOnlyWithTheRightKey) {
  auto sealed = encrypt_private_text(alice(), "hello \xc3\xa9");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(*decrypt_private_text(alice(), *sealed), "hello \xc3\xa9");
  EXPECT_FALSE(decrypt_private_text(bob(), *sealed));
  EXPECT_FALSE(decrypt_private_text(alice(), "nothex"));
}

TEST(SecurechatCrypto, PrivateTextIsOneBlockAtMost) {
  EXPECT_EQ(max_private_text(alice()), 245u);
  EXPECT_TRUE(encrypt_private_text(alice(), std::string(245, 'x')));
  EXPECT_FALSE(encrypt_private_text(alice(), std::string(246, 'x')));
}

TEST(SecurechatCrypto, NamesAreSafeFileNames) {
  for (std::string_view good : std::initializer_list<std::string_view>{"a", "alice", "Bob_2", "x.y-z", std::string_view("abcdefghijklmnopqrstuvwxyz012345")})
    EXPECT_TRUE(valid_name(good)) << good;
  for (std::string_view bad : std::initializer_list<std::string_view>{"", ".hidden", "..", "../etc", "a/b", "a b", "caf\xc3\xa9",
                               std::string_view("abcdefghijklmnopqrstuvwxyz0123456")})
    EXPECT_FALSE(valid_name(bad)) << bad;
}

TEST(SecurechatCrypto, KeysMustBeRsa2048OrMore) {
  EXPECT_TRUE(acceptable_key(alice()));
  EXPECT_FALSE(acceptable_key(*core::pkey::generate_rsa(1024)));
  EXPECT_FALSE(acceptable_key(*core::pkey::generate_ed25519()));
}

TEST(SecurechatCrypto, MessageIdsAreFreshUuid4) {
  std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  auto a = new_message_id(), b = new_message_id();
  EXPECT_TRUE(std::regex_match(a, uuid4)) << a;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace parley::securechat
