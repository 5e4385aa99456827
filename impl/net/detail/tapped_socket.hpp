// Private to impl/net: a tcp::socket that tells a connection_tap what it reads and writes. It is the lowest
// layer of every impl/net stream (ssl::stream and websocket::stream sit on it), so a tap sees the raw bytes
// on the wire: TLS records, WebSocket frames. Without a tap each operation goes straight to the socket.
#pragma once

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <utility>

#include "impl/net/traffic_tap.hpp"

namespace parley::net::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

inline endpoint endpoint_of(const tcp::endpoint& e) { return {e.address().to_string(), e.port()}; }

template <class Handler, class Buffers>
class tap_handler;

class tapped_socket {
public:
  using executor_type = tcp::socket::executor_type;
  using next_layer_type = tcp::socket;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  // Made in place and never moved: pending operations' handlers point back to it.
  explicit tapped_socket(asio::io_context& io) : socket_(io) {}
  tapped_socket(const tapped_socket&) = delete;
  tapped_socket& operator=(const tapped_socket&) = delete;
  // A socket dropped without close() still sends its FIN.
  ~tapped_socket() { note_end(false); }

  // Once the connection is established (connected or accepted), before any byte moves. A null tap: none.
  void open_tap(traffic_tap* tap, bool initiated) {
    if (!tap) return;
    boost::system::error_code ec1, ec2;
    auto local = socket_.local_endpoint(ec1);
    auto remote = socket_.remote_endpoint(ec2);
    if (ec1 || ec2) return;
    tap_ = tap->on_open(endpoint_of(local), endpoint_of(remote), initiated, clock_type::now());
  }

  tcp::socket& socket() { return socket_; }
  next_layer_type& next_layer() { return socket_; }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  executor_type get_executor() { return socket_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (!tap_) return socket_.async_read_some(b, std::move(handler));
          using wrapped = tap_handler<std::decay_t<decltype(handler)>, MutableBuffers>;
          socket_.async_read_some(b, wrapped(std::move(handler), b, this, direction::in));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (!tap_) return socket_.async_write_some(b, std::move(handler));
          using wrapped = tap_handler<std::decay_t<decltype(handler)>, ConstBuffers>;
          socket_.async_write_some(b, wrapped(std::move(handler), b, this, direction::out));
        },
        token, buffers);
  }

  // The three ways the owner ends its side: FIN while reads go on, orderly close, abortive close (RST).
  void shutdown_send() {
    boost::system::error_code ignored;
    if (socket_.is_open()) socket_.shutdown(tcp::socket::shutdown_send, ignored);
    note_end(false);
  }
  void close() {
    boost::system::error_code ignored;
    if (socket_.is_open()) socket_.close(ignored);
    note_end(false);
  }
  void reset() {
    boost::system::error_code ignored;
    bool was_open = socket_.is_open();
    if (was_open) {
      socket_.set_option(asio::socket_base::linger(true, 0), ignored);  // linger 0: close sends RST
      socket_.close(ignored);
    }
    note_end(was_open);
  }
  // What a read or write moved, from its completion handler: bytes, and for a read the peer's FIN or RST.
  void note_moved(direction d, std::string_view bytes, const boost::system::error_code& ec) {
    auto now = clock_type::now();
    if (!bytes.empty()) tap_->on_bytes(d, bytes, now);
    if (d == direction::in && (ec == asio::error::eof || ec == asio::error::connection_reset))
      note_peer_end(ec == asio::error::connection_reset);
  }
  // The owner's FIN once, or its RST (which may follow a FIN); also for a teardown that shuts the socket down
  // itself (a WebSocket close).
  void note_end(bool reset) {
    if (tap_ && !reset_ && (reset || !ended_)) tap_->on_end(direction::out, reset, clock_type::now());
    ended_ = true;
    reset_ = reset_ || reset;
  }
  // The peer's FIN (or RST), once.
  void note_peer_end(bool reset) {
    if (tap_ && !peer_ended_) tap_->on_end(direction::in, reset, clock_type::now());
    peer_ended_ = true;
  }

private:
  tcp::socket socket_;
  std::unique_ptr<connection_tap> tap_;
  bool ended_ = false;
  bool reset_ = false;
  bool peer_ended_ = false;
};

// Completes a read or write on a tapped socket: tells the tap what moved, then calls the operation's own
// handler.
template <class Handler, class Buffers>
class tap_handler {
public:
  tap_handler(Handler h, const Buffers& buffers, tapped_socket* owner, direction d)
      : handler_(std::move(h)), buffers_(buffers), owner_(owner), direction_(d) {}

  void operator()(boost::system::error_code ec, std::size_t n) {
    std::string bytes(n, '\0');
    asio::buffer_copy(asio::buffer(bytes), buffers_, n);
    owner_->note_moved(direction_, bytes, ec);
    std::move(handler_)(ec, n);
  }

  Handler handler_;  // public for the associator below

private:
  Buffers buffers_;
  tapped_socket* owner_;
  direction direction_;
};

}  // namespace parley::net::detail

// A wrapped handler keeps the executor, allocator and cancellation slot of the handler it wraps, so the
// composed operations of TLS and WebSocket run exactly as they would on the bare socket.
template <template <class, class> class Associator, class Handler, class Buffers, class Default>
struct boost::asio::associator<Associator, parley::net::detail::tap_handler<Handler, Buffers>, Default>
    : Associator<Handler, Default> {
  static typename Associator<Handler, Default>::type get(
      const parley::net::detail::tap_handler<Handler, Buffers>& h) noexcept {
    return Associator<Handler, Default>::get(h.handler_);
  }
  static auto get(const parley::net::detail::tap_handler<Handler, Buffers>& h, const Default& d) noexcept
      -> decltype(Associator<Handler, Default>::get(h.handler_, d)) {
    return Associator<Handler, Default>::get(h.handler_, d);
  }
};
