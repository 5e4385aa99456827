// multiparty's Message Transfer Protocol frame (spec/multiparty/spec.md §4): a 24-byte big-endian header,
// the AES-GCM encrypted payload, a 12-byte tag, and for login_req the RSA-encrypted temporary key. This
// file is the plain layout only: how frames are cut from a byte stream and how headers read and write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "impl/core/bytes.hpp"

namespace parley::multiparty {

inline constexpr unsigned short default_port = 5150;
inline constexpr std::size_t header_size = 24;
inline constexpr std::size_t tag_size = 12;
inline constexpr std::size_t min_frame = header_size + tag_size;  // 36: an empty payload
inline constexpr std::size_t max_frame = 0xffff;                 // len is 16 bits
inline constexpr std::uint8_t version_major = 1, version_minor = 0;

enum class msg_type : std::uint16_t {
  init_req = 0x0000, init_res = 0x0010,
  close_req = 0x0100, close_res = 0x0110,
  msg_req = 0x0200, msg_res = 0x0210,
  invite_req = 0x0300, invite_res = 0x0310,
  status_req = 0x0400, status_res = 0x0410,
  login_req = 0x0500, login_res = 0x0510,
};
bool known_type(std::uint16_t value) noexcept;
std::string_view type_name(msg_type t) noexcept;

using user_id = std::uint64_t;     // first 8 bytes of SHA-256(SPKI DER); the server is 0
using session_id = std::uint64_t;  // chosen by the server, never 0, never reused

struct header {
  std::uint8_t ver_major = version_major;
  std::uint8_t ver_minor = version_minor;
  std::uint16_t type = 0;
  std::uint16_t len = 0;  // the whole frame, header and tag (and etk) included
  std::uint16_t sqn = 0;
  session_id sid = 0;
  user_id uid = 0;
  bool operator==(const header&) const = default;
};

bytes encode_header(const header& h);
// The first 24 bytes of `frame`, read as they are: no checks beyond the size.
std::optional<header> decode_header(byte_view frame) noexcept;

// Cuts whole frames out of a TCP byte stream using `len`. A len below 36 is a framing error: the stream can
// no longer be cut reliably, so the connection must end (MP-MTP-03). It holds what was fed and not yet
// taken: the caller bounds that by taking every frame after each feed (at most one partial frame stays).
class frame_reader {
public:
  enum class status { frame, need_more, bad_length };
  void feed(byte_view bytes);
  // On status::frame, `out` holds one whole frame.
  status next(bytes& out);
  std::size_t buffered() const noexcept { return pending_.size() - start_; }

private:
  bytes pending_;
  std::size_t start_ = 0;  // where the next frame begins in pending_
};

// 16 lower-case hex digits, and back (nullopt unless exactly 16 lower-case hex digits: one spelling per id).
std::string id_to_hex(std::uint64_t id);
std::optional<std::uint64_t> id_from_hex(std::string_view hex) noexcept;

}  // namespace parley::multiparty
