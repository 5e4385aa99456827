// Blocking-with-deadline byte streams for the programs that script a peer step by step: the conformance
// engine and the scripted tests. Every call takes an absolute deadline and never blocks past it. Asio stays
// inside the .cpp files so that including this header costs nothing.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include "impl/core/clock.hpp"
#include "impl/core/result.hpp"

namespace parley::net {

class traffic_tap;  // traffic_tap.hpp

// How a read ended. The conformance verdicts tell these apart (ITP disconnect kinds: FIN, RST, timeout).
enum class read_status { data, closed, reset, timeout, error };

struct read_result {
  read_status status = read_status::error;
  std::string data;         // with status == data
  std::error_code error;    // with status == error
};

class stream {
public:
  virtual ~stream() = default;
  // errc::timed_out when the deadline passes before everything is written.
  virtual std::error_code write(std::string_view bytes, time_point deadline) = 0;
  // Bytes written under the stream's message layer as they are. A WebSocket stream writes them to its TCP
  // connection, so a caller can send frames it built by hand (a fuzzer's odd flags and lengths); streams
  // with no layer over their bytes write them as write() does.
  virtual std::error_code write_below(std::string_view bytes, time_point deadline) { return write(bytes, deadline); }
  virtual read_result read_some(time_point deadline) = 0;
  virtual void shutdown_send() = 0;  // FIN: the peer sees end of stream, reads still work
  virtual void close() = 0;          // orderly close
  virtual void reset() = 0;          // abortive close: the peer sees RST
  // Ends the transport the polite way where it has one, within the deadline: a TLS close_notify, a
  // WebSocket close frame (1000) and its answer; plain TCP is the same as close().
  virtual void close_gracefully(time_point deadline) = 0;
  virtual std::string peer() const = 0;
  // This end's "host:port" (the port a capture shows for the connection); "" when unknown.
  virtual std::string local() const = 0;
  // The socket's descriptor, so a caller can poll several streams for input at once; -1 once closed.
  // Readable does not promise a whole message: read_some may still time out on a partial TLS record.
  virtual int native_handle() = 0;
};

// Connects to host:port over TCP with TCP_NODELAY (replies must not wait for Nagle, ITP-CMD-04). With a
// `local` address the socket is bound to it first, so one machine can appear as several hosts on loopback
// (127.0.0.1, 127.0.0.2: peerchat's STARTCHAT tells users apart by address).
//
// Every function here that makes a socket takes an optional `tap` (traffic_tap.hpp), which then sees what
// that socket, or each socket a listener accepts, reads and writes, and the secrets of its TLS handshakes.
// The tap must outlive them.
result<std::unique_ptr<stream>> connect_tcp(const std::string& host, unsigned short port, time_point deadline,
                                            const std::string& local = {}, traffic_tap* tap = nullptr);

// A listening TCP socket, for client-role cases where the engine plays the server.
class listener {
public:
  virtual ~listener() = default;
  virtual unsigned short port() const = 0;
  virtual result<std::unique_ptr<stream>> accept(time_point deadline) = 0;
};
result<std::unique_ptr<listener>> listen_tcp(const std::string& host, unsigned short port,
                                             traffic_tap* tap = nullptr);

// How a TLS client decides to trust the server. The seeds' servers use self-signed certificates, so
// besides a CA file a client can pin the certificate's SHA-256, or (for testing only) trust anything.
struct tls_client_options {
  std::string ca_file;     // PEM of trusted certificates; the server name is verified against it
  std::string pin_sha256;  // hex SHA-256 of the server's DER certificate (core::certificate_pin)
  bool insecure = false;   // no verification at all
  std::string server_name; // SNI and name to verify; default: the host connected to
};

// TLS 1.2 or newer over TCP. Exactly one of ca_file, pin_sha256 and insecure must be set, else
// errc::invalid_argument. A pin or name mismatch fails the connect with a clear error.
result<std::unique_ptr<stream>> connect_tls(const std::string& host, unsigned short port,
                                            const tls_client_options& trust, time_point deadline,
                                            traffic_tap* tap = nullptr);
// What one TLS client handshake finds out about a server's TLS settings, for a case about them rather than
// a conversation (sslmessager SSLM-TLS-02/04): whether TCP connected, whether the handshake completed, and
// whether the server asked for a client certificate (none is given). With `legacy_versions_only` the client
// offers only TLS 1.0 and 1.1, which a server must refuse. The peer is not verified; the tap sees it all.
struct tls_probe {
  bool connected = false, handshake_ok = false, certificate_requested = false;
  std::string error;  // why the connect or the handshake failed
};
tls_probe probe_tls(const std::string& host, unsigned short port, bool legacy_versions_only, time_point deadline,
                    traffic_tap* tap = nullptr);
// A TLS listener with a PEM certificate chain and private key (as text). The handshake of each accepted
// connection is bounded by accept()'s deadline.
result<std::unique_ptr<listener>> listen_tls(const std::string& host, unsigned short port,
                                             const std::string& certificate_pem, const std::string& key_pem,
                                             traffic_tap* tap = nullptr);

// WebSocket (RFC 6455) over TCP: each write() sends one text message and each read_some() returns one
// whole message (read_result::data), so message boundaries survive. Messages over `max_message` bytes
// end the stream with an error instead of growing memory.
result<std::unique_ptr<stream>> connect_ws(const std::string& host, unsigned short port, const std::string& target,
                                           time_point deadline, std::size_t max_message = 1 << 20,
                                           traffic_tap* tap = nullptr);
result<std::unique_ptr<listener>> listen_ws(const std::string& host, unsigned short port,
                                            std::size_t max_message = 1 << 20, traffic_tap* tap = nullptr);

// One UDP socket bound to a local address, for the peer-to-peer protocols.
struct datagram {
  std::string data;
  std::string host;
  unsigned short port = 0;
};
class udp_socket {
public:
  virtual ~udp_socket() = default;
  virtual unsigned short port() const = 0;
  virtual std::error_code send_to(std::string_view data, const std::string& host, unsigned short port) = 0;
  // The next datagram, or errc::timed_out at the deadline. Datagrams longer than 65507 bytes cannot exist.
  virtual result<datagram> receive(time_point deadline) = 0;
};
result<std::unique_ptr<udp_socket>> bind_udp(const std::string& host, unsigned short port,
                                              traffic_tap* tap = nullptr);

// "host:port" -> parts; nullopt-like error when malformed. IPv6 literals go in brackets: [::1]:1337.
bool split_host_port(std::string_view text, std::string& host, unsigned short& port);

}  // namespace parley::net
