#include "impl/proto/multiparty/mtp.hpp"

#include "impl/core/crypto/aes.hpp"

namespace parley::multiparty {

bytes nonce_for(direction d, std::uint16_t sqn) {
  bytes n(12, 0);
  n[0] = static_cast<std::uint8_t>(d);
  n[10] = static_cast<std::uint8_t>(sqn >> 8);
  n[11] = static_cast<std::uint8_t>(sqn);
  return n;
}

namespace {

// `seal(nonce, aad, plaintext)` and `open(nonce, aad, sealed)` are AES-GCM under the frame's key, with
// MTP's 12-byte tag; the two public forms differ only in how the key is held.
template <class Seal>
result<bytes> seal_with(Seal seal, direction d, header h, byte_view payload, byte_view trailer) {
  std::size_t total = header_size + payload.size() + tag_size + trailer.size();
  if (total > max_frame) return errc::bad_length;
  h.len = static_cast<std::uint16_t>(total);
  bytes frame = encode_header(h);
  auto sealed = seal(nonce_for(d, h.sqn), frame, payload);
  if (!sealed) return sealed.error();
  frame.insert(frame.end(), sealed->begin(), sealed->end());
  frame.insert(frame.end(), trailer.begin(), trailer.end());
  return frame;
}

template <class Open>
result<opened_frame> open_with(Open open, direction d, byte_view frame, std::size_t trailer) {
  auto h = decode_header(frame);
  if (!h || frame.size() < min_frame + trailer || h->len != frame.size()) return errc::bad_length;
  if (h->ver_major != version_major) return errc::bad_version;
  if (!known_type(h->type)) return errc::unknown_type;
  byte_view aad = frame.first(header_size);
  byte_view sealed = frame.subspan(header_size, frame.size() - header_size - trailer);
  auto plain = open(nonce_for(d, h->sqn), aad, sealed);
  if (!plain) return errc::bad_tag;
  return opened_frame{*h, std::move(*plain)};
}

}  // namespace

result<bytes> seal_frame(byte_view key, direction d, header h, byte_view payload, byte_view trailer) {
  auto seal = [key](byte_view nonce, byte_view aad, byte_view plain) { return core::aes_gcm_seal(key, nonce, aad, plain, tag_size); };
  return seal_with(seal, d, h, payload, trailer);
}

result<bytes> seal_frame(core::aes_gcm_key& key, direction d, header h, byte_view payload, byte_view trailer) {
  auto seal = [&key](byte_view nonce, byte_view aad, byte_view plain) { return key.seal(nonce, aad, plain, tag_size); };
  return seal_with(seal, d, h, payload, trailer);
}

result<opened_frame> open_frame(byte_view key, direction d, byte_view frame, std::size_t trailer) {
  auto open = [key](byte_view nonce, byte_view aad, byte_view sealed) { return core::aes_gcm_open(key, nonce, aad, sealed, tag_size); };
  return open_with(open, d, frame, trailer);
}

result<opened_frame> open_frame(core::aes_gcm_key& key, direction d, byte_view frame, std::size_t trailer) {
  auto open = [&key](byte_view nonce, byte_view aad, byte_view sealed) { return key.open(nonce, aad, sealed, tag_size); };
  return open_with(open, d, frame, trailer);
}

std::optional<std::uint16_t> sequence::next_to_send() noexcept {
  if (exhausted_) return std::nullopt;
  ++last_;
  if (last_ == 0xffff) exhausted_ = true;
  return last_;
}

bool sequence::accept(std::uint16_t sqn) noexcept {
  if (exhausted_ || sqn != last_ + 1) return false;  // after 65535 nothing is next, not even 0
  last_ = sqn;
  if (last_ == 0xffff) exhausted_ = true;
  return true;
}

}  // namespace parley::multiparty
