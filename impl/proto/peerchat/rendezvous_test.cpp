#include "impl/proto/peerchat/rendezvous.hpp"

#include <gtest/gtest.h>

namespace parley::peerchat {
namespace {

// RFC 8032 §7.1 test 2's public key, the spec's STARTCHAT example.
constexpr std::string_view example_key =
    "ed25519:3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

struct client_vector {
  std::string_view wire;  // without the LF
  client_command command;
  std::string_view argument;
  std::string_view key;
  std::optional<unsigned> port;
};

const client_vector client_vectors[] = {
    {"HELLO", client_command::hello, "", "", std::nullopt},
    {"HELLO peerchat/2", client_command::hello, "peerchat/2", "", std::nullopt},
    {"REGISTER alice", client_command::register_user, "alice", "", std::nullopt},
    {"REGISTER alice ed25519:00", client_command::register_user, "alice", "ed25519:00", std::nullopt},
    {"REGISTER al!ce", client_command::register_user, "al!ce", "", std::nullopt},  // the hub says Invalid_name
    {"LISTUSERS", client_command::list_users, "", "", std::nullopt},
    {"CHAT bob", client_command::chat, "bob", "", std::nullopt},
    {"OK", client_command::accept_port, "", "", std::nullopt},
    {"OK 51234", client_command::accept_port, "", "", 51234u},
    {"ERROR", client_command::refuse_port, "", "", std::nullopt},
    {"ERROR Port_unavailable", client_command::refuse_port, "Port_unavailable", "", std::nullopt},
    {"CLOSE", client_command::close, "", "", std::nullopt},
};

TEST(PeerchatClientLine, VectorsParseAndFormat) {
  for (const auto& v : client_vectors) {
    auto parsed = parse_client_line(v.wire);
    ASSERT_TRUE(parsed) << v.wire << ": " << parsed.error().message();
    EXPECT_EQ(parsed->command, v.command) << v.wire;
    EXPECT_EQ(parsed->argument, v.argument) << v.wire;
    EXPECT_EQ(parsed->key, v.key) << v.wire;
    EXPECT_EQ(parsed->port, v.port) << v.wire;
    EXPECT_EQ(format(*parsed), std::string(v.wire) + "\n");
  }
}

TEST(PeerchatClientLine, BadSyntax) {
  // PC-ERR-02, and an argument to a command that takes none.
  for (auto bad : {"REGISTER", "REGISTER ", "REGISTER  bob", "REGISTER a b c", "REGISTER a ", "REGISTER a  k",
                   "CHAT", "CHAT ", "CHAT  bob", "CHAT bob ", "CHAT bob carol", "LISTUSERS x", "LISTUSERS ",
                   "CLOSE now"}) {
    auto parsed = parse_client_line(bad);
    EXPECT_EQ(parsed.error(), errc::bad_syntax) << bad;
  }
}

TEST(PeerchatClientLine, UnknownCommands) {
  // PC-LINE-04: empty, unknown, other case, server-only words.
  for (auto bad : {"", " ", " HELLO", "hello", "Register alice", "STARTUSERS", "ENDUSERS", "REGISTERED alice OK",
                   "PORT 40000", "STARTCHAT 1.2.3.4 40000 bob", "ok", "WHO", "HELLO\r"}) {
    EXPECT_EQ(parse_client_line(bad).error(), errc::unknown_command) << bad;
  }
}

TEST(PeerchatClientLine, OkWithoutANumberMatchesNoRound) {
  for (auto odd : {"OK x", "OK ", "OK 70000", "OK 4e4", "OK 40000 1"}) {
    auto parsed = parse_client_line(odd);
    ASSERT_TRUE(parsed) << odd;
    EXPECT_EQ(parsed->command, client_command::accept_port);
    EXPECT_EQ(parsed->port, std::optional<unsigned>(0)) << odd;
  }
  EXPECT_EQ(parse_client_line("ERROR a b  c")->argument, "a b  c");
  EXPECT_EQ(parse_client_line("HELLO peerchat/3 x")->argument, "peerchat/3 x");
}

TEST(PeerchatServerLine, Known) {
  auto hello = parse_server_line("HELLO peerchat/2");
  EXPECT_EQ(hello.command, server_command::hello);
  EXPECT_EQ(hello.text, "peerchat/2");
  EXPECT_EQ(parse_server_line("HELLO").command, server_command::hello);
  for (auto reg : {"REGISTERED alice OK", "REGISTER alice OK"}) {  // PC-CLI-02
    auto r = parse_server_line(reg);
    EXPECT_EQ(r.command, server_command::registered) << reg;
    EXPECT_EQ(r.text, "alice");
  }
  EXPECT_EQ(parse_server_line("STARTUSERS").command, server_command::start_users);
  EXPECT_EQ(parse_server_line("ENDUSERS").command, server_command::end_users);
  EXPECT_EQ(parse_server_line("OK").command, server_command::ok);
  EXPECT_EQ(parse_server_line("CLOSE").command, server_command::close);
  auto port = parse_server_line("PORT 51234");
  EXPECT_EQ(port.command, server_command::port);
  EXPECT_EQ(port.port, 51234u);
  auto error = parse_server_line("ERROR User_busy");
  EXPECT_EQ(error.command, server_command::error);
  EXPECT_EQ(error.text, "User_busy");

  auto start = parse_server_line("STARTCHAT 198.51.100.7 51234 bob");
  EXPECT_EQ(start.command, server_command::start_chat);
  EXPECT_EQ(start.address, "198.51.100.7");
  EXPECT_EQ(start.port, 51234u);
  EXPECT_EQ(start.name, "bob");
  EXPECT_FALSE(start.key);
  auto keyed = parse_server_line("STARTCHAT ::1 40000 bob " + std::string(example_key));
  EXPECT_EQ(keyed.command, server_command::start_chat);
  ASSERT_TRUE(keyed.key);
  EXPECT_EQ(format_public_key(*keyed.key), example_key);
  // A malformed fifth field is no key; the trust rules (PC-TRUST-03) then decide.
  EXPECT_FALSE(parse_server_line("STARTCHAT ::1 40000 bob ed25519:zz").key);
}

TEST(PeerchatServerLine, OtherKeepsTheLine) {
  // PC-CLI-01: exact first word only; a user name in a list is `other`.
  for (auto line : {"bob", "", "PORTX 1", "PORT", "PORT x", "PORT 1 2", "STARTCHAT 1.2.3.4 x bob",
                    "STARTCHAT 1.2.3.4 40000", "REGISTERED alice", "REGISTERED alice NO", "OK 1", "hello",
                    "STARTUSERS x"}) {
    auto parsed = parse_server_line(line);
    EXPECT_EQ(parsed.command, server_command::other) << line;
    EXPECT_EQ(parsed.text, line);
  }
}

TEST(PeerchatServerLine, WritersMatchTheParser) {
  EXPECT_EQ(hello_line(false), "HELLO\n");
  EXPECT_EQ(hello_line(true), "HELLO peerchat/2\n");
  EXPECT_EQ(registered_line("alice"), "REGISTERED alice OK\n");
  EXPECT_EQ(port_line(40000), "PORT 40000\n");
  EXPECT_EQ(error_line(code::max_retries), "ERROR Max_PortAgree_Retries_Exceded\n");
  EXPECT_EQ(start_chat_line("203.0.113.9", 51234, "alice", std::nullopt), "STARTCHAT 203.0.113.9 51234 alice\n");
  auto key = *parse_public_key(example_key);
  EXPECT_EQ(start_chat_line("::1", 40000, "bob", key), "STARTCHAT ::1 40000 bob " + std::string(example_key) + "\n");
}

TEST(PeerchatNames, Grammar) {
  using namespace std::string_literals;
  for (const auto& good : {"a"s, "alice"s, "A.b-c_9"s, "startusers"s, "STARTUSERSX"s, std::string(32, 'x')})
    EXPECT_TRUE(valid_name(good)) << good;
  for (const auto& bad : {""s, "al ice"s, "al!ce"s, "STARTUSERS"s, "ENDUSERS"s, "caf\xc3\xa9"s, "a\tb"s, "a\0"s,
                          std::string(33, 'x')})
    EXPECT_FALSE(valid_name(bad)) << bad;
  EXPECT_TRUE(valid_chat_port(40000));
  EXPECT_TRUE(valid_chat_port(59999));
  EXPECT_FALSE(valid_chat_port(39999));
  EXPECT_FALSE(valid_chat_port(60000));
}

TEST(PeerchatKeys, ParseAndFingerprint) {
  auto key = parse_public_key(example_key);
  ASSERT_TRUE(key);
  EXPECT_EQ((*key)[0], 0x3d);
  EXPECT_EQ(format_public_key(*key), example_key);
  // SHA-256 of the 32 raw bytes, first 16 bytes in groups of four hex digits.
  auto fp = fingerprint(*key);
  EXPECT_EQ(fp.size(), 39u);
  EXPECT_EQ(std::count(fp.begin(), fp.end(), ' '), 7);
  EXPECT_EQ(parse_public_key("ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").error(),
            std::error_code{});
}

TEST(PeerchatKeys, Refused) {
  std::string upper(example_key);
  upper.back() = 'C';
  std::string not_a_point = "ed25519:" + std::string(64, 'f');  // y >= p
  // y = 2: (y^2 - 1) / (d y^2 + 1) is not a square mod p.
  std::string no_x = "ed25519:02" + std::string(62, '0');
  for (auto bad : {std::string("ed25519:"), std::string(example_key.substr(0, 71)), std::string(example_key) + "0",
                   "ED25519:" + std::string(example_key.substr(8)), upper, not_a_point, no_x,
                   "ed25519:" + std::string(example_key.substr(8, 62)) + "g0",
                   std::string(example_key.substr(8))}) {
    EXPECT_EQ(parse_public_key(bad).error(), errc::bad_key) << bad;
  }
  // y = 1 is the neutral element: a point, but "x = 0, negative" is not an encoding.
  EXPECT_TRUE(parse_public_key("ed25519:01" + std::string(62, '0')));
  EXPECT_FALSE(parse_public_key("ed25519:01" + std::string(60, '0') + "80"));
}

TEST(PeerchatAddress, StartChatForm) {
  EXPECT_EQ(start_chat_address("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(start_chat_address("[::1]:5000"), "::1");
  EXPECT_EQ(start_chat_address("[::ffff:10.0.0.1]:5000"), "10.0.0.1");
  EXPECT_EQ(start_chat_address("[2001:DB8:0:0:0:0:0:1]:5000"), "2001:db8::1");  // RFC 5952
  EXPECT_EQ(start_chat_address("[fe80::1%eth0]:5000"), "fe80::1");
  EXPECT_EQ(start_chat_address("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(start_chat_address("::ffff:10.0.0.1"), "10.0.0.1");
}

}  // namespace
}  // namespace parley::peerchat
