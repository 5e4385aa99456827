// Private to the host: one accepted connection as the host sees it, whatever the transport. A channel
// delivers units (a TCP chunk, or one whole WebSocket message) and writes batches of units; the host owns
// the rest (queueing, limits, the hub, timers). Includes Asio, so only the host's .cpp files include it.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "impl/core/payload.hpp"

namespace parley::host::detail {

class channel {
public:
  virtual ~channel() = default;
  // One unit of input; `data` is nullopt when the stream ended, and `why` then says how.
  using read_handler = std::function<void(std::optional<std::string_view> data, std::string why)>;
  // Empty `error` on success.
  using write_handler = std::function<void(std::string error)>;

  virtual void read(read_handler handler) = 0;
  // Writes every unit, in order, with as few syscalls as the transport allows (one for a batch); the
  // units stay alive and unchanged until the handler runs. TCP joins them into one stream; TLS makes each
  // unit one record and WebSocket one message, as the protocols' original readers need.
  virtual void write(std::span<const core::payload> units, write_handler handler) = 0;
  // Orderly end after the last write: TCP sends FIN; WebSocket sends a close frame (1000) first.
  virtual void finish() = 0;
  // Immediate end, nothing more is written.
  virtual void drop() = 0;
  // Immediate end with a TCP RST.
  virtual void abort() = 0;
};

using channel_ptr = std::shared_ptr<channel>;
// Called once the channel is ready (a WebSocket after its handshake), with an empty `why`; a non-empty
// `why` says why the handshake failed, and the channel is then of no further use.
using ready_handler = std::function<void(channel_ptr ready, std::string why)>;

// What one read of any TCP channel lands in: the host is single-threaded, so its connections share one
// large buffer (a burst is read at once) and an idle connection holds none. A chunk handed to the host is
// only valid until its read handler returns.
using read_buffer = std::array<char, 64 * 1024>;

// `scratch` is where a batch is put together for its send: shared too, since only what the kernel does not
// take at once stays with the connection.
void open_tcp_channel(boost::asio::ip::tcp::socket socket, std::shared_ptr<read_buffer> buffer,
                      std::shared_ptr<std::string> scratch, ready_handler ready);
// Performs the server side of the WebSocket handshake (bounded by Beast's suggested server timeouts),
// then hands over a channel whose units are whole messages of at most `max_message` bytes. The channel is
// returned at once too, so the host can drop it if it stops during the handshake.
channel_ptr open_ws_channel(boost::asio::ip::tcp::socket socket, std::size_t max_message, ready_handler ready);

// The server side of TLS: the handshake (at most 10 s), then a channel of decrypted chunks (read through
// the host's shared buffer, like TCP). Returned at once too, like open_ws_channel. The context comes from
// make_server_tls_context (one per server).
}  // namespace parley::host::detail
namespace boost::asio::ssl {
class context;
}
namespace parley::host::detail {
channel_ptr open_tls_channel(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> context,
                             std::shared_ptr<read_buffer> buffer, ready_handler ready);
// nullptr, with `problem` set, when the certificate or key cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& certificate_pem,
                                                                   const std::string& key_pem, std::string& problem);

}  // namespace parley::host::detail
