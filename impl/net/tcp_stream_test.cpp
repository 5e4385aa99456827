#include "impl/net/stream.hpp"

#include <gtest/gtest.h>

namespace parley::net {
namespace {

using namespace std::chrono_literals;

time_point soon(millis ms = 2000ms) { return clock_type::now() + ms; }

struct pair {
  std::unique_ptr<listener> server_side = std::move(*listen_tcp("127.0.0.1", 0));
  std::unique_ptr<stream> client = std::move(*connect_tcp("127.0.0.1", server_side->port(), soon()));
  std::unique_ptr<stream> server = std::move(*server_side->accept(soon()));
};

TEST(TcpStream, CarriesBytesBothWays) {
  pair p;
  ASSERT_FALSE(p.client->write("hello\n", soon()));
  auto got = p.server->read_some(soon());
  ASSERT_EQ(got.status, read_status::data);
  EXPECT_EQ(got.data, "hello\n");
}

TEST(TcpStream, TellsFinFromRstFromTimeout) {
  pair p;
  EXPECT_EQ(p.server->read_some(soon(50ms)).status, read_status::timeout);
  p.client->shutdown_send();
  EXPECT_EQ(p.server->read_some(soon()).status, read_status::closed);

  pair q;
  q.client->reset();
  EXPECT_EQ(q.server->read_some(soon()).status, read_status::reset);
}

TEST(TcpStream, AcceptAndConnectTimeOut) {
  auto l = std::move(*listen_tcp("127.0.0.1", 0));
  EXPECT_EQ(l->accept(soon(30ms)).error(), std::errc::timed_out);
}

TEST(HostPort, Splits) {
  std::string host;
  unsigned short port = 0;
  EXPECT_TRUE(split_host_port("127.0.0.1:1337", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 1337);
  EXPECT_TRUE(split_host_port("[::1]:80", host, port));
  EXPECT_EQ(host, "::1");
  for (std::string_view bad : {"nohost", ":80", "h:", "h:0", "h:70000", "h:12x"})
    EXPECT_FALSE(split_host_port(bad, host, port)) << bad;
}

}  // namespace
}  // namespace parley::net
