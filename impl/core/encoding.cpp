#include "impl/core/encoding.hpp"

#include <array>

namespace parley::core {
namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";
constexpr std::string_view b64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<int, 256> make_b64_table() {
  std::array<int, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < b64_alphabet.size(); ++i)
    table[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<int>(i);
  return table;
}
constexpr auto b64_table = make_b64_table();

}  // namespace

// The encoders write into a string sized once: every byte of every key, uid and signature Parley sends
// passes through them, and a capacity check per character was most of their cost.
std::string to_hex(byte_view data) {
  std::string out(data.size() * 2, '\0');
  char* o = out.data();
  for (auto b : data) {
    *o++ = hex_digits[b >> 4];
    *o++ = hex_digits[b & 0x0f];
  }
  return out;
}

result<bytes> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return errc::invalid_hex;
  bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return errc::invalid_hex;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::string to_base64(byte_view data) {
  std::string out((data.size() + 2) / 3 * 4, '=');
  char* o = out.data();
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = std::uint32_t(data[i]) << 16 | std::uint32_t(data[i + 1]) << 8 | data[i + 2];
    *o++ = b64_alphabet[v >> 18];
    *o++ = b64_alphabet[(v >> 12) & 0x3f];
    *o++ = b64_alphabet[(v >> 6) & 0x3f];
    *o++ = b64_alphabet[v & 0x3f];
  }
  std::size_t rest = data.size() - i;
  if (rest > 0) {  // the padding '=' are already in place
    std::uint32_t v = std::uint32_t(data[i]) << 16;
    if (rest == 2) v |= std::uint32_t(data[i + 1]) << 8;
    *o++ = b64_alphabet[v >> 18];
    *o++ = b64_alphabet[(v >> 12) & 0x3f];
    if (rest == 2) *o = b64_alphabet[(v >> 6) & 0x3f];
  }
  return out;
}

result<bytes> from_base64(std::string_view text) {
  if (text.size() % 4 != 0) return errc::invalid_base64;
  bytes out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    std::array<int, 4> v{};
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return errc::invalid_base64;  // data after padding
      v[k] = b64_table[static_cast<unsigned char>(c)];
      if (v[k] < 0) return errc::invalid_base64;
    }
    std::uint32_t n = std::uint32_t(v[0]) << 18 | std::uint32_t(v[1]) << 12 | std::uint32_t(v[2]) << 6 |
                      std::uint32_t(v[3]);
    // Canonical form only: the bits a padded group does not use must be zero.
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) return errc::invalid_base64;
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(n));
  }
  return out;
}

std::string printable(std::string_view bytes) {
  // Printable ASCII but the backslash is shown as it is. Runs of it are copied whole and found through a
  // table, not a chain of comparisons per byte: every wire log passes every byte through here.
  static constexpr auto as_is = [] {
    std::array<bool, 256> table{};
    for (int c = 0x20; c < 0x7f; ++c) table[static_cast<std::size_t>(c)] = c != '\\';
    return table;
  }();
  std::string out;
  out.reserve(bytes.size());
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p != end) {
    const char* run = p;
    while (run != end && as_is[static_cast<unsigned char>(*run)]) ++run;
    out.append(p, run);
    if (run == end) break;
    auto c = static_cast<unsigned char>(*run);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else {
      out += "\\x";
      out += hex_digits[c >> 4];
      out += hex_digits[c & 15];
    }
    p = run + 1;
  }
  return out;
}

}  // namespace parley::core
