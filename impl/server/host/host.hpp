// Runs any core::hub over TCP or WebSocket (ARCHITECTURE: one generic host). Single-threaded: every hub
// call happens on the host's thread, so hubs need no locks. Asio and Beast stay in the host's .cpp files.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "impl/core/hub.hpp"
#include "impl/core/result.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace parley::host {

// What one unit handed to the hub is: a TCP chunk (the hub frames the byte stream itself), one whole
// WebSocket message (each send_action is then one text message, and a close_action a close frame 1000),
// or a chunk of a TLS stream (each send_action one write, so one record; a close_action sends close_notify).
enum class transport { tcp, websocket, tls };

struct host_options {
  host::transport transport = transport::tcp;
  std::size_t max_message = 64 * 1024;  // websocket: larger messages close the connection with 1009
  std::string bind = "127.0.0.1";
  unsigned short port = 0;  // 0: an ephemeral port, see host::port()
  bool log_wire = false;    // log each chunk received and each message sent
  // A peer that does not read lets the server's output for it pile up; past this many queued bytes the
  // connection is closed so one slow reader cannot exhaust memory.
  std::size_t max_pending_output = 4 * 1024 * 1024;
  // At most this many connections, and this many from one address. When either is reached, the oldest
  // connection (or handshake) that has not logged in is closed to make room, so a flood of idle connections
  // never locks out a user; only when every one of them has logged in is the newcomer refused.
  std::size_t max_connections = 1024;
  std::size_t max_per_address = 256;
  // The output queued for all connections together; past it the connections with the most queued (the
  // slowest readers) are closed until it is under again, so many slow readers cannot add up to gigabytes.
  std::size_t max_total_output = 256 * 1024 * 1024;
  // A write that has not completed within this ends the connection (0: no limit). sslmessager: 10 s.
  std::chrono::milliseconds write_timeout{0};
  std::function<void(std::string_view)> log;  // one line, no newline; default: stderr
  std::string tls_certificate_pem, tls_key_pem;  // tls: the server's certificate chain and private key
  // A planted fault that lives in the TLS layer (sslmessager's accept-legacy-tls, ask-client-certificate),
  // applied to the server's TLS context once it is made. Never set but for a fault.
  std::function<void(ssl_ctx_st*)> tls_fault;
  // With log_wire: how a received chunk is logged (printable, secrets masked); default core::printable.
  std::function<std::string(core::conn_id, std::string_view)> redact_input;
  // A hub's crash_action that ends the whole process (a planted fault): by default the host logs the
  // reason and exits with status 1, as a server dying of an unhandled error would.
  std::function<void(const std::string& reason)> on_crash;
};

class server {
public:
  // Binds and listens; errors (address in use, bad address) come back here, not from run().
  static result<std::unique_ptr<server>> start(core::hub& hub, host_options options);
  virtual ~server() = default;

  virtual unsigned short port() const = 0;
  // Serves until stop(); returns after every connection is closed.
  virtual void run() = 0;
  // Safe from any thread and from signal-handling code paths that post to the host.
  virtual void stop() = 0;
};

}  // namespace parley::host
