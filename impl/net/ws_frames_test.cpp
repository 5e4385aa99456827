#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>

#include <future>

#include "impl/net/channel.hpp"
#include "impl/net/stream.hpp"
#include "impl/net/ws_frames.hpp"

namespace parley::net {
namespace {

using namespace std::chrono_literals;

// A server frame as the wire carries it: FIN, opcode, no mask, a 7-bit length.
std::string server_frame(bool fin, unsigned opcode, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  f.push_back(static_cast<char>(payload.size()));
  f.append(payload);
  return f;
}

TEST(WsFrames, HeaderLengthFollowsThePayloadsAndTheMask) {
  char header[ws_frames::max_header];
  EXPECT_EQ(ws_frames::text_frame_header(125, std::nullopt, header), 2u);
  EXPECT_EQ(static_cast<unsigned char>(header[1]), 125u);
  EXPECT_EQ(ws_frames::text_frame_header(126, std::nullopt, header), 4u);
  EXPECT_EQ(static_cast<unsigned char>(header[1]), 126u);
  EXPECT_EQ(ws_frames::text_frame_header(65535, std::nullopt, header), 4u);
  EXPECT_EQ(ws_frames::text_frame_header(65536, std::nullopt, header), 10u);
  EXPECT_EQ(static_cast<unsigned char>(header[1]), 127u);
  EXPECT_EQ(ws_frames::text_frame_header(5, 0x01020304u, header), 6u);
  EXPECT_EQ(static_cast<unsigned char>(header[1]), 0x85u);  // the mask bit
  EXPECT_EQ(std::string(header + 2, 4), std::string("\x01\x02\x03\x04", 4));
}

TEST(WsFrames, AMaskedPayloadUnmasksWithTheKeyItCarries) {
  std::string frame;
  ws_frames::append_text_frame(frame, "hello", 0xa1b2c3d4u);
  ASSERT_EQ(frame.size(), 2u + 4u + 5u);
  std::string payload = frame.substr(6);
  EXPECT_NE(payload, "hello");
  ws_frames::mask_payload(payload.data(), payload.size(), 0xa1b2c3d4u);
  EXPECT_EQ(payload, "hello");
}

TEST(WsFrames, FragmentsAreJoinedAndControlFramesPassedOver) {
  std::string in = server_frame(false, 1, "hel") + server_frame(true, 9, "ping") + server_frame(true, 0, "lo") +
                   server_frame(true, 1, "next");
  std::size_t begin = 0;
  std::string partial, problem;
  auto first = ws_frames::next_message(in, begin, partial, problem);
  ASSERT_TRUE(first) << problem;
  EXPECT_EQ(*first, "hello");
  auto second = ws_frames::next_message(in, begin, partial, problem);
  ASSERT_TRUE(second) << problem;
  EXPECT_EQ(*second, "next");
  EXPECT_EQ(begin, in.size());
  EXPECT_FALSE(ws_frames::next_message(in, begin, partial, problem));
  EXPECT_TRUE(problem.empty());
}

TEST(WsFrames, AMaskedFrameFromTheServerIsRefused) {
  std::string in;
  ws_frames::append_text_frame(in, "x", 1u);
  std::size_t begin = 0;
  std::string partial, problem;
  EXPECT_FALSE(ws_frames::next_message(in, begin, partial, problem));
  EXPECT_NE(problem.find("masked"), std::string::npos);
}

// The client side of the WebSocket channel against Beast's server (impl/net's blocking listener), which
// refuses a client frame without a mask: both messages arriving whole proves the channel masks them.
TEST(WsClientChannel, UpgradesSendsMaskedMessagesAndReadsTheServers) {
  auto l = std::move(*listen_ws("127.0.0.1", 0));
  auto server = std::async(std::launch::async, [&] {
    auto s = l->accept(clock_type::now() + 5s);
    std::vector<std::string> got;
    if (!s) return got;
    for (int i = 0; i < 2; ++i) got.push_back((*s)->read_some(clock_type::now() + 5s).data);
    (void)(*s)->write("welcome", clock_type::now() + 5s);
    (void)(*s)->read_some(clock_type::now() + 2s);  // the client's close
    return got;
  });
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), l->port()});
  std::string received, failure;
  std::vector<core::payload> batch{std::string(R"({"_command": "JoinMessage"})"), std::string(300, 'x')};
  channel_ptr held;
  held = open_ws_client_channel(std::move(socket), "127.0.0.1", "/", 1 << 20, [&](channel_ptr c, std::string why) {
    if (!why.empty()) {
      failure = why;
      return;
    }
    c->write(batch, [&failure](std::string error) { failure += error; });
    c->read([&, c](std::optional<std::string_view> data, std::string why_not) {
      if (data) received = *data;
      else failure += why_not;
      c->finish();
    });
  });
  io.run_for(5s);
  EXPECT_EQ(failure, "");
  EXPECT_EQ(received, "welcome");
  auto got = server.get();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], R"({"_command": "JoinMessage"})");
  EXPECT_EQ(got[1], std::string(300, 'x'));
}

}  // namespace
}  // namespace parley::net
