// WebSocket (Beast), either side: a unit is one whole message. Kept in its own file, Beast is slow to
// compile. Beast does the handshake, the reads (unmasking, fragments, pings) and the close; a batch is framed
// here (ws_frames), one unfragmented text frame per message appended straight to the batching socket under
// Beast and sent in one write. (Beast's own write path costs a composed operation and a posted completion
// per message, which made a WebSocket relay several times dearer per delivery than plain TCP.) Beast's own
// frames (a pong, the close) are whole writes to the same socket, so no frame is ever cut by another.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <boost/asio/post.hpp>

#include "impl/core/crypto/digest.hpp"
#include "impl/net/detail/batching_socket.hpp"
#include "impl/net/channel.hpp"
#include "impl/net/ws_frames.hpp"

namespace parley::net::detail {
// Beast ends a WebSocket by tearing down its next layer (websocket/teardown.hpp): here the bare socket's
// teardown, once the close frame and everything before it have left the batching socket.
inline void teardown(boost::beast::role_type role, batching_socket& s, boost::beast::error_code& ec) {
  boost::beast::websocket::teardown(role, s.next_layer(), ec);
}

template <class Handler>
void async_teardown(boost::beast::role_type role, batching_socket& s, Handler&& handler) {
  // after_flush keeps a std::function, which must be copyable; Beast's handler is move-only.
  auto held = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
  s.after_flush([&s, role, held](boost::beast::error_code) {
    boost::beast::websocket::async_teardown(role, s.next_layer(), std::move(*held));
  });
}
}  // namespace parley::net::detail

namespace parley::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;

namespace {

class ws_channel final : public channel, public std::enable_shared_from_this<ws_channel> {
public:
  ws_channel(tcp::socket socket, std::size_t max_message, beast::role_type role) : ws_(std::move(socket)), role_(role) {
    // Handshake and close are bounded; an idle but open session is the owner's business (or nobody's).
    ws_.set_option(websocket::stream_base::timeout::suggested(role));
    // Past this size Beast fails the connection with close code 1009 (too big) instead of buffering.
    ws_.read_message_max(max_message);
    ws_.text(true);
  }

  void accept(ready_handler ready) {
    ws_.async_accept([self = shared_from_this(), ready](boost::system::error_code ec) {
      if (ec) ready(self, "WebSocket handshake failed: " + ec.message());
      else ready(self, {});
    });
  }

  void upgrade(const std::string& host, const std::string& target, ready_handler ready) {
    ws_.async_handshake(host, target, [self = shared_from_this(), ready](boost::system::error_code ec) {
      if (ec) ready(self, "WebSocket handshake failed: " + ec.message());
      else ready(self, {});
    });
  }

  void read(read_handler handler) override {
    buffer_.clear();
    ws_.async_read(buffer_, [self = shared_from_this(), handler](boost::system::error_code ec, std::size_t) {
      if (ec) {
        handler(std::nullopt, describe(ec));
        return;
      }
      auto data = self->buffer_.cdata();
      handler(std::string_view(static_cast<const char*>(data.data()), data.size()), {});
    });
  }

  void write(std::span<const core::payload> units, write_handler handler) override {
    auto& socket = ws_.next_layer();
    socket.hold();
    for (const auto& unit : units) {
      char header[ws_frames::max_header];
      if (role_ == beast::role_type::server) {
        socket.append(header, ws_frames::text_frame_header(unit.size(), std::nullopt, header));
        socket.append(unit.data(), unit.size());
        continue;
      }
      // A client masks every frame with 4 fresh random bytes (RFC 6455 §5.3: from a strong source of
      // entropy, so content a script chose cannot be made to look like another protocol to a proxy).
      auto key = core::random_bytes(4);
      std::uint32_t mask = std::uint32_t{key[0]} << 24 | std::uint32_t{key[1]} << 16 | std::uint32_t{key[2]} << 8 | key[3];
      socket.append(header, ws_frames::text_frame_header(unit.size(), mask, header));
      masked_.assign(unit.str());
      ws_frames::mask_payload(masked_.data(), masked_.size(), mask);
      socket.append(masked_.data(), masked_.size());
    }
    // The handler runs from a posted completion, never inside write().
    socket.release([self = shared_from_this(), handler = std::move(handler)](boost::system::error_code ec) {
      asio::post(self->ws_.get_executor(), [handler, ec] { handler(ec ? ec.message() : std::string{}); });
    });
  }

  void finish() override {
    if (closing_) return;
    closing_ = true;
    // Close frame 1000, then Beast waits (bounded by the suggested timeout) for the peer's close frame and
    // tears the TCP connection down.
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](boost::system::error_code) {
      self->drop();
    });
  }

  void drop() override {
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
  }

  void abort() override {
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).set_option(asio::socket_base::linger(true, 0), ignored);
    drop();
  }

private:
  static std::string describe(boost::system::error_code ec) {
    if (ec == websocket::error::closed) return "peer closed (close frame)";
    if (ec == asio::error::eof) return "peer closed (TCP FIN without a close frame)";
    if (ec == websocket::error::message_too_big) return "message too big (closed with 1009)";
    return ec.message();
  }

  websocket::stream<net::detail::batching_socket> ws_;
  beast::role_type role_;
  beast::flat_buffer buffer_;
  std::string masked_;  // a client's payload, masked
  bool closing_ = false;
};

}  // namespace

channel_ptr open_ws_channel(tcp::socket socket, std::size_t max_message, ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<ws_channel>(std::move(socket), max_message, beast::role_type::server);
  c->accept(std::move(ready));
  return c;
}

channel_ptr open_ws_client_channel(tcp::socket socket, const std::string& host, const std::string& target,
                                   std::size_t max_message, ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<ws_channel>(std::move(socket), max_message, beast::role_type::client);
  c->upgrade(host, target, std::move(ready));
  return c;
}

}  // namespace parley::net
