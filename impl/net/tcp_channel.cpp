// Plain TCP: a unit is whatever one read returned; framing is the hub's business. Reads wait for the
// socket to be readable and then read into the host's shared buffer, so an idle connection holds no read
// buffer; a batch is written as one contiguous send.
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "impl/net/channel.hpp"

namespace parley::net {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

class tcp_channel final : public channel, public std::enable_shared_from_this<tcp_channel> {
public:
  tcp_channel(tcp::socket socket, std::shared_ptr<read_buffer> buffer, std::shared_ptr<std::string> scratch)
      : socket_(std::move(socket)), buffer_(std::move(buffer)), scratch_(std::move(scratch)) {
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

  // The batch is copied into the host's shared scratch buffer and sent with plain send() calls: a relay's
  // units are lines of tens of bytes, and one contiguous copy costs the kernel far less than an iovec per
  // unit (Asio gathers at most 64 per call, which made a busy receiver's batch four syscalls). Only what
  // the kernel does not take at once is kept, by this connection alone, until the socket has room.
  void write(std::span<const core::payload> units, write_handler handler) override {
    auto& batch = *scratch_;
    batch.clear();
    for (const auto& unit : units) batch.append(unit.data(), unit.size());
    done_ = std::move(handler);
    std::size_t sent = 0;
    if (auto error = send_some(batch, sent); error || sent == batch.size()) return complete(error);
    rest_.assign(batch, sent);
    wait_for_room();
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
  // Sends from `bytes` (starting at `sent`) until it is all sent or the kernel takes no more; the errno
  // of a failure, 0 otherwise.
  int send_some(const std::string& bytes, std::size_t& sent) {
    while (sent < bytes.size()) {
      ssize_t n = ::send(socket_.native_handle(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      else if (n < 0 && errno == EINTR) continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
      else return n < 0 ? errno : EPIPE;
    }
    return 0;
  }

  void wait_for_room() {
    socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->complete(ec.value() ? ec.value() : EPIPE);
      std::size_t sent = 0;
      int error = self->send_some(self->rest_, sent);
      self->rest_.erase(0, sent);
      if (error || self->rest_.empty()) return self->complete(error);
      self->wait_for_room();
    });
  }

  // The handler always runs from a posted completion, never inside write().
  void complete(int error) {
    std::string().swap(rest_);
    asio::post(socket_.get_executor(), [handler = std::exchange(done_, nullptr), error] {
      handler(error ? std::system_category().message(error) : std::string{});
    });
  }

  tcp::socket socket_;
  std::shared_ptr<read_buffer> buffer_;
  std::shared_ptr<std::string> scratch_;
  std::string rest_;  // what the kernel has not taken of the batch yet
  write_handler done_;
};

}  // namespace

tcp::socket connect_socket(asio::io_context& io, const std::string& host, unsigned short port, const std::string& local,
                           boost::system::error_code& ec) {
  tcp::socket socket(io);
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return socket;
  if (local.empty()) {
    asio::connect(socket, endpoints, ec);
  } else {
    // asio::connect reopens the socket for each endpoint, which would lose a bind: one by one instead.
    auto from = asio::ip::make_address(local, ec);
    if (ec) return socket;
    ec = asio::error::address_family_not_supported;
    for (const auto& entry : endpoints) {
      boost::system::error_code ignored;
      socket.close(ignored);
      if (entry.endpoint().protocol() != (from.is_v4() ? tcp::v4() : tcp::v6())) continue;
      socket.open(entry.endpoint().protocol(), ec);
      if (!ec) socket.bind({from, 0}, ec);
      if (!ec) socket.connect(entry.endpoint(), ec);
      if (!ec) break;
    }
  }
  return socket;
}

void open_tcp_channel(tcp::socket socket, std::shared_ptr<read_buffer> buffer, std::shared_ptr<std::string> scratch,
                      ready_handler ready) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // replies within 100 ms (ITP-CMD-04) need no Nagle delay
  ready(std::make_shared<tcp_channel>(std::move(socket), std::move(buffer), std::move(scratch)), {});
}

}  // namespace parley::net
