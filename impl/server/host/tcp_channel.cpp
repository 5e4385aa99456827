// Plain TCP: a unit is whatever one read returned; framing is the hub's business.
#include <boost/asio/write.hpp>

#include <array>

#include "impl/server/host/channel.hpp"

namespace parley::host::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

class tcp_channel final : public channel, public std::enable_shared_from_this<tcp_channel> {
public:
  explicit tcp_channel(tcp::socket socket) : socket_(std::move(socket)) {}

  void read(read_handler handler) override {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this(), handler](boost::system::error_code ec,
                                                                                          std::size_t n) {
      if (ec) handler(std::nullopt, ec == asio::error::eof ? "peer closed" : ec.message());
      else handler(std::string_view(self->buffer_.data(), n), {});
    });
  }

  void write(const std::string& unit, write_handler handler) override {
    asio::async_write(socket_, asio::buffer(unit), [self = shared_from_this(), handler](boost::system::error_code ec,
                                                                                         std::size_t) {
      handler(ec ? ec.message() : std::string{});
    });
  }

  void finish() override {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  void drop() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  void abort() override {
    boost::system::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
  }

private:
  tcp::socket socket_;
  std::array<char, 4096> buffer_{};
};

}  // namespace

void open_tcp_channel(tcp::socket socket, ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // replies within 100 ms (ITP-CMD-04) need no Nagle delay
  ready(std::make_shared<tcp_channel>(std::move(socket)), {});
}

}  // namespace parley::host::detail
