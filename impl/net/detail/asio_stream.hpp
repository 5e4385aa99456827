// Private to impl/net: the deadline loop and the stream template shared by TCP and TLS. Includes Asio, so
// only impl/net's .cpp files include it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <type_traits>

#include "impl/net/detail/tapped_socket.hpp"
#include "impl/net/stream.hpp"

namespace parley::net::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

// Runs `io` until `done()` or the deadline; on timeout cancels the pending operation of `io_object` (a
// socket or an acceptor) and drains its handler, so nothing completes later into the caller's stack.
template <class Done, class IoObject>
bool run_until(asio::io_context& io, time_point deadline, Done&& done, IoObject& io_object) {
  io.restart();
  while (!done()) {
    if (io.run_one_until(deadline) == 0 && !done() && clock_type::now() >= deadline) {
      boost::system::error_code ignored;
      io_object.cancel(ignored);
      io.restart();
      io.run();
      return false;
    }
  }
  return true;
}

// Accepts one connection into `socket` (which may belong to another io_context) before the deadline.
inline std::error_code accept_until(asio::io_context& io, tcp::acceptor& acceptor, tcp::socket& socket,
                                    time_point deadline) {
  bool finished = false;
  boost::system::error_code result;
  acceptor.async_accept(socket, [&](boost::system::error_code ec) {
    result = ec;
    finished = true;
  });
  if (!run_until(io, deadline, [&] { return finished; }, acceptor)) return std::make_error_code(std::errc::timed_out);
  return result;
}

// open, SO_REUSEADDR, bind and listen.
inline std::error_code open_acceptor(tcp::acceptor& acceptor, const std::string& host, unsigned short port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return ec;
  tcp::endpoint ep(address, port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  return ec;
}

// The tapped socket under a stream: the stream itself, or the next layer of a TLS stream.
inline tapped_socket& tap_layer(tapped_socket& s) { return s; }
template <class Next>
tapped_socket& tap_layer(Next& s) { return s.next_layer(); }

// A blocking-with-deadline stream over an Asio stream (tapped_socket or ssl::stream<tapped_socket>).
template <class AsioStream>
class asio_stream final : public stream {
public:
  asio_stream(std::unique_ptr<asio::io_context> io, std::unique_ptr<AsioStream> s)
      : io_(std::move(io)), stream_(std::move(s)) {
    boost::system::error_code ec;
    socket().set_option(tcp::no_delay(true), ec);
    auto ep = socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    ep = socket().local_endpoint(ec);
    if (!ec) local_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~asio_stream() override { close(); }

  std::error_code write(std::string_view bytes, time_point deadline) override {
    bool finished = false;
    boost::system::error_code result;
    asio::async_write(*stream_, asio::buffer(bytes.data(), bytes.size()), [&](boost::system::error_code ec, std::size_t) {
      result = ec;
      finished = true;
    });
    if (!run_until(*io_, deadline, [&] { return finished; }, socket())) return std::make_error_code(std::errc::timed_out);
    return result;
  }

  // A read that reaches its deadline is not cancelled (cancelling a TLS read mid-record can break the
  // session); it stays in flight and the next call waits for the same read.
  read_result read_some(time_point deadline) override {
    if (!reading_) {
      reading_ = true;
      read_done_ = false;
      stream_->async_read_some(asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
        read_error_ = ec;
        read_size_ = n;
        read_done_ = true;
      });
    }
    io_->restart();
    while (!read_done_ && io_->run_one_until(deadline) > 0) {
    }
    if (!read_done_) return {read_status::timeout, {}, {}};
    reading_ = false;
    if (read_size_ > 0) return {read_status::data, std::string(buffer_.data(), read_size_), {}};
    // A TLS peer that closes TCP without close_notify is a truncation; for verdicts it is a close.
    if (read_error_ == asio::error::eof || read_error_ == asio::ssl::error::stream_truncated)
      return {read_status::closed, {}, {}};
    if (read_error_ == asio::error::connection_reset) return {read_status::reset, {}, {}};
    return {read_status::error, {}, read_error_};
  }

  void shutdown_send() override { tap_layer(*stream_).shutdown_send(); }
  void close() override { tap_layer(*stream_).close(); }
  void reset() override { tap_layer(*stream_).reset(); }
  void close_gracefully(time_point deadline) override {
    // TLS: close_notify first. Not while a read is in flight: Asio's TLS stream must not shut down under it.
    if constexpr (!std::is_same_v<AsioStream, tapped_socket>) {
      if (!reading_ && socket().is_open()) {
        bool finished = false;
        stream_->async_shutdown([&](boost::system::error_code) { finished = true; });
        run_until(*io_, deadline, [&] { return finished; }, socket());
      }
    }
    close();
  }
  std::string peer() const override { return peer_; }
  std::string local() const override { return local_; }
  int native_handle() override { return socket().is_open() ? static_cast<int>(socket().native_handle()) : -1; }

  tcp::socket& socket() { return tap_layer(*stream_).socket(); }

private:
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<AsioStream> stream_;
  std::array<char, 65536> buffer_{};
  std::string peer_, local_;
  bool reading_ = false;
  bool read_done_ = false;
  std::size_t read_size_ = 0;
  boost::system::error_code read_error_;
};

}  // namespace parley::net::detail
