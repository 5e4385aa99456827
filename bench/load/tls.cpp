#include "bench/load/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace parley::load {

tls_context::tls_context() : ctx_(SSL_CTX_new(TLS_client_method())) {
  if (!ctx_) throw std::runtime_error("cannot make a TLS context");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  // A write may take part of the buffer, and the buffer may move before the rest goes (c.out grows).
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Without read-ahead OpenSSL reads a record's 5-byte header and then its body, two syscalls a record,
  // and a relay of short lines is one record per line: the load tool, not the server, would be measured.
  SSL_CTX_set_read_ahead(ctx_, 1);
  SSL_CTX_set_default_read_buffer_len(ctx_, 64 * 1024);
}

tls_context::~tls_context() { SSL_CTX_free(ctx_); }

tls_stream::tls_stream(const tls_context& context, int fd) : ssl_(SSL_new(context.get())) {
  if (!ssl_ || SSL_set_fd(ssl_, fd) != 1) throw std::runtime_error("cannot make a TLS connection");
  SSL_set_connect_state(ssl_);
}

tls_stream::~tls_stream() { SSL_free(ssl_); }

tls_wait tls_stream::wait_for(int result) {
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

bool tls_stream::handshaken() const { return SSL_is_init_finished(ssl_) == 1; }

tls_wait tls_stream::handshake() {
  if (handshaken()) return tls_wait::none;
  int result = SSL_do_handshake(ssl_);
  return result == 1 ? tls_wait::none : wait_for(result);
}

std::size_t tls_stream::read(char* buffer, std::size_t size, tls_wait& wait) {
  std::size_t n = 0;
  if (SSL_read_ex(ssl_, buffer, size, &n) == 1) {
    wait = tls_wait::none;
    return n;
  }
  wait = wait_for(0);
  return 0;
}

std::size_t tls_stream::write(std::string_view data, tls_wait& wait) {
  std::size_t n = 0;
  if (SSL_write_ex(ssl_, data.data(), data.size(), &n) == 1) {
    wait = tls_wait::none;
    return n;
  }
  wait = wait_for(0);
  return 0;
}

}  // namespace parley::load
