// Sealing and opening MTP frames (spec §5): AES-256-GCM with a 12-byte tag, the 24-byte header as
// associated data, and a nonce made of the direction and the sequence number. Keys are fresh per
// connection and per direction, and sqn never repeats under one key, so no nonce is ever used twice.
#pragma once

#include "impl/core/crypto/aes.hpp"
#include "impl/core/result.hpp"
#include "impl/proto/multiparty/errc.hpp"
#include "impl/proto/multiparty/frame.hpp"

namespace parley::multiparty {

enum class direction : std::uint8_t { to_server = 0x01, to_client = 0x02 };

// direction || nine zero bytes || sqn (big-endian).
bytes nonce_for(direction d, std::uint16_t sqn);

// A whole frame: `h` with len filled in, then GCM(payload) and its tag, then `trailer` (login_req's etk),
// which len counts but the AEAD does not cover. errc::bad_length when the frame would exceed 65535 bytes.
result<bytes> seal_frame(byte_view key, direction d, header h, byte_view payload, byte_view trailer = {});
// The same under a session's key object, which keys its cipher context once for all of the session's frames.
result<bytes> seal_frame(core::aes_gcm_key& key, direction d, header h, byte_view payload, byte_view trailer = {});

struct opened_frame {
  header h;
  bytes payload;
};
// Checks the version, that len equals the frame's size, and the tag; `trailer` bytes at the end are not
// part of the AEAD (login_req). The caller checks type, sqn and uid against its state.
result<opened_frame> open_frame(byte_view key, direction d, byte_view frame, std::size_t trailer = 0);
result<opened_frame> open_frame(core::aes_gcm_key& key, direction d, byte_view frame, std::size_t trailer = 0);

// Strictly sequential numbering per direction (MP-MTP): the first frame is 1, each next one is exactly
// previous + 1, and 65535 is the last one a connection may carry.
class sequence {
public:
  // The sqn for the next frame to send; nullopt once 65535 has been used (the connection must end).
  std::optional<std::uint16_t> next_to_send() noexcept;
  // Whether a received frame's sqn is the expected one; if it is, it becomes the last one seen.
  bool accept(std::uint16_t sqn) noexcept;
  std::uint16_t last() const noexcept { return last_; }

private:
  std::uint16_t last_ = 0;
  bool exhausted_ = false;
};

}  // namespace parley::multiparty
