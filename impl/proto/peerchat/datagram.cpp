#include "impl/proto/peerchat/datagram.hpp"

#include <algorithm>
#include <array>

namespace parley::peerchat {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

struct type_spelling {
  std::string_view name;
  datagram_type type;
};
// PC-UDP-03: the original's spellings and the seed's, compared case-insensitively; the seed's CONNECT, MSG
// and CLOSE already match the original's names that way, only KEEPALIVE needs its own entry.
constexpr std::array<type_spelling, 5> spellings{{
    {"Connect", datagram_type::connect},
    {"Msg", datagram_type::msg},
    {"Close", datagram_type::close},
    {"KeepAliveToken", datagram_type::keepalive},
    {"KEEPALIVE", datagram_type::keepalive},
}};

std::string_view without_final_cr(std::string_view field) {
  if (field.ends_with('\r')) field.remove_suffix(1);
  return field;
}

void blank_controls(std::string& text) {
  // PC-UDP-04: the original reads up to NUL and one line of text, so none of these may appear. Three byte
  // searches (memchr) rather than three comparisons per byte: chat text rarely holds any of them.
  for (char control : {'\0', '\r', '\n'})
    for (auto at = text.find(control); at != std::string::npos; at = text.find(control, at + 1)) text[at] = ' ';
}

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

result<plain_datagram> parse_plain(std::string_view datagram) {
  if (datagram.size() > max_datagram) return errc::malformed_datagram;
  if (datagram.find('\0') != std::string_view::npos) return errc::malformed_datagram;
  // PC-HS-01: 0xB2 marks peerchat/2; it can never start a name, so such a datagram is never plain.
  if (!datagram.empty() && static_cast<unsigned char>(datagram[0]) == 0xB2) return errc::malformed_datagram;

  std::string_view user, type, text;
  if (datagram.find('\n') != std::string_view::npos) {
    // The original's layout: user LF type LF text [LF LF]; later fields ignored, a final CR per field dropped.
    std::array<std::string_view, 3> fields{};
    std::string_view rest = datagram;
    for (auto& field : fields) {
      auto lf = rest.find('\n');
      field = without_final_cr(rest.substr(0, lf));
      if (lf == std::string_view::npos) break;
      rest.remove_prefix(lf + 1);
    }
    user = fields[0];
    type = fields[1];
    text = fields[2];
  } else {
    // The seed's layout: user SP type [SP text], the text being the rest of the datagram.
    auto first = datagram.find(' ');
    if (first == std::string_view::npos) return errc::malformed_datagram;
    user = datagram.substr(0, first);
    auto rest = datagram.substr(first + 1);
    auto second = rest.find(' ');
    type = rest.substr(0, second);
    if (second != std::string_view::npos) text = rest.substr(second + 1);
  }
  if (user.empty() || type.empty()) return errc::malformed_datagram;
  auto spelling = std::find_if(spellings.begin(), spellings.end(),
                               [&](const type_spelling& s) { return iequals(s.name, type); });
  if (spelling == spellings.end()) return errc::malformed_datagram;
  return plain_datagram{std::string(user), spelling->type, std::string(text)};
}

std::string format_plain(const plain_datagram& datagram) {
  std::string user = datagram.user;
  std::string text = datagram.text;
  // The user is our own validated name; blanking it too keeps a bad caller from breaking the layout.
  blank_controls(user);
  blank_controls(text);
  std::string out;
  out.reserve(user.size() + text.size() + 20);
  out.append(user).append(1, '\n').append(type_name(datagram.type)).append(1, '\n').append(text).append("\n\n");
  return out;
}

std::string_view type_name(datagram_type type) noexcept {
  switch (type) {
    case datagram_type::connect: return "Connect";
    case datagram_type::msg: return "Msg";
    case datagram_type::close: return "Close";
    case datagram_type::keepalive: return "KeepAliveToken";
  }
  return "Msg";
}

std::vector<std::string> split_text(std::string_view input, std::size_t limit) {
  if (limit == 0) limit = 1;  // a zero limit could never make progress
  std::string text(input);
  blank_controls(text);
  std::vector<std::string> out;
  std::string_view rest = text;
  while (rest.size() > limit) {
    // PC-UDP-04: cut before a UTF-8 lead byte. A sequence is at most 4 bytes, so at most 3 continuation
    // bytes are skipped back; if even that finds no lead byte the input is not UTF-8 and is cut at the limit.
    std::size_t cut = limit;
    while (cut > 0 && limit - cut < 3 && continuation(rest[cut])) --cut;
    if (cut == 0 || continuation(rest[cut])) cut = limit;
    out.emplace_back(rest.substr(0, cut));
    rest.remove_prefix(cut);
  }
  out.emplace_back(rest);
  return out;
}

}  // namespace parley::peerchat
