// Private to impl/net and the host: a tcp::socket under a TLS or WebSocket layer that turns the layer's many
// small writes into one. Everything the layer writes is appended to an outgoing buffer and completes at
// once; the buffer goes to the kernel in one write when the owner is not holding it (hold / release), so a
// batch of messages (one TLS record or one WebSocket frame each) costs one syscall instead of one each.
// Writes the layer makes on its own (a WebSocket pong, a TLS alert or close_notify) are sent at once, in
// order with the rest. Single-threaded: every call comes from the socket's executor.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace parley::net::detail {

class batching_socket {
public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;
  using next_layer_type = tcp::socket;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  // Made in place and never moved: the flush's handler points back to it.
  explicit batching_socket(tcp::socket socket) : socket_(std::move(socket)) {}
  batching_socket(const batching_socket&) = delete;
  batching_socket& operator=(const batching_socket&) = delete;
  // The layer above (Beast's stream state) may be freed while a flush is still in the kernel's hands; its
  // completion must then touch nothing.
  ~batching_socket() { *alive_ = false; }

  next_layer_type& next_layer() { return socket_; }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  executor_type get_executor() { return socket_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }

  // Appends the bytes and completes (posted, never inline): the layer above goes on to its next write.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          std::size_t n = error_ ? 0 : boost::asio::buffer_size(b);
          if (!error_) {
            auto at = outgoing_.size();
            outgoing_.resize(at + n);
            boost::asio::buffer_copy(boost::asio::buffer(outgoing_.data() + at, n), b);
          }
          boost::asio::post(socket_.get_executor(),
                            [handler = std::move(handler), ec = error_, n]() mutable { std::move(handler)(ec, n); });
          if (!held_) flush();
        },
        token, buffers);
  }

  // Appends bytes the owner framed itself (whole WebSocket frames, say), in order with the layer's writes;
  // they leave with the next flush.
  void append(const char* data, std::size_t size) {
    if (error_) return;
    outgoing_.insert(outgoing_.end(), data, data + size);
    if (!held_) flush();
  }

  // From now on writes are kept until release().
  void hold() { held_ = true; }
  // Sends what was kept, and calls `done` (if any) once everything written so far is with the kernel (or
  // failed).
  void release(std::function<void(boost::system::error_code)> done) {
    held_ = false;
    after_flush(std::move(done));
  }
  // `then` runs once nothing is left to write (a teardown must not shut down sending before that), held or
  // not.
  void after_flush(std::function<void(boost::system::error_code)> then) {
    waiting_.push_back(std::move(then));
    flush();
  }

private:
  void flush() {
    if (flushing_) return;  // the running flush takes the rest when it is done
    if (outgoing_.empty() || error_) {
      auto done = std::exchange(waiting_, {});
      for (auto& f : done)
        if (f) f(error_);
      return;
    }
    flushing_ = true;
    in_flight_.swap(outgoing_);  // in_flight_ was emptied when the last flush completed
    boost::asio::async_write(socket_, boost::asio::buffer(in_flight_),
                             [this, alive = alive_](boost::system::error_code ec, std::size_t) {
                               if (!*alive) return;
                               flushing_ = false;
                               in_flight_.clear();
                               // A burst's buffer is not kept for an idle connection.
                               if (in_flight_.capacity() > 64 * 1024) std::vector<char>().swap(in_flight_);
                               if (ec) error_ = ec;
                               // While held, a flush goes on only for someone waiting on it: a WebSocket
                               // or TLS teardown (after_flush) must not wait for the owner's release, which
                               // may itself wait for that layer's close to finish.
                               if (!held_ || error_ || !waiting_.empty()) flush();
                             });
  }

  tcp::socket socket_;
  std::vector<char> outgoing_, in_flight_;
  std::vector<std::function<void(boost::system::error_code)>> waiting_;
  boost::system::error_code error_;  // a failed write fails every later one
  bool held_ = false;
  bool flushing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace parley::net::detail
