#include "conformance/adapters/securechat/ws_frames.hpp"

#include <gtest/gtest.h>

namespace parley::conform::securechat_frames {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

TEST(SecurechatWsFrames, Rfc6455Examples) {
  // RFC 6455 §5.7: a single-frame masked text message, "Hello", under the masking key 37 fa 21 3d.
  EXPECT_EQ(build("Hello", {}), bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  // The same, unmasked and cut in two: "He", then "llo" in a continuation frame with FIN.
  frame_spec two{.mask = false, .fragments = 2};
  EXPECT_EQ(build("Hello", two), bytes({0x01, 0x02, 'H', 'e', 0x80, 0x03, 'l', 'l', 'o'}));
}

TEST(SecurechatWsFrames, FlagsAndDeclaredLengths) {
  frame_spec odd{.opcode = 0x1b, .fin = false, .rsv = 5, .mask = false, .len_delta = 3};
  EXPECT_EQ(build("ab", odd), bytes({0x5b, 0x05, 'a', 'b'}));
  EXPECT_EQ(build("ab", {.mask = false, .len_delta = -9}), bytes({0x81, 0x00, 'a', 'b'}));
  // 16-bit and 64-bit lengths, in network order.
  std::string medium = build(std::string(300, 'x'), {.mask = false});
  EXPECT_EQ(medium.substr(0, 4), bytes({0x81, 126, 0x01, 0x2c}));
  std::string huge = build("x", {.mask = false, .len_delta = 0x10000});
  EXPECT_EQ(huge.substr(0, 10), bytes({0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x01}));
  // More fragments than bytes: one frame per byte.
  EXPECT_EQ(build("ab", {.mask = false, .fragments = 9}), bytes({0x01, 0x01, 'a', 0x80, 0x01, 'b'}));
}

}  // namespace
}  // namespace parley::conform::securechat_frames
