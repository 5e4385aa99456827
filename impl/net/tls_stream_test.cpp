#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "impl/core/crypto/x509.hpp"
#include "impl/net/stream.hpp"

namespace parley::net {
namespace {

using namespace std::chrono_literals;

time_point soon(millis ms = 5000ms) { return clock_type::now() + ms; }

struct tls_server {
  core::pkey key = *core::pkey::generate_rsa(2048);
  std::string cert = *core::make_self_signed_certificate(key, "127.0.0.1", 1);
  std::unique_ptr<listener> l = std::move(*listen_tls("127.0.0.1", 0, cert, key.private_pem()));

  // Accepts one connection on another thread and echoes what it reads once.
  std::future<bool> echo_once() {
    return std::async(std::launch::async, [this] {
      auto s = l->accept(soon());
      if (!s) return false;
      auto got = (*s)->read_some(soon());
      return got.status == read_status::data && !(*s)->write(got.data, soon());
    });
  }
};

TEST(TlsStream, PinnedClientTalksToSelfSignedServer) {
  tls_server server;
  auto served = server.echo_once();
  auto c = connect_tls("127.0.0.1", server.l->port(), {.pin_sha256 = *core::certificate_pin(server.cert)}, soon());
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_FALSE((*c)->write("AUTH aaa 123 \r\n", soon()));
  auto got = (*c)->read_some(soon());
  EXPECT_EQ(got.data, "AUTH aaa 123 \r\n");
  EXPECT_TRUE(served.get());
}

TEST(TlsStream, WrongPinIsRefused) {
  tls_server server;
  auto served = std::async(std::launch::async, [&] { return server.l->accept(soon(2000ms)).has_value(); });
  auto c = connect_tls("127.0.0.1", server.l->port(), {.pin_sha256 = std::string(64, '0')}, soon());
  EXPECT_EQ(c.error(), std::errc::permission_denied);
  served.get();
}

TEST(TlsStream, CaFileVerifiesNameAndChain) {
  tls_server server;
  auto path = std::filesystem::temp_directory_path() / "parley-tls-test-ca.pem";
  std::ofstream(path) << server.cert;
  auto served = server.echo_once();
  auto c = connect_tls("127.0.0.1", server.l->port(), {.ca_file = path.string()}, soon());
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_FALSE((*c)->write("x", soon()));
  EXPECT_TRUE(served.get());

  tls_server other;  // a different self-signed certificate is not trusted by that CA file
  auto refused = std::async(std::launch::async, [&] { return other.l->accept(soon(2000ms)).has_value(); });
  EXPECT_FALSE(connect_tls("127.0.0.1", other.l->port(), {.ca_file = path.string()}, soon()));
  refused.get();
  std::filesystem::remove(path);
}

TEST(TlsStream, PlainTcpClientDoesNotGetThrough) {
  tls_server server;
  auto accepted = std::async(std::launch::async, [&] { return server.l->accept(soon(2000ms)).has_value(); });
  auto plain = connect_tcp("127.0.0.1", server.l->port(), soon());
  ASSERT_TRUE(plain);
  ASSERT_FALSE((*plain)->write("AUTH aaa 123 \r\n", soon()));
  EXPECT_FALSE(accepted.get());
}

TEST(TlsStream, NeedsExactlyOneTrustMode) {
  EXPECT_EQ(connect_tls("127.0.0.1", 1, {}, soon()).error(), std::errc::invalid_argument);
  EXPECT_EQ(connect_tls("127.0.0.1", 1, {.pin_sha256 = "ab", .insecure = true}, soon()).error(),
            std::errc::invalid_argument);
}

TEST(UdpSocket, CarriesDatagramsAndTimesOut) {
  auto a = std::move(*bind_udp("127.0.0.1", 0));
  auto b = std::move(*bind_udp("127.0.0.1", 0));
  ASSERT_FALSE(a->send_to("alice\nMsg\nhi\n\n", "127.0.0.1", b->port()));
  auto got = b->receive(soon());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, "alice\nMsg\nhi\n\n");
  EXPECT_EQ(got->port, a->port());
  EXPECT_EQ(b->receive(soon(30ms)).error(), std::errc::timed_out);
}

}  // namespace
}  // namespace parley::net
