#include "impl/proto/peerchat/datagram.hpp"

#include <gtest/gtest.h>

namespace parley::peerchat {
namespace {

struct plain_vector {
  std::string_view wire;
  std::string_view user;
  datagram_type type;
  std::string_view text;
};

// PC-UDP-02/03: the original's layout as sent, its variants, and the seed's layout.
const plain_vector plain_vectors[] = {
    {"alice\nConnect\n1804289383\n\n", "alice", datagram_type::connect, "1804289383"},
    {"alice\nMsg\nhello there\n\n", "alice", datagram_type::msg, "hello there"},
    {"alice\nClose\n\n\n", "alice", datagram_type::close, ""},
    {"alice\nKeepAliveToken\n\n\n", "alice", datagram_type::keepalive, ""},
    {"alice\nMsg\nhi", "alice", datagram_type::msg, "hi"},                  // trailing LF LF optional
    {"alice\nClose", "alice", datagram_type::close, ""},                    // missing text is empty
    {"alice\r\nmsg\r\nhi\r\n\r\n", "alice", datagram_type::msg, "hi"},      // a final CR per field
    {"alice\nMsg\nhi\nextra\nfields", "alice", datagram_type::msg, "hi"},  // fields after the third ignored
    {"alice\nKEEPALIVE\n", "alice", datagram_type::keepalive, ""},
    {"user1 MSG \"hello there\"", "user1", datagram_type::msg, "\"hello there\""},
    {"user1 CONNECT", "user1", datagram_type::connect, ""},
    {"user1 keepalive", "user1", datagram_type::keepalive, ""},
    {"user1 MSG  two  spaces ", "user1", datagram_type::msg, " two  spaces "},
    {"user1 Close ", "user1", datagram_type::close, ""},
};

TEST(PeerchatPlain, Vectors) {
  for (const auto& v : plain_vectors) {
    auto parsed = parse_plain(v.wire);
    ASSERT_TRUE(parsed) << v.wire;
    EXPECT_EQ(parsed->user, v.user) << v.wire;
    EXPECT_EQ(parsed->type, v.type) << v.wire;
    EXPECT_EQ(parsed->text, v.text) << v.wire;
    auto again = parse_plain(format_plain(*parsed));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->user, parsed->user);
    EXPECT_EQ(again->type, parsed->type);
    EXPECT_EQ(again->text, parsed->text);
  }
}

TEST(PeerchatPlain, Malformed) {
  using namespace std::string_literals;
  for (auto bad : {""s, "alice"s, "alice\n"s, "\nMsg\nhi"s, "alice\n\nhi"s, "alice Hello"s, " Msg hi"s, "alice "s,
                   "alice\nMsgs\nhi"s, "alice\nKeepAliveTokens\n"s, "alice\nMsg\nh\0i"s, "\xb2\x01"s,
                   "\xb2lice\nMsg\nhi"s, "alice\nMsg\n"s + std::string(1200, 'x')}) {
    EXPECT_EQ(parse_plain(bad).error(), errc::malformed_datagram) << bad;
  }
  std::string at_limit = "alice\nMsg\n" + std::string(max_datagram - 12, 'x') + "\n\n";
  ASSERT_EQ(at_limit.size(), max_datagram);
  EXPECT_TRUE(parse_plain(at_limit));
}

TEST(PeerchatPlain, FormatIsTheOriginalsLayout) {
  EXPECT_EQ(format_plain({"alice", datagram_type::msg, "hello there"}), "alice\nMsg\nhello there\n\n");
  EXPECT_EQ(format_plain({"alice", datagram_type::close, ""}), "alice\nClose\n\n\n");
  EXPECT_EQ(format_plain({"alice", datagram_type::keepalive, ""}), "alice\nKeepAliveToken\n\n\n");
  using namespace std::string_literals;
  EXPECT_EQ(format_plain({"alice", datagram_type::msg, "a\nb\rc\0d"s}), "alice\nMsg\na b c d\n\n");
  EXPECT_EQ(type_name(datagram_type::connect), "Connect");
}

TEST(PeerchatSplit, Limits) {
  EXPECT_EQ(split_text(""), std::vector<std::string>{""});
  EXPECT_EQ(split_text("hi\nthere"), std::vector<std::string>{"hi there"});
  auto parts = split_text(std::string(2500, 'x'));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].size(), 1000u);
  EXPECT_EQ(parts[2].size(), 500u);
  EXPECT_EQ(split_text("abcd", 2), (std::vector<std::string>{"ab", "cd"}));
}

TEST(PeerchatSplit, NeverInsideAUtf8Sequence) {
  // "é" is 2 bytes, "€" 3, "😀" 4: at every limit no part starts with a continuation byte.
  std::string text;
  for (int i = 0; i < 50; ++i) text += "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  for (std::size_t limit = 4; limit < 40; ++limit) {
    std::string joined;
    for (const auto& part : split_text(text, limit)) {
      ASSERT_LE(part.size(), limit);
      ASSERT_FALSE(part.empty());
      EXPECT_NE(static_cast<unsigned char>(part[0]) & 0xC0, 0x80) << limit;
      joined += part;
    }
    EXPECT_EQ(joined, text);
  }
  // Not UTF-8: still bounded, still complete.
  std::string junk(100, '\x80');
  std::string joined;
  for (const auto& part : split_text(junk, 7)) {
    EXPECT_LE(part.size(), 7u);
    joined += part;
  }
  EXPECT_EQ(joined, junk);
  EXPECT_EQ(split_text("abc", 0).size(), 3u);
}

}  // namespace
}  // namespace parley::peerchat
