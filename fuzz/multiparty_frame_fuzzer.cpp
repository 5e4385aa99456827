// Fuzzes multiparty frame handling: cutting frames from a stream, headers, and opening frames.
// Input: [mode:1] then stream bytes. mode % 2 picks what the input is checked for, so that each input pays
// for one of them and libFuzzer keeps inputs per family:
//   0 framing: the stream fed in pieces of (mode / 2) % 7 + 1 bytes and fed whole must give the same
//     frames and end in the same state.
//   1 frames: each frame of the stream (fed whole) decoded, re-encoded, and opened in both directions.
// Invariants: the reader never returns a frame shorter than 36 bytes or different from its len; a cut never
// depends on the piece size; encode(decode(header)) gives the header back; a frame that opens re-seals to
// the same bytes (the key is fixed, the nonce comes from the header).
#include <cstdint>
#include <vector>

#include "fuzz/check.hpp"
#include "impl/proto/multiparty/mtp.hpp"

using namespace parley;
using namespace parley::multiparty;

namespace {

std::vector<bytes> cut(byte_view stream, std::size_t piece, frame_reader::status& last) {
  frame_reader r;
  std::vector<bytes> frames;
  last = frame_reader::status::need_more;
  for (std::size_t i = 0; i < stream.size() && last != frame_reader::status::bad_length; i += piece) {
    r.feed(stream.subspan(i, std::min(piece, stream.size() - i)));
    bytes f;
    while ((last = r.next(f)) == frame_reader::status::frame) frames.push_back(f);
  }
  return frames;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  byte_view stream(data + 1, size - 1);
  frame_reader::status whole_end;
  auto whole = cut(stream, stream.size() + 1, whole_end);
  if (data[0] % 2 == 0) {
    frame_reader::status pieces_end;
    auto pieces = cut(stream, data[0] / 2 % 7 + 1, pieces_end);
    PARLEY_FUZZ_CHECK(pieces == whole && pieces_end == whole_end, "frames depend on how the stream was cut");
    return 0;
  }

  // A session's key object, as servers and clients hold one: keyed once, a nonce per frame.
  static core::aes_gcm_key key(bytes(32, 0x5a));
  for (const auto& f : whole) {
    PARLEY_FUZZ_CHECK(f.size() >= min_frame && f.size() <= max_frame, "a frame outside 36..65535 bytes");
    auto h = decode_header(f);
    PARLEY_FUZZ_CHECK(h && h->len == f.size(), "a frame whose len is not its size");
    PARLEY_FUZZ_CHECK(encode_header(*h) == bytes(f.begin(), f.begin() + header_size), "header round trip");
    for (auto d : {direction::to_server, direction::to_client}) {
      auto opened = open_frame(key, d, f);
      if (!opened) continue;
      auto again = seal_frame(key, d, opened->h, opened->payload);
      PARLEY_FUZZ_CHECK(again && *again == f, "an opened frame does not re-seal to itself");
    }
  }
  return 0;
}
