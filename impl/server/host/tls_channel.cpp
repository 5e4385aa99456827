// TLS over TCP (sslmessager): a unit is whatever one read of the decrypted stream returned; framing is the
// hub's business. The handshake is bounded, so a peer that never finishes it holds nothing for long
// (SSLM-TLS-07), and the close sends close_notify first, bounded too. A batch of units is one record each
// (the original's one-read-one-message parser needs that, SSLM-FRAME-02), all sent in one write.
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "impl/server/host/unit_batch.hpp"

namespace parley::host::detail {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

constexpr auto handshake_limit = std::chrono::seconds(10);
constexpr auto close_limit = std::chrono::seconds(2);

class tls_channel final : public channel, public std::enable_shared_from_this<tls_channel> {
public:
  tls_channel(tcp::socket socket, std::shared_ptr<ssl::context> context)
      : context_(std::move(context)), stream_(std::move(socket), *context_), timer_(stream_.get_executor()) {}

  void handshake(ready_handler ready) {
    timer_.expires_after(handshake_limit);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->drop();  // the handshake then fails with operation_aborted
    });
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this(), ready](boost::system::error_code ec) {
      self->timer_.cancel();
      if (ec) ready(self, "TLS handshake failed: " + ec.message());
      else ready(self, {});
    });
  }

  void read(read_handler handler) override {
    stream_.async_read_some(asio::buffer(buffer_), [self = shared_from_this(), handler](boost::system::error_code ec,
                                                                                         std::size_t n) {
      if (!ec) return handler(std::string_view(self->buffer_.data(), n), {});
      bool closed = ec == asio::error::eof || ec == ssl::error::stream_truncated;
      handler(std::nullopt, closed ? "peer closed" : ec.message());
    });
  }

  void write(std::span<const core::payload> units, write_handler handler) override {
    unit_batch<tls_channel>::start(shared_from_this(), units, std::move(handler));
  }

  // For unit_batch. One unit, one async_write: OpenSSL makes it one record (up to 16 KiB).
  unit_batch<tls_channel>& batch() { return batch_; }
  net::detail::batching_socket& socket() { return stream_.next_layer(); }
  template <class Handler>
  void write_unit(const core::payload& unit, Handler&& handler) {
    asio::async_write(stream_, asio::buffer(unit.data(), unit.size()), std::forward<Handler>(handler));
  }

  void finish() override {
    if (closing_) return;
    closing_ = true;
    timer_.expires_after(close_limit);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->drop();
    });
    stream_.async_shutdown([self = shared_from_this()](boost::system::error_code) { self->drop(); });
  }

  void drop() override {
    boost::system::error_code ignored;
    timer_.cancel();
    stream_.lowest_layer().close(ignored);
  }

  void abort() override {
    boost::system::error_code ignored;
    stream_.lowest_layer().set_option(asio::socket_base::linger(true, 0), ignored);
    drop();
  }

private:
  std::shared_ptr<ssl::context> context_;
  ssl::stream<net::detail::batching_socket> stream_;
  unit_batch<tls_channel> batch_;
  asio::steady_timer timer_;
  std::array<char, 8192> buffer_{};
  bool closing_ = false;
};

}  // namespace

channel_ptr open_tls_channel(tcp::socket socket, std::shared_ptr<ssl::context> context, ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  // Data the peer has not acknowledged within 10 s aborts the connection, so a peer that vanished without
  // FIN or RST is found by the next CHECK (SSLM-CHECK-04).
  unsigned int user_timeout_ms = 10000;
  setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
  auto c = std::make_shared<tls_channel>(std::move(socket), std::move(context));
  c->handshake(std::move(ready));
  return c;
}

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& certificate_pem, const std::string& key_pem,
                                                      std::string& problem) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 at least; for 1.2 only ECDHE key exchange with AEAD ciphers (SSLM-TLS-02). No client
  // certificates are asked for (SSLM-TLS-04) and no 0-RTT data is accepted (SSLM-TLS-05).
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_cipher_list(context->native_handle(), "ECDHE+AESGCM:ECDHE+CHACHA20");
  SSL_CTX_set_max_early_data(context->native_handle(), 0);
  boost::system::error_code ec;
  context->use_certificate_chain(asio::buffer(certificate_pem), ec);
  if (ec) {
    problem = "the certificate PEM cannot be used: " + ec.message();
    return nullptr;
  }
  context->use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) {
    problem = "the private key PEM cannot be used: " + ec.message();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    problem = "the private key does not belong to the certificate";
    return nullptr;
  }
  return context;
}

}  // namespace parley::host::detail
