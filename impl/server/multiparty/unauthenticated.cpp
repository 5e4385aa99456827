#include "impl/server/multiparty/unauthenticated.hpp"

#include <openssl/evp.h>

#include <memory>

namespace parley::multiparty {

result<opened_frame> open_frame_ignoring_tag(byte_view key, direction d, byte_view frame) {
  auto h = decode_header(frame);
  if (!h || frame.size() < min_frame || h->len != frame.size()) return errc::bad_length;
  bytes iv = nonce_for(d, h->sqn);
  iv.insert(iv.end(), {0, 0, 0, 2});  // GCM's first keystream block for a 96-bit nonce
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  byte_view body = frame.subspan(header_size, frame.size() - header_size - tag_size);
  bytes plain(body.size() + 16);
  int len = 0;
  if (!ctx || key.size() != 32 || EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_ctr(), key.data(), iv.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), plain.data(), &len, body.data(), static_cast<int>(body.size())) != 1)
    return errc::bad_tag;
  plain.resize(static_cast<std::size_t>(len));
  return opened_frame{*h, std::move(plain)};
}

}  // namespace parley::multiparty
