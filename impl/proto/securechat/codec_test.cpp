#include "impl/proto/securechat/codec.hpp"

#include <gtest/gtest.h>

namespace parley::securechat {
namespace {

envelope decoded_ok(std::string_view text) {
  auto d = decode(text);
  EXPECT_TRUE(std::holds_alternative<envelope>(d)) << text;
  if (auto* f = std::get_if<decode_failure>(&d)) ADD_FAILURE() << f->detail;
  return std::holds_alternative<envelope>(d) ? std::get<envelope>(d) : envelope{};
}

decode_failure decoded_bad(std::string_view text) {
  auto d = decode(text);
  EXPECT_TRUE(std::holds_alternative<decode_failure>(d)) << text;
  return std::holds_alternative<decode_failure>(d) ? std::get<decode_failure>(d) : decode_failure{};
}

// Byte-exact against what the original (Python dataclasses + json.dumps) sends (WIRE-NOTES).
TEST(SecurechatCodec, EncodesLikePythonJsonDumps) {
  EXPECT_EQ(encode({"id1", msg::join{"alice", "ab01"}}),
            R"({"_command": "JoinMessage", "id": "id1", "name": "alice", "signature": "ab01"})");
  EXPECT_EQ(encode({"i", msg::leave{}}), R"({"_command": "LeaveMessage", "id": "i"})");
  EXPECT_EQ(encode({"i", msg::routed_private{"bob", "00ff", "alice"}}),
            R"({"_command": "RoutedPrivateMessage", "id": "i", "to_name": "bob", "encrypted_text": "00ff", "from_name": "alice"})");
  EXPECT_EQ(encode({"i", msg::welcome{{{"a", "K\n"}, {"b", "L"}}}}),
            R"({"_command": "WelcomeMessage", "id": "i", "users": [{"name": "a", "public_key": "K\n"}, {"name": "b", "public_key": "L"}]})");
  EXPECT_EQ(encode({"i", msg::welcome{}}), R"({"_command": "WelcomeMessage", "id": "i", "users": []})");
  EXPECT_EQ(encode({"i", msg::error{"Invalid JSON", std::nullopt}}),
            R"({"_command": "ErrorMessage", "id": "i", "text": "Invalid JSON", "ref_message_id": null})");
  EXPECT_EQ(encode({"i", msg::error{"x", "r"}}), R"({"_command": "ErrorMessage", "id": "i", "text": "x", "ref_message_id": "r"})");
}

TEST(SecurechatCodec, EscapesAsEnsureAscii) {
  EXPECT_EQ(python_json_string("a\"b\\c\n\t\x01\x7f"), R"("a\"b\\c\n\t\u0001)" "\x7f\"");
  EXPECT_EQ(python_json_string("h\xc3\xa9llo"), R"("h\u00e9llo")");
  EXPECT_EQ(python_json_string("\xf0\x9f\x98\x80"), R"("\ud83d\ude00")");  // U+1F600: a surrogate pair
  EXPECT_EQ(python_json_string("\xff"), R"("\ufffd")");
  // Long texts are scanned a word at a time: a byte to escape anywhere in a word is still escaped.
  auto inner = [](std::string_view text) {
    std::string quoted = python_json_string(text);
    return quoted.substr(1, quoted.size() - 2);
  };
  for (char special : {'"', '\\', '\n', '\x1f', '\x01', '\x7f', ' ', '~'}) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string text(24, 'a');
      text[at] = special;
      EXPECT_EQ(python_json_string(text), '"' + std::string(at, 'a') + inner(std::string(1, special)) +
                                              std::string(23 - at, 'a') + '"')
          << "byte " << int(special) << " at " << at;
    }
  }
  EXPECT_EQ(python_json_string(std::string(16, 'x') + "h\xc3\xa9"), '"' + std::string(16, 'x') + R"(h\u00e9")");
  EXPECT_EQ(python_json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // an encoded surrogate is invalid
}

TEST(SecurechatCodec, DecodesEveryMessageAndRoundTrips) {
  for (const envelope& e : std::vector<envelope>{
           {"1", msg::join{"alice", "00"}},
           {"2", msg::leave{}},
           {"3", msg::public_text{"hi \xc3\xa9", std::nullopt}},
           {"4", msg::private_text{"bob", "abcd", std::nullopt}},
           {"5", msg::routed_private{"bob", "abcd", "alice"}},
           {"6", msg::routed_public{"t", "alice"}},
           {"7", msg::welcome{{{"a", "k"}}}},
           {"8", msg::add_user{"a", "k"}},
           {"9", msg::remove_user{"a"}},
           {"10", msg::error{"e", "3"}},
           {"11", msg::error{"e", std::nullopt}},
       }) {
    std::string text = encode(e);
    envelope back = decoded_ok(text);
    EXPECT_EQ(back.id, e.id);
    EXPECT_EQ(back.body.index(), e.body.index());
    EXPECT_EQ(encode(back), text);
  }
}

TEST(SecurechatCodec, AcceptsAnyLayoutAndIgnoresUnknownFields) {
  auto e = decoded_ok(R"({ "text":"x","extra":[1,{"a":2}],"id":"q" ,"_command":"PublicMessage","from_name":"mallory"})");
  auto& m = std::get<msg::public_text>(e.body);
  EXPECT_EQ(m.text, "x");
  EXPECT_EQ(m.claimed_from, "mallory");
}

TEST(SecurechatCodec, ReportsWhatIsWrongAndKeepsTheId) {
  EXPECT_EQ(decoded_bad("{nope").kind, decode_error::invalid_json);
  EXPECT_EQ(decoded_bad("[1]").kind, decode_error::not_an_object);
  EXPECT_EQ(decoded_bad(R"({"id":"x"})").kind, decode_error::bad_envelope);
  EXPECT_EQ(decoded_bad(R"({"id":"x"})").id, "x");
  EXPECT_EQ(decoded_bad(R"({"_command":"LeaveMessage"})").kind, decode_error::bad_envelope);
  EXPECT_EQ(decoded_bad(R"({"_command":"LeaveMessage","id":7})").id, std::nullopt);
  EXPECT_EQ(decoded_bad(R"({"_command":"JoinMessage","id":"j","name":3,"signature":"00"})").field, "name");
  EXPECT_EQ(decoded_bad(R"({"_command":"JoinMessage","id":"j","name":3,"signature":"00"})").command, "JoinMessage");
  EXPECT_EQ(decoded_bad(R"({"_command":"LeaveMessage","id":""})").kind, decode_error::bad_envelope);

  auto unknown = decoded_bad(R"({"_command":"Bogus","id":"u1"})");
  EXPECT_EQ(unknown.kind, decode_error::unknown_command);
  EXPECT_EQ(unknown.id, "u1");

  auto wrong_type = decoded_bad(R"({"_command":"PublicMessage","id":"p1","text":5})");
  EXPECT_EQ(wrong_type.kind, decode_error::bad_field);
  EXPECT_EQ(wrong_type.id, "p1");
  EXPECT_NE(wrong_type.detail.find("text"), std::string::npos);

  EXPECT_EQ(decoded_bad(R"({"_command":"PrivateMessage","id":"p","to_name":"b","encrypted_text":"xyz1"})").kind,
            decode_error::bad_field);
  EXPECT_EQ(decoded_bad(R"({"_command":"PrivateMessage","id":"p","to_name":"b","encrypted_text":"abc"})").kind,
            decode_error::bad_field);
  EXPECT_EQ(decoded_bad(R"({"_command":"PrivateMessage","id":"p","to_name":"b","encrypted_text":""})").kind,
            decode_error::bad_field);
  EXPECT_EQ(decoded_bad(R"({"_command":"WelcomeMessage","id":"w","users":[{"name":"a"}]})").kind, decode_error::bad_field);
  EXPECT_EQ(decoded_bad(R"({"_command":"ErrorMessage","id":"e","text":"t"})").kind, decode_error::bad_field);
}

TEST(SecurechatCodec, EnforcesLimits) {
  std::string long_text(max_text + 1, 'x');
  EXPECT_EQ(decoded_bad(R"({"_command":"PublicMessage","id":"p","text":")" + long_text + "\"}").kind,
            decode_error::bad_field);
  std::string ok_text(max_text, 'x');
  decoded_ok(R"({"_command":"PublicMessage","id":"p","text":")" + ok_text + "\"}");
  std::string long_id(max_id + 1, 'i');
  EXPECT_EQ(decoded_bad(R"({"_command":"LeaveMessage","id":")" + long_id + "\"}").kind, decode_error::bad_envelope);
  EXPECT_EQ(decoded_bad(R"({"_command":"LeaveMessage","id":")" + long_id + "\"}").id, long_id);  // still readable

  std::string deep(max_depth, '[');
  deep += std::string(max_depth, ']');
  EXPECT_EQ(decoded_bad(R"({"_command":"LeaveMessage","id":"d","x":)" + deep + "}").kind, decode_error::invalid_json);
  std::string shallow(max_depth - 1, '[');
  shallow += std::string(max_depth - 1, ']');
  decoded_ok(R"({"_command":"LeaveMessage","id":"d","x":)" + shallow + "}");
  // Brackets inside strings are text, not nesting.
  decoded_ok(R"({"_command":"PublicMessage","id":"d","text":")" + std::string(100, '[') + "\\\"{\"}");
  // A string ends at a quote after an even number of backslashes; what follows it counts again.
  decoded_ok(R"({"_command":"PublicMessage","id":"d","text":"\\\\\"[[[[\\\\"})");
  std::string after_escapes = R"({"_command":"LeaveMessage","id":"d","a":"x\\\\","x":)" + deep + "}";
  EXPECT_EQ(decoded_bad(after_escapes).kind, decode_error::invalid_json);
  EXPECT_NE(decoded_bad(after_escapes).detail.find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace parley::securechat
