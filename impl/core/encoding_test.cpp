#include "impl/core/encoding.hpp"

#include <gtest/gtest.h>

namespace parley::core {
namespace {

// RFC 4648 section 10 test vectors.
struct vector {
  std::string_view plain, b64;
};
constexpr vector rfc4648[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},       {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};

TEST(Base64, EncodesAndDecodesRfc4648Vectors) {
  for (auto v : rfc4648) {
    EXPECT_EQ(to_base64(as_bytes(v.plain)), v.b64);
    auto decoded = from_base64(v.b64);
    ASSERT_TRUE(decoded) << v.b64;
    EXPECT_EQ(to_string(*decoded), v.plain);
  }
}

TEST(Base64, RejectsNonCanonicalInput) {
  for (std::string_view bad : {"Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm9v!", "Zm 9v", "====", "Zm9vY==="}) {
    EXPECT_EQ(from_base64(bad).error(), errc::invalid_base64) << bad;
  }
}

TEST(Hex, RoundTripsAndRejectsBadDigits) {
  bytes data{0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(to_hex(data), "007f80ff");
  EXPECT_EQ(*from_hex("007F80ff"), data);
  EXPECT_EQ(from_hex("abc").error(), errc::invalid_hex);
  EXPECT_EQ(from_hex("zz").error(), errc::invalid_hex);
}

TEST(Printable, EscapesEveryByteOutsidePrintableAscii) {
  EXPECT_EQ(printable(""), "");
  EXPECT_EQ(printable("AUTH aaa 123 \r\n"), "AUTH aaa 123 \\r\\n");
  EXPECT_EQ(printable(std::string_view("a\\b\0\x1f\x7f\x80\xff~ ", 10)), "a\\\\b\\x00\\x1f\\x7f\\x80\\xff~ ");
  // Every byte value: shown as is exactly when printable and not the escape character.
  for (int c = 0; c < 256; ++c) {
    std::string one(1, static_cast<char>(c));
    bool as_is = c >= 0x20 && c < 0x7f && c != '\\';
    EXPECT_EQ(printable(one) == one, as_is) << c;
  }
}

}  // namespace
}  // namespace parley::core
