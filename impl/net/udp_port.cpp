#include "impl/net/udp_port.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>

#include "impl/core/errc.hpp"

namespace parley::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

class asio_udp_port final : public udp_port, public std::enable_shared_from_this<asio_udp_port> {
public:
  asio_udp_port(asio::io_context& io, datagram_handler on_datagram)
      : socket_(io), on_datagram_(std::move(on_datagram)) {}

  std::error_code bind(const std::string& local_address, unsigned short port) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(local_address, ec);
    if (!ec) socket_.open(address.is_v4() ? udp::v4() : udp::v6(), ec);
    if (!ec) socket_.bind({address, port}, ec);
    return ec ? std::error_code(ec.value(), std::system_category()) : std::error_code();
  }

  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), from_, [self = shared_from_this()](boost::system::error_code ec,
                                                                                        std::size_t n) {
      if (ec == asio::error::operation_aborted || !self->socket_.is_open()) return;
      if (!ec) {
        auto address = self->from_.address();
        if (address.is_v6() && address.to_v6().is_v4_mapped())
          address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
        self->on_datagram_(std::string_view(self->buffer_.data(), n), address.to_string(), self->from_.port());
      }
      if (self->socket_.is_open()) self->receive();
    });
  }

  void send_to(const std::string& address, unsigned short port, std::string data) override {
    boost::system::error_code ec;
    auto to = asio::ip::make_address(address, ec);
    if (ec || !socket_.is_open()) return;
    auto payload = std::make_shared<std::string>(std::move(data));
    socket_.async_send_to(asio::buffer(*payload), udp::endpoint(to, port),
                          [payload, self = shared_from_this()](boost::system::error_code, std::size_t) {});
  }

  unsigned short port() const override {
    boost::system::error_code ec;
    auto local = socket_.local_endpoint(ec);
    return ec ? 0 : local.port();
  }

  void close() override {
    boost::system::error_code ignored;
    socket_.close(ignored);  // the pending receive ends with operation_aborted
  }

private:
  udp::socket socket_;
  udp::endpoint from_;
  std::array<char, 65536> buffer_{};  // whole datagrams, so an oversized one is seen and refused (PC-UDP-04)
  datagram_handler on_datagram_;
};

}  // namespace

result<std::shared_ptr<udp_port>> open_udp_port(asio::io_context& io, const std::string& local_address,
                                                unsigned short port, datagram_handler on_datagram) {
  auto p = std::make_shared<asio_udp_port>(io, std::move(on_datagram));
  if (auto ec = p->bind(local_address, port)) return ec;
  p->receive();
  return std::shared_ptr<udp_port>(p);
}

}  // namespace parley::net
