#include "conformance/adapters/securechat/ws_frames.hpp"

#include <algorithm>

namespace parley::conform::securechat_frames {
namespace {

void put_length(std::string& out, bool mask, std::uint64_t length) {
  auto mask_bit = static_cast<unsigned char>(mask ? 0x80 : 0);
  if (length < 126) {
    out += static_cast<char>(mask_bit | length);
  } else if (length <= 0xffff) {
    out += static_cast<char>(mask_bit | 126);
    for (int shift = 8; shift >= 0; shift -= 8) out += static_cast<char>(length >> shift & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>(length >> shift & 0xff);
  }
}

void put_frame(std::string& out, unsigned opcode, bool fin, const frame_spec& spec, std::string_view payload,
               std::uint64_t declared) {
  out += static_cast<char>((fin ? 0x80 : 0) | (spec.rsv & 7) << 4 | (opcode & 15));
  put_length(out, spec.mask, declared);
  if (!spec.mask) {
    out += payload;
    return;
  }
  unsigned char key[4] = {static_cast<unsigned char>(spec.masking_key >> 24), static_cast<unsigned char>(spec.masking_key >> 16),
                          static_cast<unsigned char>(spec.masking_key >> 8), static_cast<unsigned char>(spec.masking_key)};
  out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ key[i % 4]);
}

}  // namespace

std::string build(std::string_view payload, const frame_spec& spec) {
  std::size_t count = std::clamp<std::size_t>(spec.fragments, 1, std::max<std::size_t>(payload.size(), 1));
  std::string out;
  std::size_t from = 0;
  for (std::size_t i = 0; i < count; ++i) {
    bool last = i + 1 == count;
    std::size_t size = last ? payload.size() - from : payload.size() / count;
    std::string_view piece = payload.substr(from, size);
    from += size;
    std::uint64_t declared = piece.size();
    if (last) {
      auto wanted = static_cast<std::int64_t>(piece.size()) + spec.len_delta;
      declared = wanted < 0 ? 0 : static_cast<std::uint64_t>(wanted);
    }
    put_frame(out, i == 0 ? spec.opcode : 0, last && spec.fin, spec, piece, declared);
  }
  return out;
}

}  // namespace parley::conform::securechat_frames
