#include "impl/proto/itp/codec.hpp"

#include <gtest/gtest.h>

namespace parley::itp {
namespace {

// Canonical client lines: parse must give `expected`, and serialize must give the line back byte for byte.
struct client_vector {
  std::string_view line;
  client_message expected;
};

bool same(const client_message& a, const client_message& b) { return serialize(a) == serialize(b); }
bool same(const server_message& a, const server_message& b) { return serialize(a) == serialize(b); }

const client_vector client_vectors[] = {
    {"IDENT alice", c2s::ident{"alice"}},
    {"BCST hello  world ", c2s::bcst{"hello  world "}},
    {"USERS", c2s::users{}},
    {"PM bob secret words", c2s::pm{"bob", "secret words"}},
    {"PRIVATE_MESSAGE bob x", c2s::pm{"bob", "x", true}},
    {"PM_PUBKEY MIIBIjAN", c2s::pubkey{"MIIBIjAN"}},
    {"PM_SESSIONKEY bob oaep256.AAAA", c2s::sessionkey{"bob", "oaep256.AAAA"}},
    {"PONG", c2s::pong{}},
    {"QUIT", c2s::quit{}},
    {"OK PM_PUBKEY", c2s::ack{"PM_PUBKEY"}},
    {"OK PM_SESSIONKEY", c2s::ack{"PM_SESSIONKEY"}},
};

TEST(ItpCodec, ClientVectorsParseAndSerialize) {
  for (const auto& v : client_vectors) {
    auto parsed = parse_client_line(v.line);
    ASSERT_TRUE(parsed) << v.line;
    EXPECT_TRUE(same(*parsed, v.expected)) << v.line;
    EXPECT_EQ(serialize(v.expected), std::string(v.line) + "\n");
  }
}

TEST(ItpCodec, ClientErrorVectors) {
  struct {
    std::string_view line;
    errc error;
  } vectors[] = {{"ident alice", errc::unknown_command}, {"HELLO", errc::unknown_command},
                 {"", errc::unknown_command},            {"BCST", errc::missing_argument},
                 {"BCST ", errc::missing_argument},      {"PM bob", errc::missing_argument},
                 {"PM bob ", errc::missing_argument},    {"PM  x", errc::missing_argument},
                 {"PM_PUBKEY", errc::missing_argument},  {"PM_SESSIONKEY bob", errc::missing_argument},
                 {"OK BCST", errc::unknown_command}};
  for (auto v : vectors) EXPECT_EQ(parse_client_line(v.line).error(), v.error) << v.line;
}

TEST(ItpCodec, IdentKeepsWhatFollowsForTheHubToJudge) {
  EXPECT_EQ(std::get<c2s::ident>(*parse_client_line("IDENT")).name, "");
  EXPECT_EQ(std::get<c2s::ident>(*parse_client_line("IDENT a b")).name, "a b");
}

struct server_vector {
  std::string_view line;
  server_message expected;
};

const server_vector server_vectors[] = {
    {"INIT Welcome to the server 1.4", s2c::init{"Welcome to the server 1.4"}},
    {"OK IDENT alice", s2c::ok_ident{"alice"}},
    {"OK BCST hi there", s2c::ok_bcst{"hi there"}},
    {"OK USERS alice:bob:carol", s2c::ok_users{{"alice", "bob", "carol"}}},
    {"OK PM bob body text", s2c::ok_pm{"bob", "body text"}},
    {"OK PRIVATE_MESSAGE bob b", s2c::ok_pm{"bob", "b", true}},
    {"OK PM_PUBKEY", s2c::ok_pubkey{}},
    {"OK PM_SESSIONKEY bob", s2c::ok_sessionkey{"bob"}},
    {"OK Goodbye", s2c::ok_goodbye{"Goodbye"}},
    {"OK GOODBYE", s2c::ok_goodbye{"GOODBYE"}},
    {"JOINED bob", s2c::joined{"bob"}},
    {"LEFT bob", s2c::left{"bob"}},
    {"BCST bob hi there", s2c::bcst{"bob", "hi there"}},
    {"NPM alice gcm.xx", s2c::npm{"alice", "gcm.xx"}},
    {"RECEIVE_PRIVATE_MSG alice x", s2c::npm{"alice", "x", true}},
    {"PM_PUBKEY alice MIIB", s2c::pubkey{"alice", "MIIB"}},
    {"PM_SESSIONKEY alice oaep256.k", s2c::sessionkey{"alice", "oaep256.k"}},
    {"PING", s2c::ping{}},
    {"DSCN Pong timeout", s2c::dscn{"Pong timeout"}},
    {"FAIL07 User does not exist", s2c::fail{7, "User does not exist"}},
    {"FAIL42 Something new", s2c::fail{42, "Something new"}},
};

TEST(ItpCodec, ServerVectorsParseAndSerialize) {
  for (const auto& v : server_vectors) {
    auto parsed = parse_server_line(v.line);
    ASSERT_TRUE(parsed) << v.line;
    EXPECT_TRUE(same(*parsed, v.expected)) << v.line;
    EXPECT_EQ(serialize(v.expected), std::string(v.line) + "\n");
  }
}

// Found by itp_line_fuzzer: a trailing empty name was dropped, so "OK USERS ::" did not round-trip.
TEST(ItpCodec, UsersListKeepsEmptyFields) {
  for (std::string_view line : {"OK USERS ::", "OK USERS a:", "OK USERS :a", "OK USERS a::b", "OK USERS "}) {
    auto parsed = parse_server_line(line);
    ASSERT_TRUE(parsed) << line;
    EXPECT_EQ(serialize(*parsed), std::string(line) + "\n");
  }
  EXPECT_EQ(std::get<s2c::ok_users>(*parse_server_line("OK USERS a::")).names, (std::vector<std::string>{"a", "", ""}));
}

TEST(ItpCodec, ServerErrorVectors) {
  for (std::string_view bad : {"HELLO", "FAIL7 x", "FAILxx y", "BCST bob", "NPM", "PM_PUBKEY alice", "JOINED"})
    EXPECT_FALSE(parse_server_line(bad)) << bad;
  EXPECT_TRUE(std::holds_alternative<s2c::ok_other>(*parse_server_line("OK SOMETHING else")));
}

TEST(ItpCodec, UsernameRule) {
  for (std::string_view ok : {"abc", "abcdefghijklmn", "A_1", "___"}) EXPECT_TRUE(valid_username(ok)) << ok;
  for (std::string_view bad : {"ab", "abcdefghijklmno", "a)lmn", "a-b", "a:b", "", "al ice", "\xc3\xa9te"})
    EXPECT_FALSE(valid_username(bad)) << bad;
}

}  // namespace
}  // namespace parley::itp
