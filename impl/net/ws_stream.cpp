// WebSocket streams (Boost.Beast). Kept in its own file: Beast is the slowest header set to compile.
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "impl/net/detail/asio_stream.hpp"

namespace parley::net {
namespace detail {

// Beast ends a WebSocket by tearing down its next layer (websocket/teardown.hpp): for the tapped socket, the
// bare socket's teardown (shut down sending, read to the peer's FIN), told to the tap.
void teardown(boost::beast::role_type role, tapped_socket& s, boost::beast::error_code& ec) {
  s.note_end(false);
  boost::beast::websocket::teardown(role, s.socket(), ec);
  if (!ec) s.note_peer_end(false);
}

template <class Handler>
void async_teardown(boost::beast::role_type role, tapped_socket& s, Handler&& handler) {
  s.note_end(false);
  boost::beast::websocket::async_teardown(
      role, s.socket(), [&s, handler = std::forward<Handler>(handler)](boost::beast::error_code ec) mutable {
        if (!ec) s.note_peer_end(false);
        std::move(handler)(ec);
      });
}

}  // namespace detail

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using detail::tapped_socket;
using ws_type = websocket::stream<tapped_socket>;

// Boost's error_code is kept (not std's) so Beast's error enums still compare; a timeout is asio's timed_out.
template <class Op>
boost::system::error_code run_op(asio::io_context& io, tcp::socket& socket, time_point deadline, Op&& start) {
  bool finished = false;
  boost::system::error_code result;
  start([&](boost::system::error_code ec, auto&&...) {
    result = ec;
    finished = true;
  });
  if (!detail::run_until(io, deadline, [&] { return finished; }, socket)) return asio::error::timed_out;
  return result;
}

class ws_stream final : public stream {
public:
  ws_stream(std::unique_ptr<asio::io_context> io, std::unique_ptr<ws_type> ws, std::size_t max_message)
      : io_(std::move(io)), ws_(std::move(ws)) {
    ws_->text(true);
    ws_->read_message_max(max_message);
    boost::system::error_code ec;
    auto ep = socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    ep = socket().local_endpoint(ec);
    if (!ec) local_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~ws_stream() override { close(); }

  std::error_code write(std::string_view bytes, time_point deadline) override {
    return std::error_code(run_op(*io_, socket(), deadline,
                  [&](auto handler) { ws_->async_write(asio::buffer(bytes.data(), bytes.size()), handler); }));
  }

  // Beast writes each message whole, so between two writes the TCP stream is at a frame boundary and a
  // frame built by hand goes out as one. Its bytes pass the tap like every other write.
  std::error_code write_below(std::string_view bytes, time_point deadline) override {
    return std::error_code(run_op(*io_, socket(), deadline, [&](auto handler) {
      asio::async_write(ws_->next_layer(), asio::buffer(bytes.data(), bytes.size()), handler);
    }));
  }

  // Beast fails a websocket stream whose read was cancelled, so a read that reaches its deadline is left
  // in flight and the next call waits for the same read: a timeout costs nothing and loses nothing.
  read_result read_some(time_point deadline) override {
    if (!reading_) {
      reading_ = true;
      read_done_ = false;
      buffer_.clear();
      ws_->async_read(buffer_, [this](boost::system::error_code ec, std::size_t) {
        read_error_ = ec;
        read_done_ = true;
      });
    }
    io_->restart();
    while (!read_done_ && io_->run_one_until(deadline) > 0) {
    }
    if (!read_done_) return {read_status::timeout, {}, {}};
    reading_ = false;
    auto ec = read_error_;
    if (!ec) return {read_status::data, beast::buffers_to_string(buffer_.data()), {}};
    // A close frame, or a TCP close without one, both end the stream for verdicts.
    if (ec == websocket::error::closed || ec == asio::error::eof) return {read_status::closed, {}, {}};
    if (ec == asio::error::connection_reset) return {read_status::reset, {}, {}};
    return {read_status::error, {}, std::error_code(ec)};
  }

  void shutdown_send() override { ws_->next_layer().shutdown_send(); }
  void close() override { ws_->next_layer().close(); }
  void reset() override { ws_->next_layer().reset(); }
  void close_gracefully(time_point deadline) override {
    // A close frame with status 1000, then the peer's answer; Beast allows it beside a pending read.
    if (ws_->is_open()) {
      run_op(*io_, socket(), deadline,
             [&](auto handler) { ws_->async_close(websocket::close_code::normal, handler); });
    }
    close();
  }
  std::string peer() const override { return peer_; }
  std::string local() const override { return local_; }
  int native_handle() override { return socket().is_open() ? static_cast<int>(socket().native_handle()) : -1; }

private:
  tcp::socket& socket() { return ws_->next_layer().socket(); }

  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<ws_type> ws_;
  std::string peer_, local_;
  beast::flat_buffer buffer_;
  bool reading_ = false;
  bool read_done_ = false;
  boost::system::error_code read_error_;
};

class ws_listener final : public listener {
public:
  ws_listener(std::unique_ptr<asio::io_context> io, tcp::acceptor acceptor, std::size_t max_message, traffic_tap* tap)
      : io_(std::move(io)), acceptor_(std::move(acceptor)), max_message_(max_message), tap_(tap) {}

  unsigned short port() const override { return acceptor_.local_endpoint().port(); }

  result<std::unique_ptr<stream>> accept(time_point deadline) override {
    auto io = std::make_unique<asio::io_context>();
    auto ws = std::make_unique<ws_type>(*io);
    if (auto ec = detail::accept_until(*io_, acceptor_, ws->next_layer().socket(), deadline)) return ec;
    ws->next_layer().open_tap(tap_, false);
    if (auto ec = run_op(*io, ws->next_layer().socket(), deadline, [&](auto handler) { ws->async_accept(handler); }))
      return std::error_code(ec);
    return std::unique_ptr<stream>(std::make_unique<ws_stream>(std::move(io), std::move(ws), max_message_));
  }

private:
  std::unique_ptr<asio::io_context> io_;
  tcp::acceptor acceptor_;
  std::size_t max_message_;
  traffic_tap* tap_;
};

}  // namespace

result<std::unique_ptr<stream>> connect_ws(const std::string& host, unsigned short port, const std::string& target,
                                           time_point deadline, std::size_t max_message, traffic_tap* tap) {
  auto io = std::make_unique<asio::io_context>();
  auto ws = std::make_unique<ws_type>(*io);
  tcp::resolver resolver(*io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return std::error_code(ec);
  tcp::socket& socket = ws->next_layer().socket();
  if (auto e = run_op(*io, socket, deadline, [&](auto handler) { asio::async_connect(socket, endpoints, handler); }))
    return std::error_code(e);
  ws->next_layer().open_tap(tap, true);
  std::string host_header = host + ":" + std::to_string(port);
  if (auto e = run_op(*io, socket, deadline, [&](auto handler) { ws->async_handshake(host_header, target, handler); }))
    return std::error_code(e);
  return std::unique_ptr<stream>(std::make_unique<ws_stream>(std::move(io), std::move(ws), max_message));
}

result<std::unique_ptr<listener>> listen_ws(const std::string& host, unsigned short port, std::size_t max_message,
                                            traffic_tap* tap) {
  auto io = std::make_unique<asio::io_context>();
  tcp::acceptor acceptor(*io);
  if (auto ec = detail::open_acceptor(acceptor, host, port)) return ec;
  return std::unique_ptr<listener>(std::make_unique<ws_listener>(std::move(io), std::move(acceptor), max_message, tap));
}

}  // namespace parley::net
