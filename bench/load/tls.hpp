// TLS for parley-load's connections: OpenSSL on the same non-blocking sockets and the same epoll loop as
// plain TCP. The load tool measures a server, it does not judge its certificate (parley-conform does):
// the peer is not verified.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace parley::load {

class tls_context {
public:
  tls_context();  // throws std::runtime_error when OpenSSL cannot make one
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;
  ssl_ctx_st* get() const { return ctx_; }

private:
  ssl_ctx_st* ctx_ = nullptr;
};

// What an operation needs before it can go on.
enum class tls_wait { none, readable, writable, failed };

class tls_stream {
public:
  tls_stream(const tls_context& context, int fd);
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

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

}  // namespace parley::load
