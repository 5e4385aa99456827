// The client side of TLS on a non-blocking descriptor, for a program that runs its own epoll loop
// (parley-load): OpenSSL on the same sockets and the same loop as plain TCP. Made for measuring a server,
// not judging its certificate (parley-conform does): the peer is not verified.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace parley::net {

class fd_tls_context {
public:
  fd_tls_context();  // throws std::runtime_error when OpenSSL cannot make one
  ~fd_tls_context();
  fd_tls_context(const fd_tls_context&) = delete;
  fd_tls_context& operator=(const fd_tls_context&) = delete;
  ssl_ctx_st* get() const { return ctx_; }

private:
  ssl_ctx_st* ctx_ = nullptr;
};

// What an operation needs before it can go on.
enum class tls_wait { none, readable, writable, failed };

class fd_tls_stream {
public:
  fd_tls_stream(const fd_tls_context& context, int fd);
  ~fd_tls_stream();
  fd_tls_stream(const fd_tls_stream&) = delete;
  fd_tls_stream& operator=(const fd_tls_stream&) = delete;

  bool handshaken() const;
  // Goes on with the handshake; none once it is done.
  tls_wait handshake();
  // Bytes of application data into `buffer`; 0 with `wait` set when none can be read now (readable: wait
  // for the socket; failed: the connection is over, `error()` says why).
  std::size_t read(char* buffer, std::size_t size, tls_wait& wait);
  // Bytes of `data` taken (maybe fewer than all); 0 with `wait` set when none can be taken now.
  std::size_t write(std::string_view data, tls_wait& wait);
  const std::string& error() const { return error_; }

private:
  tls_wait wait_for(int result);
  // Moves what the socket holds into the read BIO: 1 when bytes came, 0 when none are there yet, -1 when
  // the socket ended or failed (OpenSSL then sees the end of the stream).
  int fill();
  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;  // owned by ssl_
  int fd_;
  std::string error_;
};

}  // namespace parley::net
