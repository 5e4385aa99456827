#include "conformance/wirefuzz/model.hpp"

#include <sstream>

#include "conformance/engine/embedded.hpp"

namespace parley::wirefuzz {

std::vector<std::string> parse_dictionary(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  while (std::getline(in, line)) {
    auto open = line.find('"');
    auto close = line.rfind('"');
    if (line.empty() || line[0] == '#' || open == std::string::npos || close <= open) continue;
    std::string token;
    for (std::size_t i = open + 1; i < close; ++i) {
      if (line[i] != '\\' || i + 1 >= close) {
        token += line[i];
      } else if (line[i + 1] == 'x' && i + 3 < close) {
        token += static_cast<char>(hex(line[i + 2]) * 16 + hex(line[i + 3]));
        i += 3;
      } else {
        token += line[++i];
      }
    }
    if (!token.empty()) out.push_back(token);
  }
  return out;
}

fuzz_model model_for(const conform::adapter& a) {
  fuzz_model m;
  const auto& files = conform::embedded_files();
  if (auto it = files.find("fuzz/dict/" + a.protocol() + ".dict"); it != files.end()) m.tokens = parse_dictionary(it->second);
  m.name_alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
  // The name rules of the five protocols bound names at 3..14 (itp), 32 (peerchat) and the key store's
  // and JSON's limits: each bound, one under it and one over.
  m.name_lengths = {0, 1, 2, 3, 4, 12, 13, 14, 15, 16, 31, 32, 33, 63, 64, 65, 255, 256};
  m.numbers = {"0", "1", "-1", "2", "127", "128", "255", "256", "1023", "1024", "1025", "4095", "4096", "4097",
               "65535", "65536", "2147483647", "2147483648", "4294967295", "4294967296", "18446744073709551616",
               "1e9", "0x10", "00", "+1", "-0", "NaN"};
  m.long_lengths = {255, 256, 1000, 1023, 1024, 1025, 4000, 4001, 4095, 4096, 4097, 8192, 65535, 65536, 70000};
  m.odd_bytes = {std::string(1, '\0'), "\r", "\n", "\t", " ", "\x7f", "\xff", "\x80", "\xc0\x80", "\xed\xa0\x80",
                 "\xef\xbb\xbf", "\xf4\x90\x80\x80", "\xc3", "%s%n", "{", "}", "\"", "\\", ":", ","};
  try {
    m.lines = a.encode("x").ends_with("\n");
  } catch (const std::exception&) {  // a binary protocol has no text form of a message (multiparty)
    m.lines = false;
  }
  m.terminators = {"\n", "\r\n", "\r", "", "\n\n", "\r\r\n", " \n"};
  // What only some protocols have: a sender named in the frame, a frame layer under the messages, and
  // spoilers (signed or sealed with the wrong key, over the wrong bytes, or with a tag bit flipped).
  if (a.protocol() == "securechat") {
    m.frame_step = "securechat.ws_frame";
    for (const char* op : {"securechat.login", "securechat.join"}) {
      m.spoilers.push_back({op, "signer", {"${bob}", "${carol}"}});         // another user's key (SC-JOIN-05)
      m.spoilers.push_back({op, "signed_name", {"${bob}", "x"}});          // over another name (SC-JOIN-04)
      m.spoilers.push_back({op, "signature", {"00", "abcd", "0123456789abcdef"}});  // not a signature
    }
  }
  if (a.protocol() == "multiparty") {
    m.sender_field = "uid";  // frames carry their sender's uid in the header, checked by the server (MP-MTP-09)
    m.spoilers.push_back({"multiparty.send", "tag", {"bad"}});
    m.spoilers.push_back({"multiparty.login", "signed_tk", {"other"}});
    m.spoilers.push_back({"multiparty.login", "signer", {"${bob}", "${carol}"}});
    // len at the header's bounds: none, one under the header (24), the smallest frame (36: header and
    // tag), and the largest.
    m.sealed_texts.push_back({"multiparty.send", "payload", "payload_hex", "len", {"0", "23", "24", "35", "36", "37", "65535"}});
  }
  if (a.protocol() == "peerchat") {
    m.spoilers.push_back({"peerchat.seal", "tamper", {"true"}});
    m.sealed_texts.push_back({"peerchat.seal", "text", "body_hex", "", {}});
  }
  return m;
}

}  // namespace parley::wirefuzz
