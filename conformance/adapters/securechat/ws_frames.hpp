// WebSocket frames built by hand (RFC 6455 §5.2) for securechat.ws_frame: a message with the flags, opcode,
// mask and length a case asks for, right or wrong, so a server's frame parser can be tested and fuzzed
// below the library that otherwise writes every frame correctly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::conform::securechat_frames {

struct frame_spec {
  unsigned opcode = 1;          // of the first frame (low 4 bits): 1 text, 2 binary, 8 close, 9 ping, 10 pong
  bool fin = true;              // on the last frame; the frames before it never have it
  unsigned rsv = 0;             // RSV1-3 (low 3 bits), set on every frame; no extension is negotiated
  bool mask = true;             // clients must mask (RFC 6455 §5.3)
  std::int64_t len_delta = 0;   // the declared payload length minus the real one, on the last frame
  unsigned fragments = 1;       // the payload cut into this many frames (continuations have opcode 0)
  std::uint32_t masking_key = 0x37fa213d;
};

// The frames carrying `payload`. A declared length is written in the shortest form that holds it
// (7 bits, 16 bits or 64 bits) and never below 0.
std::string build(std::string_view payload, const frame_spec& spec);

}  // namespace parley::conform::securechat_frames
