#include <gtest/gtest.h>

#include <future>

#include "impl/net/stream.hpp"

namespace parley::net {
namespace {

using namespace std::chrono_literals;

time_point soon(millis ms = 5000ms) { return clock_type::now() + ms; }

TEST(WsStream, KeepsMessageBoundaries) {
  auto l = std::move(*listen_ws("127.0.0.1", 0));
  auto server = std::async(std::launch::async, [&] { return l->accept(soon()); });
  auto c = connect_ws("127.0.0.1", l->port(), "/", soon());
  ASSERT_TRUE(c) << c.error().message();
  auto s = server.get();
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_FALSE((*c)->write(R"({"_command": "JoinMessage"})", soon()));
  ASSERT_FALSE((*c)->write(R"({"_command": "LeaveMessage"})", soon()));
  EXPECT_EQ((*s)->read_some(soon()).data, R"({"_command": "JoinMessage"})");
  EXPECT_EQ((*s)->read_some(soon()).data, R"({"_command": "LeaveMessage"})");
  EXPECT_EQ((*s)->read_some(soon(30ms)).status, read_status::timeout);
  (*c)->close();
  auto end = (*s)->read_some(soon());
  EXPECT_EQ(end.status, read_status::closed) << end.error.message() << " / " << end.error.category().name();
}

TEST(WsStream, OversizedMessageEndsTheStream) {
  auto l = std::move(*listen_ws("127.0.0.1", 0, 1024));
  auto server = std::async(std::launch::async, [&] { return l->accept(soon()); });
  auto c = connect_ws("127.0.0.1", l->port(), "/", soon());
  ASSERT_TRUE(c);
  auto s = server.get();
  ASSERT_TRUE(s);
  ASSERT_FALSE((*c)->write(std::string(4096, 'x'), soon()));
  EXPECT_NE((*s)->read_some(soon()).status, read_status::data);
}

TEST(WsStream, PlainTcpBytesAreNotAHandshake) {
  auto l = std::move(*listen_ws("127.0.0.1", 0));
  auto server = std::async(std::launch::async, [&] { return l->accept(soon(2000ms)).has_value(); });
  auto plain = std::move(*connect_tcp("127.0.0.1", l->port(), soon()));
  ASSERT_FALSE(plain->write("IDENT alice\n\r\n\r\n", soon()));
  EXPECT_FALSE(server.get());
}

}  // namespace
}  // namespace parley::net
