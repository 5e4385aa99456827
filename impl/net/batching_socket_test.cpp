// The batching socket under the host's TLS and WebSocket channels, over a real loopback connection.
#include "impl/net/detail/batching_socket.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

#include <string>

namespace parley::net::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct connected {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::socket peer{io};
  std::unique_ptr<batching_socket> batching;

  connected() {
    tcp::socket ours(io);
    ours.connect(acceptor.local_endpoint());
    peer = acceptor.accept();
    batching = std::make_unique<batching_socket>(std::move(ours));
  }
  // What the peer has received, waiting at most until `bytes` arrived.
  std::string received(std::size_t bytes) {
    std::string data(bytes, '\0');
    asio::read(peer, asio::buffer(data));
    return data;
  }
  void write(const std::string& text) {
    asio::async_write(*batching, asio::buffer(text), [](boost::system::error_code ec, std::size_t) {
      EXPECT_FALSE(ec) << ec.message();
    });
  }
};

TEST(BatchingSocket, HeldWritesLeaveAsOneWhenReleased) {
  connected c;
  c.batching->hold();
  c.write("one ");
  c.write("two ");
  c.io.run();  // both writes complete while held: nothing has been sent
  c.peer.non_blocking(true);
  char byte;
  boost::system::error_code ec;
  c.peer.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::would_block);
  bool released = false;
  c.batching->release([&](boost::system::error_code error) {
    EXPECT_FALSE(error);
    released = true;
  });
  c.io.restart();
  c.io.run();
  EXPECT_TRUE(released);
  c.peer.non_blocking(false);
  EXPECT_EQ(c.received(8), "one two ");
}

TEST(BatchingSocket, AFlushSomeoneWaitsForDoesNotWaitForTheRelease) {
  // A WebSocket close under a held batch: the close frame is written, the teardown waits for the flush,
  // and the batch's release waits for the close. The flush must go on while held.
  connected c;
  c.batching->hold();
  c.write("close frame");
  bool flushed = false;
  c.batching->after_flush([&](boost::system::error_code error) {
    EXPECT_FALSE(error);
    flushed = true;
  });
  c.io.run();
  EXPECT_TRUE(flushed);
  EXPECT_EQ(c.received(11), "close frame");
}

TEST(BatchingSocket, AFlushOutlivingItsSocketTouchesNothing) {
  // A WebSocket whose peer reset it: the channel and Beast's state are freed while a flush is pending; its
  // completion, aborted, must not touch the freed socket. (The reference server died of a double free
  // there; under AddressSanitizer the old socket fails this test with a heap-use-after-free.)
  connected c;
  c.batching->next_layer().set_option(asio::socket_base::send_buffer_size(4096));
  const std::string big(8 << 20, 'x');  // more than the kernel takes while the peer does not read
  c.write(big);
  c.io.poll();
  c.batching.reset();
  c.io.restart();
  c.io.run();  // the aborted flush completes here
  SUCCEED();
}

TEST(BatchingSocket, UnheldWritesGoOutAtOnce) {
  connected c;
  c.write("pong");
  c.io.run();
  EXPECT_EQ(c.received(4), "pong");
}

}  // namespace
}  // namespace parley::net::detail
