// Plain TCP: a unit is whatever one read returned; framing is the hub's business. Reads wait for the
// socket to be readable and then read into the host's shared buffer, so an idle connection holds no read
// buffer; writes gather a whole batch into one writev.
#include <boost/asio/write.hpp>

#include <vector>

#include "impl/server/host/channel.hpp"

namespace parley::host::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

class tcp_channel final : public channel, public std::enable_shared_from_this<tcp_channel> {
public:
  tcp_channel(tcp::socket socket, std::shared_ptr<read_buffer> buffer)
      : socket_(std::move(socket)), buffer_(std::move(buffer)) {
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);  // read_some below returns would_block instead of waiting
  }

  void read(read_handler handler) override {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), handler = std::move(handler)](
                                                   boost::system::error_code ec) mutable {
      if (ec) return handler(std::nullopt, ec.message());
      auto& buffer = *self->buffer_;
      std::size_t n = self->socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) return self->read(std::move(handler));
      if (ec) handler(std::nullopt, ec == asio::error::eof ? "peer closed" : ec.message());
      else handler(std::string_view(buffer.data(), n), {});
    });
  }

  void write(std::span<const core::payload> units, write_handler handler) override {
    gather_.clear();
    for (const auto& unit : units) gather_.push_back(asio::buffer(unit.data(), unit.size()));
    // One writev for up to 64 units (Asio's limit per call); async_write goes on with the rest itself.
    asio::async_write(socket_, gather_, [self = shared_from_this(), handler = std::move(handler)](
                                            boost::system::error_code ec, std::size_t) {
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
  std::shared_ptr<read_buffer> buffer_;
  std::vector<asio::const_buffer> gather_;
};

}  // namespace

void open_tcp_channel(tcp::socket socket, std::shared_ptr<read_buffer> buffer, ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // replies within 100 ms (ITP-CMD-04) need no Nagle delay
  ready(std::make_shared<tcp_channel>(std::move(socket), std::move(buffer)), {});
}

}  // namespace parley::host::detail
