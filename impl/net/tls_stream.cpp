#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>

#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"
#include "impl/net/detail/asio_stream.hpp"
#include "impl/net/traffic_tap.hpp"

namespace parley::net {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using detail::tapped_socket;
using tls_stream = detail::asio_stream<ssl::stream<tapped_socket>>;

namespace {

// TLS 1.2 is the floor: the older versions have known practical attacks.
constexpr auto floor_options = ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                               ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1;

// With a tap, every handshake on `ctx` hands its secrets to the tap (SSL_CTX_set_keylog_callback), so a
// capture of the TLS records can be decrypted. The tap rides in the context's ex_data: the callback is a
// plain function.
void log_keys_to(ssl::context& ctx, traffic_tap* tap) {
  if (!tap) return;
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  SSL_CTX_set_ex_data(ctx.native_handle(), slot, tap);
  SSL_CTX_set_keylog_callback(ctx.native_handle(), [](const SSL* ssl, const char* line) {
    if (auto* t = static_cast<traffic_tap*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), slot))) t->on_tls_secret(line);
  });
}

std::string leaf_pin(ssl::stream<tapped_socket>& s) {
  X509* cert = SSL_get1_peer_certificate(s.native_handle());
  if (!cert) return {};
  unsigned char* der = nullptr;
  int size = i2d_X509(cert, &der);
  X509_free(cert);
  if (size <= 0) return {};
  auto digest = core::sha256(byte_view(der, static_cast<std::size_t>(size)));
  OPENSSL_free(der);
  return core::to_hex(digest);
}

template <class Op>
std::error_code run_op(asio::io_context& io, tcp::socket& socket, time_point deadline, Op&& start) {
  bool finished = false;
  boost::system::error_code result;
  start([&](boost::system::error_code ec) {
    result = ec;
    finished = true;
  });
  if (!detail::run_until(io, deadline, [&] { return finished; }, socket)) return std::make_error_code(std::errc::timed_out);
  return result;
}

// Resolves host:port and connects the TLS stream's TCP socket within the deadline; the tap then starts
// recording it (this end opened it).
std::error_code connect_tapped(asio::io_context& io, ssl::stream<tapped_socket>& s, const std::string& host,
                               unsigned short port, time_point deadline, traffic_tap* tap) {
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return ec;
  tcp::socket& socket = s.next_layer().socket();
  if (auto e = run_op(io, socket, deadline, [&](auto handler) {
        asio::async_connect(socket, endpoints, [handler](boost::system::error_code c, const tcp::endpoint&) { handler(c); });
      }))
    return e;
  s.next_layer().open_tap(tap, true);
  return {};
}

class tls_listener final : public listener {
public:
  tls_listener(std::unique_ptr<asio::io_context> io, tcp::acceptor acceptor, std::shared_ptr<ssl::context> ctx,
               traffic_tap* tap)
      : io_(std::move(io)), acceptor_(std::move(acceptor)), ctx_(std::move(ctx)), tap_(tap) {}

  unsigned short port() const override { return acceptor_.local_endpoint().port(); }

  result<std::unique_ptr<stream>> accept(time_point deadline) override {
    auto io = std::make_unique<asio::io_context>();
    auto s = std::make_unique<ssl::stream<tapped_socket>>(*io, *ctx_);
    if (auto ec = detail::accept_until(*io_, acceptor_, s->next_layer().socket(), deadline)) return ec;
    s->next_layer().open_tap(tap_, false);
    if (auto ec = run_op(*io, s->next_layer().socket(), deadline,
                         [&](auto handler) { s->async_handshake(ssl::stream_base::server, handler); }))
      return ec;
    return std::unique_ptr<stream>(std::make_unique<tls_stream>(std::move(io), std::move(s)));
  }

private:
  std::unique_ptr<asio::io_context> io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<ssl::context> ctx_;
  traffic_tap* tap_;
};

}  // namespace

result<std::unique_ptr<stream>> connect_tls(const std::string& host, unsigned short port,
                                            const tls_client_options& trust, time_point deadline,
                                            traffic_tap* tap) {
  int modes = !trust.ca_file.empty() + !trust.pin_sha256.empty() + trust.insecure;
  if (modes != 1) return std::make_error_code(std::errc::invalid_argument);
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(floor_options);
  std::string name = trust.server_name.empty() ? host : trust.server_name;
  boost::system::error_code ec;
  if (!trust.ca_file.empty()) {
    ctx.load_verify_file(trust.ca_file, ec);
    if (ec) return std::error_code(ec);
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_verify_callback(ssl::host_name_verification(name));
  } else {
    // A pin is checked after the handshake against the exact certificate; a CA chain plays no part.
    ctx.set_verify_mode(ssl::verify_none);
  }
  log_keys_to(ctx, tap);
  auto io = std::make_unique<asio::io_context>();
  auto s = std::make_unique<ssl::stream<tapped_socket>>(*io, ctx);
  SSL_set_tlsext_host_name(s->native_handle(), name.c_str());
  if (auto e = connect_tapped(*io, *s, host, port, deadline, tap)) return e;
  tcp::socket& socket = s->next_layer().socket();
  if (auto e = run_op(*io, socket, deadline,
                      [&](auto handler) { s->async_handshake(ssl::stream_base::client, handler); }))
    return e;
  if (!trust.pin_sha256.empty() && leaf_pin(*s) != trust.pin_sha256)
    return std::make_error_code(std::errc::permission_denied);  // certificate does not match the pin
  return std::unique_ptr<stream>(std::make_unique<tls_stream>(std::move(io), std::move(s)));
}

tls_probe probe_tls(const std::string& host, unsigned short port, bool legacy_versions_only, time_point deadline,
                    traffic_tap* tap) {
  tls_probe r;
  ssl::context ctx(ssl::context::tls_client);
  if (legacy_versions_only) {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let this client offer what a server must refuse
  }
  ctx.set_verify_mode(ssl::verify_none);
  // The callback that would give a client certificate notes that one was asked for, in the probe's result
  // (carried in the connection's ex_data: the callback is a plain function), and gives none.
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  SSL_CTX_set_client_cert_cb(ctx.native_handle(), [](SSL* ssl, X509**, EVP_PKEY**) {
    if (auto* asked = static_cast<bool*>(SSL_get_ex_data(ssl, slot))) *asked = true;
    return 0;
  });
  log_keys_to(ctx, tap);
  asio::io_context io;
  ssl::stream<tapped_socket> s(io, ctx);
  SSL_set_ex_data(s.native_handle(), slot, &r.certificate_requested);
  if (auto failed = connect_tapped(io, s, host, port, deadline, tap)) {
    r.error = failed.message();
    return r;
  }
  r.connected = true;
  tcp::socket& socket = s.next_layer().socket();
  auto failed = run_op(io, socket, deadline, [&](auto handler) { s.async_handshake(ssl::stream_base::client, handler); });
  r.handshake_ok = !failed;
  if (failed) r.error = failed.message();
  // A TLS 1.3 server may ask after the handshake's own flight: what is already on its way is read.
  if (r.handshake_ok) {
    char byte;
    (void)run_op(io, socket, std::min(deadline, clock_type::now() + millis(50)), [&](auto handler) {
      s.async_read_some(asio::buffer(&byte, 1), [handler](boost::system::error_code c, std::size_t) { handler(c); });
    });
  }
  SSL_set_ex_data(s.native_handle(), slot, nullptr);
  return r;
}

result<std::unique_ptr<listener>> listen_tls(const std::string& host, unsigned short port,
                                             const std::string& certificate_pem, const std::string& key_pem,
                                             traffic_tap* tap) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(floor_options);
  boost::system::error_code ec;
  ctx->use_certificate_chain(asio::buffer(certificate_pem), ec);
  if (!ec) ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return std::error_code(ec);
  log_keys_to(*ctx, tap);
  auto io = std::make_unique<asio::io_context>();
  tcp::acceptor acceptor(*io);
  if (auto e = detail::open_acceptor(acceptor, host, port)) return e;
  return std::unique_ptr<listener>(
      std::make_unique<tls_listener>(std::move(io), std::move(acceptor), std::move(ctx), tap));
}

}  // namespace parley::net
