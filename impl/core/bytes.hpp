// Byte buffers. Wire data is held as std::string (bytes, not text) so that it moves between the codecs, Asio
// and the tests without copies; `bytes` is for binary values such as keys and ciphertexts.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

using bytes = std::vector<std::uint8_t>;
using byte_view = std::span<const std::uint8_t>;

inline byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(byte_view b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline bytes to_bytes(std::string_view s) { return {s.begin(), s.end()}; }
inline std::string to_string(byte_view b) { return std::string(as_chars(b)); }
inline bytes to_owned(byte_view b) { return {b.begin(), b.end()}; }

}  // namespace parley
