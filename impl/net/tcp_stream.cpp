#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>

#include "impl/net/detail/asio_stream.hpp"

namespace parley::net {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

using detail::asio_stream;
using detail::run_until;
using detail::tapped_socket;
using tcp_stream = asio_stream<tapped_socket>;

class tcp_listener final : public listener {
public:
  tcp_listener(std::unique_ptr<asio::io_context> io, tcp::acceptor acceptor, traffic_tap* tap)
      : io_(std::move(io)), acceptor_(std::move(acceptor)), tap_(tap) {}

  unsigned short port() const override { return acceptor_.local_endpoint().port(); }

  result<std::unique_ptr<stream>> accept(time_point deadline) override {
    auto io = std::make_unique<asio::io_context>();
    auto socket = std::make_unique<tapped_socket>(*io);
    if (auto ec = detail::accept_until(*io_, acceptor_, socket->socket(), deadline)) return ec;
    socket->open_tap(tap_, false);
    // The socket was made on its own io_context (async_accept allows that), so the stream owns it alone.
    return std::unique_ptr<stream>(std::make_unique<tcp_stream>(std::move(io), std::move(socket)));
  }

private:
  std::unique_ptr<asio::io_context> io_;
  tcp::acceptor acceptor_;
  traffic_tap* tap_;
};

}  // namespace

bool split_host_port(std::string_view text, std::string& host, unsigned short& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc{} || end != p.data() + p.size() || value == 0 || value > 65535 || h.empty()) return false;
  host.assign(h);
  port = static_cast<unsigned short>(value);
  return true;
}

result<std::unique_ptr<stream>> connect_tcp(const std::string& host, unsigned short port, time_point deadline,
                                            const std::string& local, traffic_tap* tap) {
  auto io = std::make_unique<asio::io_context>();
  tcp::resolver resolver(*io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return std::error_code(ec);
  auto tapped = std::make_unique<tapped_socket>(*io);
  tcp::socket& socket = tapped->socket();
  if (!local.empty()) {
    auto address = asio::ip::make_address(local, ec);
    if (ec) return std::error_code(ec);
    socket.open(address.is_v4() ? tcp::v4() : tcp::v6(), ec);
    if (!ec) socket.bind(tcp::endpoint(address, 0), ec);
    if (ec) return std::error_code(ec);
  }
  bool finished = false;
  boost::system::error_code result;
  if (local.empty()) {
    asio::async_connect(socket, endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
      result = e;
      finished = true;
    });
  } else {
    // The range form of async_connect closes the socket between attempts, which would drop the bind: connect
    // the bound socket to the first endpoint of its family instead.
    auto family = socket.local_endpoint(ec).protocol();
    auto match = std::find_if(endpoints.begin(), endpoints.end(),
                              [&](const auto& entry) { return entry.endpoint().protocol() == family; });
    if (match == endpoints.end()) return std::make_error_code(std::errc::address_family_not_supported);
    socket.async_connect(match->endpoint(), [&](boost::system::error_code e) {
      result = e;
      finished = true;
    });
  }
  if (!run_until(*io, deadline, [&] { return finished; }, socket))
    return std::make_error_code(std::errc::timed_out);
  if (result) return std::error_code(result);
  tapped->open_tap(tap, true);
  return std::unique_ptr<stream>(std::make_unique<tcp_stream>(std::move(io), std::move(tapped)));
}

result<std::unique_ptr<listener>> listen_tcp(const std::string& host, unsigned short port, traffic_tap* tap) {
  auto io = std::make_unique<asio::io_context>();
  tcp::acceptor acceptor(*io);
  if (auto ec = detail::open_acceptor(acceptor, host, port)) return ec;
  return std::unique_ptr<listener>(std::make_unique<tcp_listener>(std::move(io), std::move(acceptor), tap));
}

}  // namespace parley::net
