// TLS over TCP (sslmessager, peerchat with TLS), either side: OpenSSL on memory BIOs, driven by the channel
// itself. A unit is whatever one SSL_read returned (at most one record, at most 8 KiB); framing is the
// owner's business. A batch of units is one record each (the original's one-read-one-message parser needs that, SSLM-FRAME-02), sealed straight
// into one buffer and sent in one write: no composed operation, no copy through a BIO pair, per record.
// The handshake is bounded, so a peer that never finishes it holds nothing for long (SSLM-TLS-07); the
// close sends close_notify, then reads until the peer's end, bounded too, so that unread input does not turn
// the close into a reset.
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "impl/net/channel.hpp"
#include "impl/net/detail/batching_socket.hpp"

namespace parley::net {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

constexpr auto handshake_limit = std::chrono::seconds(10);
constexpr auto close_limit = std::chrono::seconds(2);
constexpr std::size_t max_unit = 8192;

// OpenSSL's reason for the last failure on this thread, and the queue left empty for the next call.
std::string openssl_reason(const char* fallback) {
  std::string why = fallback;
  if (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    why = text;
  }
  ERR_clear_error();
  return why;
}

class tls_channel final : public channel, public std::enable_shared_from_this<tls_channel> {
public:
  // `server_name` empty: the server side; else the client side, with it as SNI.
  tls_channel(tcp::socket socket, std::shared_ptr<ssl::context> context, std::shared_ptr<read_buffer> buffer,
              const std::string& server_name)
      : link_(std::move(socket)), context_(std::move(context)), buffer_(std::move(buffer)),
        ssl_(SSL_new(context_->native_handle())), timer_(link_.get_executor()) {
    boost::system::error_code ignored;
    link_.next_layer().non_blocking(true, ignored);  // read_some below returns would_block instead of waiting
    if (!ssl_) return;
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in_, -1);  // an empty input BIO means "wait for more", not the end of the stream
    SSL_set_bio(ssl_.get(), in_, out_);
    if (server_name.empty()) {
      SSL_set_accept_state(ssl_.get());
    } else {
      SSL_set_connect_state(ssl_.get());
      SSL_set_tlsext_host_name(ssl_.get(), server_name.c_str());
    }
  }

  void handshake(ready_handler ready) {
    if (!ssl_) return ready(shared_from_this(), "TLS handshake failed: " + openssl_reason("no TLS session"));
    timer_.expires_after(handshake_limit);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->drop();  // the handshake's wait then fails
    });
    step_handshake(std::move(ready));
  }

  void read(read_handler handler) override {
    // Asked from the handler of the last unit: deliver goes on with it when that handler returns.
    if (delivering_) {
      next_ = std::move(handler);
      return;
    }
    // A record already received is decrypted from a posted handler, never inline.
    if (records_waiting()) {
      asio::post(link_.get_executor(), [self = shared_from_this(), handler = std::move(handler)]() mutable {
        self->deliver(std::move(handler));
      });
      return;
    }
    receive([self = shared_from_this(), handler](std::string error) mutable {
      if (!error.empty()) return handler(std::nullopt, error);
      self->deliver(std::move(handler));
    });
  }

  void write(std::span<const core::payload> units, write_handler handler) override {
    ERR_clear_error();
    for (const auto& unit : units) {
      // SSL_write takes a unit whole (no partial writes into a memory BIO) as one record, or several of
      // at most 16 KiB each for a longer one.
      if (!unit.str().empty() && SSL_write(ssl_.get(), unit.data(), static_cast<int>(unit.size())) <= 0) {
        auto why = openssl_reason("TLS write failed");
        return asio::post(link_.get_executor(), [handler = std::move(handler), why] { handler(why); });
      }
    }
    send_sealed();
    after_flush([handler = std::move(handler)](boost::system::error_code ec) {
      handler(ec ? ec.message() : std::string{});
    });
  }

  void finish() override {
    if (closing_) return;
    closing_ = true;
    timer_.expires_after(close_limit);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->drop();
    });
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // close_notify into the output
    ERR_clear_error();
    send_sealed();
    after_flush([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->drop();
      boost::system::error_code ignored;
      self->socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->drain_until_end();
    });
  }

  void drop() override {
    boost::system::error_code ignored;
    timer_.cancel();
    socket().close(ignored);
  }

  void abort() override {
    boost::system::error_code ignored;
    socket().set_option(asio::socket_base::linger(true, 0), ignored);
    drop();
  }

  ssl_st* tls_session() override { return ssl_.get(); }

private:
  void step_handshake(ready_handler ready) {
    ERR_clear_error();
    int result = SSL_do_handshake(ssl_.get());
    int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
    std::string why = error == SSL_ERROR_NONE || error == SSL_ERROR_WANT_READ ? "" : openssl_reason("TLS handshake failed");
    send_sealed();  // this side's flight, or the alert that ends a failed handshake
    if (error == SSL_ERROR_NONE) {
      timer_.cancel();
      return ready(shared_from_this(), {});
    }
    if (!why.empty()) return ready(shared_from_this(), "TLS handshake failed: " + why);
    receive([self = shared_from_this(), ready = std::move(ready)](std::string failure) mutable {
      if (!failure.empty()) return ready(self, "TLS handshake failed: " + failure);
      self->step_handshake(std::move(ready));
    });
  }

  bool records_waiting() { return BIO_ctrl_pending(in_) > 0 || SSL_pending(ssl_.get()) > 0; }

  // SSL_read into the host's shared buffer, each result handed over at once (a chunk is valid until its
  // handler returns), more input first when no whole record is in. Everything already received (at most
  // one socket read, 64 KiB) goes to the host in one turn of the loop: what it makes for other connections
  // leaves in one batch per connection, not one per record, and a line cut between two units is not left
  // half-read while other connections take their turns (past the fragment timeout, SSLM-FRAME-05, the
  // hub would take its first half for a whole message).
  void deliver(read_handler handler) {
    auto& buffer = *buffer_;
    for (;;) {
      ERR_clear_error();
      int n = SSL_read(ssl_.get(), buffer.data(), static_cast<int>(max_unit));
      int error = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), n);
      std::string why = error == SSL_ERROR_NONE || error == SSL_ERROR_WANT_READ || error == SSL_ERROR_ZERO_RETURN
                            ? ""
                            : openssl_reason("TLS read failed");
      send_sealed();  // what reading made: an alert, an answer to a key update
      if (error == SSL_ERROR_ZERO_RETURN) return handler(std::nullopt, "peer closed");
      if (!why.empty()) return handler(std::nullopt, why);
      if (error != SSL_ERROR_NONE) break;
      delivering_ = true;
      handler(std::string_view(buffer.data(), static_cast<std::size_t>(n)), {});
      delivering_ = false;
      if (!next_) return;  // the host asked for no more (the connection is ending)
      handler = std::exchange(next_, nullptr);
      if (!records_waiting()) return read(std::move(handler));
    }
    receive([self = shared_from_this(), handler = std::move(handler)](std::string failure) mutable {
      if (!failure.empty()) return handler(std::nullopt, failure);
      self->deliver(std::move(handler));
    });
  }

  // Waits for the socket, and moves what it holds into the TLS input; `done` with "" or why it ended.
  void receive(std::function<void(std::string)> done) {
    socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), done = std::move(done)](
                                                    boost::system::error_code ec) mutable {
      if (ec) return done(ec.message());
      auto& buffer = *self->buffer_;
      std::size_t n = self->socket().read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) return self->receive(std::move(done));
      if (ec) return done(ec == asio::error::eof ? "peer closed" : ec.message());
      BIO_write(self->in_, buffer.data(), static_cast<int>(n));
      done({});
    });
  }

  // After close_notify: input is read and dropped until the peer's close_notify, its end of the stream, or
  // the close timer.
  void drain_until_end() {
    receive([self = shared_from_this()](std::string failure) {
      if (!failure.empty()) return self->drop();
      for (;;) {
        ERR_clear_error();
        int n = SSL_read(self->ssl_.get(), self->buffer_->data(), static_cast<int>(self->buffer_->size()));
        if (n > 0) continue;
        int error = SSL_get_error(self->ssl_.get(), n);
        ERR_clear_error();
        if (error == SSL_ERROR_WANT_READ) return self->drain_until_end();
        return self->drop();  // the peer's close_notify, or a record that will never make sense now
      }
    });
  }

  // What OpenSSL sealed so far goes behind what is already waiting, and out when no write is running.
  void send_sealed() {
    char* data = nullptr;
    long size = BIO_get_mem_data(out_, &data);
    if (size <= 0) return;
    link_.append(data, static_cast<std::size_t>(size));
    if (size > 64 * 1024) {
      // A burst's buffer is not kept for an idle connection: a fresh BIO replaces (and frees) the grown one.
      out_ = BIO_new(BIO_s_mem());
      SSL_set0_wbio(ssl_.get(), out_);
    } else {
      (void)BIO_reset(out_);
    }
  }

  // `then` runs once everything sealed so far is with the kernel (or failed); always from a posted
  // handler, never inside the call (the batching socket calls back at once when nothing is pending).
  void after_flush(std::function<void(boost::system::error_code)> then) {
    link_.after_flush([executor = link_.get_executor(), then = std::move(then)](boost::system::error_code ec) {
      asio::post(executor, [then, ec] { then(ec); });
    });
  }

  tcp::socket& socket() { return link_.next_layer(); }

  struct ssl_free {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
  };

  detail::batching_socket link_;  // the TCP connection, and the sealed records not yet sent
  std::shared_ptr<ssl::context> context_;
  std::shared_ptr<read_buffer> buffer_;
  std::unique_ptr<SSL, ssl_free> ssl_;
  BIO* in_ = nullptr;   // owned by ssl_: the records received, not yet decrypted
  BIO* out_ = nullptr;  // owned by ssl_: the records sealed, not yet sent
  asio::steady_timer timer_;
  bool closing_ = false;
  bool delivering_ = false;  // inside a read handler called by deliver
  read_handler next_;        // the read the host asked for from inside that handler
};

}  // namespace

channel_ptr open_tls_channel(tcp::socket socket, std::shared_ptr<ssl::context> context,
                             std::shared_ptr<read_buffer> buffer, ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  // Data the peer has not acknowledged within 10 s aborts the connection, so a peer that vanished without
  // FIN or RST is found by the next CHECK (SSLM-CHECK-04).
  unsigned int user_timeout_ms = 10000;
  setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
  auto c = std::make_shared<tls_channel>(std::move(socket), std::move(context), std::move(buffer), std::string());
  c->handshake(std::move(ready));
  return c;
}

channel_ptr open_tls_client_channel(tcp::socket socket, std::shared_ptr<ssl::context> context,
                                    std::shared_ptr<read_buffer> buffer, const std::string& server_name,
                                    ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<tls_channel>(std::move(socket), std::move(context), std::move(buffer),
                                         server_name.empty() ? std::string("localhost") : server_name);
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
  // An idle connection keeps no record buffers: OpenSSL frees them between reads and writes.
  SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
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

}  // namespace parley::net
