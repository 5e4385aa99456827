#include "impl/net/traffic_tap.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "impl/core/crypto/x509.hpp"
#include "impl/net/stream.hpp"

namespace parley::net {
namespace {

using namespace std::chrono_literals;

time_point soon(millis ms = 5000ms) { return clock_type::now() + ms; }

// Writes down everything a tap is told, one line per event, per connection.
struct recording_tap final : traffic_tap {
  struct connection final : connection_tap {
    connection(recording_tap& o, std::size_t i) : owner(o), index(i) {}
    void on_bytes(direction d, std::string_view bytes, time_point) override {
      std::lock_guard lock(owner.m);
      auto& log = owner.events[index];
      std::string tag = d == direction::out ? "out " : "in ";
      // Consecutive reads or writes are one run of bytes: how the kernel splits them is not the point.
      if (!log.empty() && log.back().starts_with(tag)) log.back().append(bytes);
      else log.push_back(tag + std::string(bytes));
    }
    void on_end(direction d, bool reset, time_point) override {
      std::lock_guard lock(owner.m);
      owner.events[index].push_back(std::string(d == direction::out ? "end out" : "end in") + (reset ? " RST" : ""));
    }
    recording_tap& owner;
    std::size_t index;
  };

  std::unique_ptr<connection_tap> on_open(const endpoint& local, const endpoint& remote, bool initiated,
                                          time_point) override {
    std::lock_guard lock(m);
    opens.push_back(std::string(initiated ? "connect " : "accept ") + local.address + ":" + std::to_string(local.port) +
                    " " + remote.address + ":" + std::to_string(remote.port));
    events.emplace_back();
    return std::make_unique<connection>(*this, events.size() - 1);
  }
  void on_datagram(direction d, const endpoint& local, const endpoint& remote, std::string_view bytes,
                   time_point) override {
    std::lock_guard lock(m);
    datagrams.push_back(std::string(d == direction::out ? "out " : "in ") + std::to_string(local.port) + " " +
                        std::to_string(remote.port) + " " + std::string(bytes));
  }
  void on_tls_secret(std::string_view line) override {
    std::lock_guard lock(m);
    secrets.emplace_back(line);
  }

  std::mutex m;
  std::vector<std::string> opens, datagrams, secrets;
  std::vector<std::vector<std::string>> events;
};

TEST(TrafficTap, SeesTcpBytesAndEndsOfBothSides) {
  recording_tap client_tap, server_tap;
  auto l = std::move(*listen_tcp("127.0.0.1", 0, &server_tap));
  auto client = std::move(*connect_tcp("127.0.0.1", l->port(), soon(), {}, &client_tap));
  auto server = std::move(*l->accept(soon()));
  ASSERT_FALSE(client->write("hello\n", soon()));
  EXPECT_EQ(server->read_some(soon()).data, "hello\n");
  ASSERT_FALSE(server->write("hi\n", soon()));
  EXPECT_EQ(client->read_some(soon()).data, "hi\n");
  client->shutdown_send();
  EXPECT_EQ(server->read_some(soon()).status, read_status::closed);
  server->reset();
  EXPECT_EQ(client->read_some(soon()).status, read_status::reset);
  client.reset();
  server.reset();

  ASSERT_EQ(client_tap.opens.size(), 1u);
  EXPECT_TRUE(client_tap.opens[0].starts_with("connect 127.0.0.1:")) << client_tap.opens[0];
  EXPECT_TRUE(client_tap.opens[0].ends_with(" 127.0.0.1:" + std::to_string(l->port()))) << client_tap.opens[0];
  EXPECT_EQ(client_tap.events[0], (std::vector<std::string>{"out hello\n", "in hi\n", "end out", "end in RST"}));
  ASSERT_EQ(server_tap.opens.size(), 1u);
  EXPECT_TRUE(server_tap.opens[0].starts_with("accept 127.0.0.1:" + std::to_string(l->port()) + " "));
  EXPECT_EQ(server_tap.events[0], (std::vector<std::string>{"in hello\n", "out hi\n", "end in", "end out RST"}));
}

TEST(TrafficTap, TellsAResetAfterAFinButNoSecondFin) {
  recording_tap tap;
  auto l = std::move(*listen_tcp("127.0.0.1", 0));
  auto client = std::move(*connect_tcp("127.0.0.1", l->port(), soon(), {}, &tap));
  auto server = std::move(*l->accept(soon()));
  client->shutdown_send();
  client->close();
  client->reset();
  client.reset();
  EXPECT_EQ(tap.events[0], (std::vector<std::string>{"end out"}));

  auto again = std::move(*connect_tcp("127.0.0.1", l->port(), soon(), {}, &tap));
  again->shutdown_send();
  again->reset();
  again.reset();
  EXPECT_EQ(tap.events[1], (std::vector<std::string>{"end out", "end out RST"}));
}

TEST(TrafficTap, SeesTlsRecordsAndLogsTheSecrets) {
  recording_tap client_tap, server_tap;
  core::pkey key = *core::pkey::generate_rsa(2048);
  std::string cert = *core::make_self_signed_certificate(key, "127.0.0.1", 1);
  auto l = std::move(*listen_tls("127.0.0.1", 0, cert, key.private_pem(), &server_tap));
  auto served = std::async(std::launch::async, [&] {
    auto s = l->accept(soon());
    if (!s) return std::string("accept failed");
    auto got = (*s)->read_some(soon());
    (*s)->close_gracefully(soon(500ms));
    return got.data;
  });
  auto c = connect_tls("127.0.0.1", l->port(), {.insecure = true}, soon(), &client_tap);
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_FALSE((*c)->write("AUTH aaa 123 \r\n", soon()));
  EXPECT_EQ(served.get(), "AUTH aaa 123 \r\n");
  c->reset();

  // The raw records: a ClientHello (content type 22, handshake) first, and never the plaintext.
  ASSERT_FALSE(client_tap.events[0].empty());
  const std::string& hello = client_tap.events[0][0];
  ASSERT_GT(hello.size(), 10u);
  EXPECT_EQ(hello.substr(0, 5), "out \x16");
  for (const auto& e : client_tap.events[0]) EXPECT_EQ(e.find("AUTH aaa"), std::string::npos);
  // Both ends know the same secrets: NSS key log lines, TLS 1.3's traffic secrets among them.
  auto has = [](const std::vector<std::string>& lines, std::string_view label) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& s) { return s.starts_with(label); });
  };
  EXPECT_TRUE(has(client_tap.secrets, "CLIENT_TRAFFIC_SECRET_0 "));
  EXPECT_TRUE(has(server_tap.secrets, "CLIENT_TRAFFIC_SECRET_0 "));
  EXPECT_EQ(client_tap.secrets.size(), server_tap.secrets.size());
}

TEST(TrafficTap, SeesWebSocketFramesAndTheUpgrade) {
  recording_tap tap;
  auto l = std::move(*listen_ws("127.0.0.1", 0));
  auto served = std::async(std::launch::async, [&] {
    auto s = l->accept(soon());
    return s ? (*s)->read_some(soon()).data : std::string("accept failed");
  });
  auto c = connect_ws("127.0.0.1", l->port(), "/", soon(), 1 << 20, &tap);
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_FALSE((*c)->write("{}", soon()));
  EXPECT_EQ(served.get(), "{}");
  c->reset();
  ASSERT_GE(tap.events[0].size(), 3u);
  EXPECT_TRUE(tap.events[0][0].starts_with("out GET / HTTP/1.1\r\n")) << tap.events[0][0];
  EXPECT_TRUE(tap.events[0][1].starts_with("in HTTP/1.1 101 ")) << tap.events[0][1];
  // The text frame after the upgrade: FIN + text opcode, masked, 2 bytes of payload.
  ASSERT_TRUE(tap.events[0][2].starts_with("out "));
  auto frame = tap.events[0][2].substr(4);
  ASSERT_EQ(frame.size(), 2u + 4 + 2);
  EXPECT_EQ(static_cast<unsigned char>(frame[0]), 0x81);
  EXPECT_EQ(static_cast<unsigned char>(frame[1]), 0x82);
}

TEST(TrafficTap, SeesDatagramsBothWays) {
  recording_tap tap;
  auto a = std::move(*bind_udp("127.0.0.1", 0, &tap));
  auto b = std::move(*bind_udp("127.0.0.1", 0));
  ASSERT_FALSE(a->send_to("ping", "127.0.0.1", b->port()));
  auto got = b->receive(soon());
  ASSERT_TRUE(got);
  ASSERT_FALSE(b->send_to("pong", "127.0.0.1", a->port()));
  ASSERT_TRUE(a->receive(soon()));
  auto ports = std::to_string(a->port()) + " " + std::to_string(b->port());
  EXPECT_EQ(tap.datagrams, (std::vector<std::string>{"out " + ports + " ping", "in " + ports + " pong"}));
}

TEST(TrafficTap, UntappedStreamsAreUnchanged) {
  auto l = std::move(*listen_tcp("127.0.0.1", 0));
  auto client = std::move(*connect_tcp("127.0.0.1", l->port(), soon()));
  auto server = std::move(*l->accept(soon()));
  EXPECT_EQ(client->local(), server->peer());
  EXPECT_EQ(client->peer(), server->local());
}

}  // namespace
}  // namespace parley::net
