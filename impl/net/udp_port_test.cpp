#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "impl/net/udp_port.hpp"

namespace parley::net {
namespace {

using namespace std::chrono_literals;

auto ignore = [](std::string_view, const std::string&, unsigned short) {};

// Two ports on loopback: each datagram arrives whole with its sender's address and port, a large one too
// (60,000 bytes: cut, it would be a different datagram), and a closed port hears nothing more.
TEST(UdpPort, DatagramsArriveWholeWithTheirSender) {
  boost::asio::io_context io;
  std::vector<std::string> heard;
  std::string from;
  unsigned short from_port = 0;
  auto a = open_udp_port(io, "127.0.0.1", 0, [&](std::string_view data, const std::string& f, unsigned short p) {
    heard.emplace_back(data);
    from = f;
    from_port = p;
  });
  ASSERT_TRUE(a) << a.error().message();
  auto b = open_udp_port(io, "127.0.0.1", 0, ignore);
  ASSERT_TRUE(b) << b.error().message();
  ASSERT_NE((*a)->port(), 0);
  (*b)->send_to("127.0.0.1", (*a)->port(), "hello");
  (*b)->send_to("127.0.0.1", (*a)->port(), std::string(60000, 'z'));
  io.run_for(200ms);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0], "hello");
  EXPECT_EQ(heard[1], std::string(60000, 'z'));
  EXPECT_EQ(from, "127.0.0.1");
  EXPECT_EQ(from_port, (*b)->port());
  auto port = (*a)->port();
  (*a)->close();
  (*b)->send_to("127.0.0.1", port, "after the close");
  io.restart();
  io.run_for(50ms);
  EXPECT_EQ(heard.size(), 2u);
}

TEST(UdpPort, APortInUseOrABadAddressIsAnError) {
  boost::asio::io_context io;
  auto a = open_udp_port(io, "127.0.0.1", 0, ignore);
  ASSERT_TRUE(a);
  EXPECT_FALSE(open_udp_port(io, "127.0.0.1", (*a)->port(), ignore));
  EXPECT_FALSE(open_udp_port(io, "not-an-address", 0, ignore));
}

}  // namespace
}  // namespace parley::net
