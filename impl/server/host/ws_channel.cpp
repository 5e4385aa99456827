// WebSocket (Beast): a unit is one whole message. Kept in its own file, Beast is slow to compile.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "impl/server/host/channel.hpp"

namespace parley::host::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;

namespace {

class ws_channel final : public channel, public std::enable_shared_from_this<ws_channel> {
public:
  ws_channel(tcp::socket socket, std::size_t max_message) : ws_(std::move(socket)) {
    // Handshake and close are bounded; an idle but open session is the hub's business (or nobody's).
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    // Past this size Beast fails the connection with close code 1009 (too big) instead of buffering.
    ws_.read_message_max(max_message);
    ws_.text(true);
  }

  void handshake(ready_handler ready) {
    ws_.async_accept([self = shared_from_this(), ready](boost::system::error_code ec) {
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

  void write(const std::string& unit, write_handler handler) override {
    ws_.async_write(asio::buffer(unit), [self = shared_from_this(), handler](boost::system::error_code ec, std::size_t) {
      handler(ec ? ec.message() : std::string{});
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

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  bool closing_ = false;
};

}  // namespace

channel_ptr open_ws_channel(tcp::socket socket, std::size_t max_message, ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto c = std::make_shared<ws_channel>(std::move(socket), max_message);
  c->handshake(std::move(ready));
  return c;
}

}  // namespace parley::host::detail
