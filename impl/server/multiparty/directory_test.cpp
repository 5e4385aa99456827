#include "impl/server/multiparty/directory.hpp"

#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "impl/core/key_store.hpp"

namespace parley::multiparty {
namespace {

const core::pkey& rsa(int which) {
  static std::vector<core::pkey> keys = [] {
    std::vector<core::pkey> k;
    for (int i = 0; i < 3; ++i) k.push_back(*core::pkey::generate_rsa(2048));
    return k;
  }();
  return keys.at(which);
}

directory_entry entry(const std::string& name, int which) {
  auto pub = *core::pkey::from_public_pem(rsa(which).public_pem());
  return {name, uid_of(pub), pub};
}

TEST(MultipartyDirectory, AcceptsAValidDirectory) {
  EXPECT_EQ(directory_problem({entry("alice", 1), entry("bob.b-2_", 2)}, rsa(0)), "");
}

TEST(MultipartyDirectory, RefusesWhatMpDir03Lists) {
  EXPECT_NE(directory_problem({entry("alice", 1), entry("alice", 2)}, rsa(0)), "");  // same name
  EXPECT_NE(directory_problem({entry("alice", 1), entry("bob", 1)}, rsa(0)), "");    // same key
  EXPECT_NE(directory_problem({entry(".hidden", 1)}, rsa(0)), "");
  EXPECT_NE(directory_problem({entry(std::string(33, 'a'), 1)}, rsa(0)), "");
  EXPECT_NE(directory_problem({entry("a b", 1)}, rsa(0)), "");
  EXPECT_NE(directory_problem({}, rsa(0)), "");
  auto public_server = *core::pkey::from_public_pem(rsa(0).public_pem());
  EXPECT_NE(directory_problem({entry("alice", 1)}, public_server), "");  // the server needs its private key
  auto small = *core::pkey::generate_rsa(1024);
  auto small_pub = *core::pkey::from_public_pem(small.public_pem());
  EXPECT_NE(directory_problem({{"alice", uid_of(small_pub), small_pub}}, rsa(0)), "");
  auto wrong_uid = entry("alice", 1);
  wrong_uid.uid ^= 1;
  EXPECT_NE(directory_problem({wrong_uid}, rsa(0)), "");
}

TEST(MultipartyDirectory, PredictsTheLoginResSizeExactly) {
  // The fit check of MP-DIR-03 rests on this prediction.
  std::vector<directory_entry> users{entry("alice", 1), entry("bob_the_builder", 2)};
  auto frame = make_login_res(bytes(32, 7), as_bytes("request"), bytes(32, 9), users);
  ASSERT_TRUE(frame);
  EXPECT_EQ(login_res_size(users), frame->size());
}

TEST(MultipartyDirectory, LoadsTheUsersFileInOrder) {
  auto dir = std::filesystem::temp_directory_path() / ("parley-mp-dir-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  core::key_store store(dir);
  ASSERT_FALSE(store.save("carol", rsa(1)));
  ASSERT_FALSE(store.save("alice", rsa(2)));
  std::ofstream(dir / "users") << "# who may log in\ncarol\n\nalice\r\n";
  auto loaded = load_directory(dir / "users", dir);
  EXPECT_EQ(loaded.problem, "");
  ASSERT_EQ(loaded.users.size(), 2u);
  EXPECT_EQ(loaded.users[0].name, "carol");
  EXPECT_EQ(loaded.users[1].uid, uid_of(rsa(2)));
  std::ofstream(dir / "users") << "carol\ndave\n";
  EXPECT_NE(load_directory(dir / "users", dir).problem.find("no public key for 'dave'"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace parley::multiparty
