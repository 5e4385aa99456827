#include "impl/net/tls_client_fd.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace parley::net {

fd_tls_context::fd_tls_context() : ctx_(SSL_CTX_new(TLS_client_method())) {
  if (!ctx_) throw std::runtime_error("cannot make a TLS context");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  // A write may take part of the buffer, and the buffer may move before the rest goes (c.out grows).
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

fd_tls_context::~fd_tls_context() { SSL_CTX_free(ctx_); }

// Records are read from a memory BIO that fill() tops up with one large recv: a relay of short lines is one
// record per line, and OpenSSL reading the socket itself costs either two syscalls a record (a header, then
// the body) or, with read-ahead, a move of everything still unread to the front of its buffer for every
// record read (a third of the load tool's time). Writes go to the socket directly.
fd_tls_stream::fd_tls_stream(const fd_tls_context& context, int fd) : ssl_(SSL_new(context.get())), fd_(fd) {
  if (!ssl_) throw std::runtime_error("cannot make a TLS connection");
  in_ = BIO_new(BIO_s_mem());
  BIO* out = BIO_new_socket(fd, BIO_NOCLOSE);
  if (!in_ || !out) {
    BIO_free(in_);
    BIO_free(out);
    throw std::runtime_error("cannot make a TLS connection");
  }
  BIO_set_mem_eof_return(in_, -1);  // empty means "wait for more", until fill() finds the socket's end
  SSL_set_bio(ssl_, in_, out);      // ssl_ owns both from here
  SSL_set_connect_state(ssl_);
}

int fd_tls_stream::fill() {
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      BIO_write(in_, buffer, static_cast<int>(n));
      return 1;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    BIO_set_mem_eof_return(in_, 0);  // OpenSSL now sees the end of the stream
    return -1;
  }
}

fd_tls_stream::~fd_tls_stream() { SSL_free(ssl_); }

tls_wait fd_tls_stream::wait_for(int result) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ: return tls_wait::readable;
    case SSL_ERROR_WANT_WRITE: return tls_wait::writable;
    case SSL_ERROR_ZERO_RETURN: error_ = "the target closed the TLS session"; return tls_wait::failed;
    default: {
      char text[256] = "the connection was closed";
      if (auto code = ERR_get_error()) ERR_error_string_n(code, text, sizeof text);
      ERR_clear_error();
      error_ = std::string("TLS: ") + text;
      return tls_wait::failed;
    }
  }
}

bool fd_tls_stream::handshaken() const { return SSL_is_init_finished(ssl_) == 1; }

tls_wait fd_tls_stream::handshake() {
  for (;;) {
    if (handshaken()) return tls_wait::none;
    int result = SSL_do_handshake(ssl_);
    if (result == 1) return tls_wait::none;
    if (SSL_get_error(ssl_, result) != SSL_ERROR_WANT_READ || fill() == 0) return wait_for(result);
  }
}

std::size_t fd_tls_stream::read(char* buffer, std::size_t size, tls_wait& wait) {
  for (;;) {
    std::size_t n = 0;
    if (SSL_read_ex(ssl_, buffer, size, &n) == 1) {
      wait = tls_wait::none;
      return n;
    }
    if (SSL_get_error(ssl_, 0) != SSL_ERROR_WANT_READ || fill() == 0) break;
  }
  wait = wait_for(0);
  return 0;
}

std::size_t fd_tls_stream::write(std::string_view data, tls_wait& wait) {
  std::size_t n = 0;
  if (SSL_write_ex(ssl_, data.data(), data.size(), &n) == 1) {
    wait = tls_wait::none;
    return n;
  }
  wait = wait_for(0);
  return 0;
}

}  // namespace parley::net
