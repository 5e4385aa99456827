#include "impl/proto/securechat/json_text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

namespace parley::securechat {
namespace {

// Which bytes json.dumps copies as they are.
constexpr std::array<bool, 256> plain_bytes = [] {
  std::array<bool, 256> table{};
  for (int b = 0x20; b < 0x80; ++b) table[static_cast<std::size_t>(b)] = b != '"' && b != '\\';
  return table;
}();

// From `from`, the end of the whole 8-byte words that hold only plain bytes (bit tricks on each word: a
// test per word, not per byte, for long texts).
std::size_t plain_words_end(std::string_view text, std::size_t from) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  auto has_zero_byte = [&](std::uint64_t v) { return ((v - ones) & ~v & highs) != 0; };
  while (from + 8 <= text.size()) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + from, 8);
    bool control = ((w - ones * 0x20) & ~w & highs) != 0;  // a byte below 0x20 (once none is 0x80 or above)
    if ((w & highs) || control || has_zero_byte(w ^ (ones * '"')) || has_zero_byte(w ^ (ones * '\\'))) break;
    from += 8;
  }
  return from;
}

}  // namespace

nlohmann::json parse_json(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

int nesting_depth(std::string_view text) noexcept {
  int depth = 0, deepest = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    char c = *p++;
    if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      // To the quote that ends the string: one preceded by an even number of backslashes. memchr leaves a
      // message that is mostly text (a long PublicMessage) at memory speed, not a branch per character.
      for (;;) {
        auto* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (!quote) return deepest;  // an unterminated string: the parser refuses it
        const char* q = quote;
        while (q > p && q[-1] == '\\') --q;
        p = quote + 1;
        if ((quote - q) % 2 == 0) break;
      }
    }
  }
  return deepest;
}

std::size_t plain_run_end(std::string_view text, std::size_t from) noexcept {
  std::size_t run = plain_words_end(text, from);
  while (run < text.size() && plain_bytes[static_cast<unsigned char>(text[run])]) ++run;
  return run;
}

}  // namespace parley::securechat
