#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>

#include "impl/net/detail/asio_stream.hpp"
#include "impl/net/traffic_tap.hpp"

namespace parley::net {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

class asio_udp final : public udp_socket {
public:
  asio_udp(std::unique_ptr<asio::io_context> io, udp::socket socket, traffic_tap* tap)
      : io_(std::move(io)), socket_(std::move(socket)), tap_(tap) {
    if (!tap_) return;
    boost::system::error_code ec;
    auto local = socket_.local_endpoint(ec);
    // Bound to any address, a datagram to loopback leaves from the loopback address of its family.
    if (!ec && local.address().is_unspecified())
      local.address(local.address().is_v4() ? asio::ip::address(asio::ip::address_v4::loopback())
                                            : asio::ip::address(asio::ip::address_v6::loopback()));
    local_ = {local.address().to_string(), local.port()};
  }

  unsigned short port() const override { return socket_.local_endpoint().port(); }

  std::error_code send_to(std::string_view data, const std::string& host, unsigned short port) override {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return ec;
    socket_.send_to(asio::buffer(data.data(), data.size()), udp::endpoint(address, port), 0, ec);
    if (!ec && tap_) tap_->on_datagram(direction::out, local_, {address.to_string(), port}, data, clock_type::now());
    return ec;
  }

  result<datagram> receive(time_point deadline) override {
    bool finished = false;
    boost::system::error_code result;
    std::size_t got = 0;
    udp::endpoint from;
    socket_.async_receive_from(asio::buffer(buffer_), from, [&](boost::system::error_code ec, std::size_t n) {
      result = ec;
      got = n;
      finished = true;
    });
    if (!detail::run_until(*io_, deadline, [&] { return finished; }, socket_))
      return std::make_error_code(std::errc::timed_out);
    if (result) return std::error_code(result);
    if (tap_)
      tap_->on_datagram(direction::in, local_, {from.address().to_string(), from.port()},
                        std::string_view(buffer_.data(), got), clock_type::now());
    return datagram{std::string(buffer_.data(), got), from.address().to_string(), from.port()};
  }

private:
  std::unique_ptr<asio::io_context> io_;
  udp::socket socket_;
  std::array<char, 65536> buffer_{};
  traffic_tap* tap_;
  endpoint local_;
};

}  // namespace

result<std::unique_ptr<udp_socket>> bind_udp(const std::string& host, unsigned short port, traffic_tap* tap) {
  auto io = std::make_unique<asio::io_context>();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return std::error_code(ec);
  udp::socket socket(*io);
  udp::endpoint ep(address, port);
  socket.open(ep.protocol(), ec);
  if (!ec) socket.bind(ep, ec);
  if (ec) return std::error_code(ec);
  return std::unique_ptr<udp_socket>(std::make_unique<asio_udp>(std::move(io), std::move(socket), tap));
}

}  // namespace parley::net
