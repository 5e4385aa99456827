#include "impl/client/peerchat/contacts.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "impl/proto/peerchat/secure.hpp"

namespace parley::peerchat {
namespace {

public_key some_key() {
  auto id = identity::generate();
  EXPECT_TRUE(id.has_value());
  return id->public_key_bytes();
}

TEST(PeerchatContacts, RoundTripsThroughItsText) {
  contact_list list;
  auto k1 = some_key(), k2 = some_key();
  list.set("bob", k1);
  list.set("alice", k2);
  auto text = list.serialize();
  EXPECT_EQ(text, "alice " + format_public_key(k2) + "\nbob " + format_public_key(k1) + "\n");
  auto back = contact_list::parse("# my contacts\n\n" + text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->size(), 2u);
  EXPECT_EQ(*back->find("bob"), k1);
  EXPECT_FALSE(back->find("carol").has_value());
  EXPECT_TRUE(back->erase("bob"));
  EXPECT_FALSE(back->erase("bob"));
}

TEST(PeerchatContacts, NamesTheBadLine) {
  auto good = "bob " + format_public_key(some_key()) + "\n";
  std::size_t line = 0;
  auto bad_key = contact_list::parse(good + "carol ed25519:abcd\n", &line);
  EXPECT_EQ(bad_key.error(), errc::bad_key);
  EXPECT_EQ(line, 2u);
  auto bad_name = contact_list::parse(good + good + "c@rol " + format_public_key(some_key()) + "\n", &line);
  EXPECT_EQ(bad_name.error(), errc::invalid_name);
  EXPECT_EQ(line, 3u);
  EXPECT_EQ(contact_list::parse("justaname\n", &line).error(), errc::bad_key);
}

TEST(PeerchatContacts, SavesWithOwnerOnlyModeAndLoadsBack) {
  std::string path = ::testing::TempDir() + "peerchat_contacts_test.contacts";
  std::remove(path.c_str());
  auto empty = load_contacts(path);  // a missing file is an empty list
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->size(), 0u);
  contact_list list;
  auto key = some_key();
  list.set("bob", key);
  ASSERT_FALSE(save_contacts(path, list));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = load_contacts(path);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(*loaded->find("bob"), key);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace parley::peerchat
