#include "impl/core/key_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace parley::core {
namespace {

TEST(KeyStore, SavesBothFilesAndLoadsThemBack) {
  auto dir = std::filesystem::temp_directory_path() / ("parley-keys-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(dir);
  key_store store(dir);
  auto key = *pkey::generate_ed25519();
  ASSERT_FALSE(store.save("alice", key));
  EXPECT_TRUE(std::filesystem::exists(dir / "alice.pem"));
  EXPECT_TRUE(std::filesystem::exists(dir / "alice.public.pem"));
  auto stored = store.load_public("alice");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->key.fingerprint(), key.fingerprint());
  EXPECT_EQ(stored->pem, *read_file(dir / "alice.public.pem"));  // the file's bytes, as they are
  EXPECT_TRUE(store.load_private("alice")->has_private());
  EXPECT_EQ(store.names(), std::vector<std::string>{"alice"});
  EXPECT_EQ(store.load_public("bob").error(), errc::key_not_found);

  // Only the private file: the public key is derived from it.
  std::filesystem::remove(dir / "alice.public.pem");
  EXPECT_EQ(store.load_public("alice")->key.fingerprint(), key.fingerprint());
  EXPECT_FALSE(store.load_public("alice")->key.has_private());

  // The seed's layout: `<name>.pem` holding the public key.
  ASSERT_FALSE(write_file(dir / "bob.pem", key.public_pem(), false));
  EXPECT_EQ(store.load_public("bob")->pem, key.public_pem());

  // A public file that does not parse is an error, not a reason to try the other file.
  ASSERT_FALSE(write_file(dir / "alice.public.pem", "garbage", false));
  EXPECT_EQ(store.load_public("alice").error(), errc::invalid_key);

  // "alice.public" would read alice.public.pem, alice's own key: refused.
  std::filesystem::remove(dir / "alice.public.pem");
  EXPECT_EQ(store.load_public("alice.public").error(), errc::key_not_found);
  std::filesystem::remove_all(dir);
}

// The original securechat keeps `<name>.private.pem` next to `<name>.public.pem`: both are that user's,
// so a directory in that layout names its users, not "alice.private" (issue 11).
TEST(KeyStore, ReadsTheOriginalsPrivatePublicLayout) {
  auto dir = std::filesystem::temp_directory_path() /
             ("parley-keys-original-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(dir);
  key_store store(dir);
  auto alice = *pkey::generate_ed25519();
  auto bob = *pkey::generate_ed25519();
  ASSERT_FALSE(write_file(dir / "alice.private.pem", alice.private_pem(), true));
  ASSERT_FALSE(write_file(dir / "alice.public.pem", alice.public_pem(), false));
  ASSERT_FALSE(write_file(dir / "bob.private.pem", bob.private_pem(), true));
  ASSERT_FALSE(write_file(dir / "bob.public.pem", bob.public_pem(), false));

  EXPECT_EQ(store.names(), (std::vector<std::string>{"alice", "bob"}));
  auto key = store.load_private("alice");
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->has_private());
  EXPECT_EQ(key->fingerprint(), alice.fingerprint());
  EXPECT_EQ(store.load_public("bob")->key.fingerprint(), bob.fingerprint());

  // The file names are no users of their own.
  EXPECT_EQ(store.load_private("alice.private").error(), errc::key_not_found);
  EXPECT_EQ(store.load_public("alice.private").error(), errc::key_not_found);

  // The explicit name wins over Parley's `<name>.pem` when a directory holds both; a broken one is an
  // error, never a reason to read the other.
  ASSERT_FALSE(write_file(dir / "alice.pem", bob.private_pem(), true));
  EXPECT_EQ(store.load_private("alice")->fingerprint(), alice.fingerprint());
  ASSERT_FALSE(write_file(dir / "alice.private.pem", "garbage", true));
  EXPECT_EQ(store.load_private("alice").error(), errc::invalid_key);
  std::filesystem::remove_all(dir);
}

TEST(KeyStore, RefusesNamesThatEscapeTheDirectory) {
  EXPECT_FALSE(key_store::valid_name("../etc/passwd"));
  EXPECT_FALSE(key_store::valid_name(".hidden"));
  EXPECT_FALSE(key_store::valid_name("a/b"));
  EXPECT_FALSE(key_store::valid_name(""));
  EXPECT_TRUE(key_store::valid_name("alice_1.backup"));
  EXPECT_EQ(key_store("/tmp").load_private("../x").error(), errc::key_not_found);
}

}  // namespace
}  // namespace parley::core
