// The event-driven side of impl/net: one connection, whatever the transport, for programs that run an Asio
// loop (the server host, the clients). A channel delivers units (a TCP chunk, or one whole WebSocket
// message) and writes batches of units; its owner does the rest (queueing, limits, the protocol, timers).
// The blocking streams of stream.hpp are the other side, for programs that script a peer step by step.
// Includes Asio, so only .cpp files (and the clients' driver) include it.
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

struct ssl_st;  // OpenSSL's SSL, for a TLS channel's owner that checks the peer's certificate itself

namespace parley::net {

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
  // A TLS channel's session (after the handshake: the peer's certificate, for a pin); nullptr for the others.
  virtual ssl_st* tls_session() { return nullptr; }
};

using channel_ptr = std::shared_ptr<channel>;
// Called once the channel is ready (a WebSocket after its handshake), with an empty `why`; a non-empty
// `why` says why the handshake failed, and the channel is then of no further use.
using ready_handler = std::function<void(channel_ptr ready, std::string why)>;

// A TCP connection to host:port made on `io` (blocking: a client connects before its loop runs; the
// channel it is opened as sets TCP_NODELAY); from `local` (an address, port any) when given, so one machine can act as several hosts.
// The error is the last endpoint's, or address_family_not_supported when none has the local address's
// family.
boost::asio::ip::tcp::socket connect_socket(boost::asio::io_context& io, const std::string& host, unsigned short port,
                                            const std::string& local, boost::system::error_code& ec);

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
// The client side: the upgrade request for `target` with `host` as its Host header, then the same channel,
// whose frames are masked as a client's must be (RFC 6455 §5.3).
channel_ptr open_ws_client_channel(boost::asio::ip::tcp::socket socket, const std::string& host,
                                   const std::string& target, std::size_t max_message, ready_handler ready);

// The server side of TLS: the handshake (at most 10 s), then a channel of decrypted chunks (read through
// the host's shared buffer, like TCP). Returned at once too, like open_ws_channel. The context comes from
// make_server_tls_context (one per server).
}  // namespace parley::net
namespace boost::asio::ssl {
class context;
}
namespace parley::net {
channel_ptr open_tls_channel(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> context,
                             std::shared_ptr<read_buffer> buffer, ready_handler ready);
// The client side, with `server_name` as SNI. Whether the server is trusted is the context's verification
// (a CA and a host name check), or the owner's from tls_session() in `ready` (a pin). The handshake is
// bounded as the server's is.
channel_ptr open_tls_client_channel(boost::asio::ip::tcp::socket socket,
                                    std::shared_ptr<boost::asio::ssl::context> context,
                                    std::shared_ptr<read_buffer> buffer, const std::string& server_name,
                                    ready_handler ready);
// nullptr, with `problem` set, when the certificate or key cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& certificate_pem,
                                                                   const std::string& key_pem, std::string& problem);

}  // namespace parley::net
