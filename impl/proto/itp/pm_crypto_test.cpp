#include "impl/proto/itp/pm_crypto.hpp"

#include <gtest/gtest.h>

#include "impl/core/crypto/digest.hpp"

namespace parley::itp {
namespace {

const core::pkey& bob_key() {
  static const core::pkey key = *core::pkey::generate_rsa(2048);
  return key;
}

TEST(ItpPmCrypto, PublicKeyTokenRoundTripsAndIsChecked) {
  auto token = encode_public_key(bob_key());
  auto back = decode_public_key(token);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fingerprint(), bob_key().fingerprint());
  EXPECT_EQ(decode_public_key("not base64!").error(), errc::invalid_key);
  EXPECT_EQ(decode_public_key(encode_public_key(*core::pkey::generate_rsa(512))).error(), errc::invalid_key);
  EXPECT_EQ(decode_public_key(encode_public_key(*core::pkey::generate_ed25519())).error(), errc::invalid_key);
}

TEST(ItpPmCrypto, SessionKeyAndBodyRoundTrip) {
  auto key = make_session_key();
  auto wrapped = wrap_session_key(*decode_public_key(encode_public_key(bob_key())), key);
  ASSERT_TRUE(wrapped);
  EXPECT_TRUE(wrapped->starts_with("oaep256."));
  auto unwrapped = unwrap_session_key(bob_key(), *wrapped);
  ASSERT_TRUE(unwrapped);
  EXPECT_EQ(unwrapped->key, key.key);
  EXPECT_FALSE(unwrapped->legacy);

  auto body = seal_body(key, "alice", "bob", "meet at noon");
  ASSERT_TRUE(body);
  EXPECT_TRUE(body->starts_with("gcm."));
  EXPECT_EQ(*open_body(*unwrapped, "alice", "bob", *body), "meet at noon");
  // The same text twice never gives the same token (fresh nonce).
  EXPECT_NE(*seal_body(key, "alice", "bob", "meet at noon"), *body);
}

TEST(ItpPmCrypto, BodyIsBoundToDirectionAndNames) {
  auto key = make_session_key();
  auto body = *seal_body(key, "alice", "bob", "x");
  EXPECT_EQ(open_body(key, "bob", "alice", body).error(), errc::decrypt_failed);
  EXPECT_EQ(open_body(key, "alice", "carol", body).error(), errc::decrypt_failed);
  EXPECT_EQ(open_body(make_session_key(), "alice", "bob", body).error(), errc::decrypt_failed);
  std::string tampered = body;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(open_body(key, "alice", "bob", tampered));
  EXPECT_EQ(open_body(key, "alice", "bob", "plain text").error(), errc::invalid_token);
  EXPECT_EQ(open_body(key, "alice", "bob", "gcm.AAAA").error(), errc::invalid_token);
}

TEST(ItpPmCrypto, LegacyTokensAreReadAndFlagged) {
  auto aes = core::random_bytes(16);
  auto wrapped = wrap_legacy_session_key(bob_key(), aes);
  ASSERT_TRUE(wrapped);
  auto key = unwrap_session_key(bob_key(), *wrapped);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->legacy);
  EXPECT_EQ(key->key, aes);
  EXPECT_EQ(*open_body(*key, "alice", "bob", *seal_legacy_body(aes, "old style")), "old style");
  // No downgrade: a legacy key never opens a modern token, a modern key never opens a legacy one.
  EXPECT_FALSE(open_body(*key, "alice", "bob", *seal_body({aes, false}, "alice", "bob", "x")));
  EXPECT_FALSE(open_body({aes, false}, "alice", "bob", *seal_legacy_body(aes, "x")));
}

TEST(ItpPmCrypto, UnwrapRejectsForeignKeysAndUnknownSchemes) {
  auto other = *core::pkey::generate_rsa(2048);
  auto wrapped = *wrap_session_key(other, make_session_key());
  EXPECT_EQ(unwrap_session_key(bob_key(), wrapped).error(), errc::decrypt_failed);
  EXPECT_EQ(unwrap_session_key(bob_key(), "xchacha.AAAA").error(), errc::invalid_token);
  EXPECT_EQ(unwrap_session_key(bob_key(), "oaep256.!!").error(), errc::invalid_token);
}

}  // namespace
}  // namespace parley::itp
