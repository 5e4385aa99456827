#include "impl/proto/multiparty/mtp.hpp"

#include <gtest/gtest.h>

#include "impl/core/crypto/digest.hpp"
#include "impl/proto/multiparty/payload.hpp"

namespace parley::multiparty {
namespace {

TEST(MultipartyFrame, HeaderIsTwentyFourBigEndianBytes) {
  header h{.type = 0x0200, .len = 0x0130, .sqn = 0x0102, .sid = 0x1122334455667788ULL, .uid = 0xa1a2a3a4a5a6a7a8ULL};
  bytes b = encode_header(h);
  ASSERT_EQ(b.size(), header_size);
  EXPECT_EQ(b, (bytes{1, 0, 2, 0, 1, 0x30, 1, 2, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                      0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}));
  EXPECT_EQ(decode_header(b), h);
  EXPECT_FALSE(decode_header(byte_view(b).first(23)));
}

TEST(MultipartyFrame, ReaderCutsByLenAcrossChunks) {
  auto key = core::random_bytes(32);
  auto a = *seal_frame(key, direction::to_server, {.type = 0x0400, .sqn = 2}, as_bytes("abc"));
  auto b = *seal_frame(key, direction::to_server, {.type = 0x0400, .sqn = 3}, {});
  bytes stream = a;
  stream.insert(stream.end(), b.begin(), b.end());
  frame_reader r;
  std::vector<bytes> got;
  for (std::size_t i = 0; i < stream.size(); i += 5) {
    r.feed(byte_view(stream).subspan(i, std::min<std::size_t>(5, stream.size() - i)));
    bytes f;
    while (r.next(f) == frame_reader::status::frame) got.push_back(f);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(b.size(), min_frame);
}

TEST(MultipartyFrame, LengthBelowTheMinimumBreaksTheStream) {
  frame_reader r;
  r.feed(bytes{1, 0, 0, 0, 0, 35});
  bytes f;
  EXPECT_EQ(r.next(f), frame_reader::status::bad_length);
}

TEST(MultipartyMtp, SealOpenAndEveryTamperingIsCaught) {
  auto key = core::random_bytes(32);
  header h{.type = 0x0200, .sqn = 7, .sid = 42, .uid = 99};
  auto frame = *seal_frame(key, direction::to_server, h, as_bytes("payload"));
  EXPECT_EQ(frame.size(), header_size + 7 + tag_size);
  auto opened = open_frame(key, direction::to_server, frame);
  ASSERT_TRUE(opened);
  EXPECT_EQ(parley::to_string(opened->payload), "payload");
  EXPECT_EQ(opened->h.sid, 42u);

  EXPECT_EQ(open_frame(key, direction::to_client, frame).error(), errc::bad_tag);  // the other direction's nonce
  for (std::size_t i : {8u, 16u, 24u, static_cast<unsigned>(frame.size() - 1)}) {  // header (AAD), body, tag
    auto t = frame;
    t[i] ^= 1;
    EXPECT_EQ(open_frame(key, direction::to_server, t).error(), errc::bad_tag) << i;
  }
  auto v = frame;
  v[0] = 2;
  EXPECT_EQ(open_frame(key, direction::to_server, v).error(), errc::bad_version);
  auto l = frame;
  l[5] ^= 1;
  EXPECT_EQ(open_frame(key, direction::to_server, l).error(), errc::bad_length);
  auto t = frame;
  t[2] = 9;
  EXPECT_EQ(open_frame(key, direction::to_server, t).error(), errc::unknown_type);
  EXPECT_EQ(seal_frame(key, direction::to_server, h, bytes(max_frame)).error(), errc::bad_length);
}

TEST(MultipartyMtp, NoncesDifferByDirectionAndSequence) {
  EXPECT_EQ(nonce_for(direction::to_server, 0x0102), (bytes{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2}));
  EXPECT_NE(nonce_for(direction::to_server, 1), nonce_for(direction::to_client, 1));
}

TEST(MultipartyMtp, SequenceIsStrictlyConsecutiveAndEnds) {
  sequence in;
  EXPECT_FALSE(in.accept(0));
  EXPECT_TRUE(in.accept(1));
  EXPECT_FALSE(in.accept(1));  // replay
  EXPECT_FALSE(in.accept(3));  // a frame went missing
  EXPECT_TRUE(in.accept(2));
  sequence out;
  for (int i = 1; i <= 0xffff; ++i) ASSERT_EQ(out.next_to_send(), i);
  EXPECT_EQ(out.next_to_send(), std::nullopt);  // never wraps to 0 under the same key
}

TEST(MultipartyPayload, UidLinesAndMessageParts) {
  EXPECT_EQ(parse_uid_lines("00000000000000ff\n0000000000000001\n"), (std::vector<user_id>{255, 1}));
  EXPECT_FALSE(parse_uid_lines(""));
  EXPECT_FALSE(parse_uid_lines("00000000000000ff"));
  EXPECT_FALSE(parse_uid_lines("xyz\n"));
  EXPECT_EQ(uid_lines({255, 1}), "00000000000000ff\n0000000000000001\n");
  auto parts = parse_message_parts("00000000000000ff QUJD\n0000000000000001 REVG\n");
  ASSERT_TRUE(parts);
  EXPECT_EQ((*parts)[0].to, 255u);
  EXPECT_EQ((*parts)[0].line, "00000000000000ff QUJD\n");
  EXPECT_FALSE(parse_message_parts("00000000000000ff not*base64\n"));
}

TEST(MultipartyPayload, PartsOpenOnlyForTheirRecipientSessionAndSender) {
  auto bob = *core::pkey::generate_rsa(2048);
  auto carol = *core::pkey::generate_rsa(2048);
  auto line = seal_part(bob, 2, 77, 1, "hello bob");
  ASSERT_TRUE(line);
  auto parts = parse_message_parts(*line);
  ASSERT_TRUE(parts);
  EXPECT_EQ((*parts)[0].to, 2u);
  EXPECT_EQ(*open_part(bob, 77, 1, (*parts)[0].part), "hello bob");
  EXPECT_FALSE(open_part(carol, 77, 1, (*parts)[0].part));
  EXPECT_FALSE(open_part(bob, 78, 1, (*parts)[0].part));  // replayed into another session
  EXPECT_FALSE(open_part(bob, 77, 3, (*parts)[0].part));  // claimed by another sender
}

}  // namespace
}  // namespace parley::multiparty
