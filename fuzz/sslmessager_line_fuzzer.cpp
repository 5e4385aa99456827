// Fuzzes sslmessager's codec: the message reader (CRLF, LF, trailing space, fragments by time, the 4096-byte
// limit), both grammars, the users-file parser and the wire-log redactor.
//
// Input: [mode] then the stream. mode % 4 picks what the input is checked for, so that each input pays
// for one family of checks and libFuzzer keeps inputs per family (the seeds spell the mode as '0'..'3'):
//   0 reader: the stream read whole and cut in two at mode's next byte modulo its size + 1.
//   1 client messages: each message read from the stream through parse_client, a MSG through wire() and back.
//   2 server messages: each message through parse_server.
//   3 files: the stream as a users file, and through the wire-log redactor.
// Invariants: no message holds a
// LF or exceeds the limit, the reader holds at most 4096 bytes, how the bytes were cut does not change the
// messages when every one is terminated, and wire() of a parsed client message parses back to the same.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/check.hpp"
#include "impl/proto/sslmessager/message.hpp"
#include "impl/proto/sslmessager/users.hpp"

namespace {

using namespace parley;
using namespace parley::sslmessager;

std::vector<std::string> read_all(std::string_view bytes, std::size_t cut, bool& too_long) {
  message_reader r;
  std::vector<std::string> out;
  time_point t{};
  too_long = r.feed(bytes.substr(0, cut), t, out) == message_reader::status::too_long;
  if (!too_long) too_long = r.feed(bytes.substr(cut), t + millis(1), out) == message_reader::status::too_long;
  PARLEY_FUZZ_CHECK(too_long || r.held() <= max_message, "the reader holds more than one message");
  r.finish(out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  unsigned mode = data[0] % 4;
  if (mode == 3) {
    auto users = parse_users(bytes);
    for (const auto& [name, entry] : users.users)
      PARLEY_FUZZ_CHECK(valid_name(name) && valid_params(entry.params), "the users parser let a bad line through");
    auth_redactor redact;
    (void)redact(1, bytes);
    return 0;
  }

  bool long_a = false;
  auto whole = read_all(bytes, bytes.size(), long_a);
  for (std::size_t i = 0; i < whole.size(); ++i) {
    const std::string& m = whole[i];
    PARLEY_FUZZ_CHECK(m.find('\n') == std::string::npos, "a message holds a LF");
    // A message ended by its LF has at most 4095 bytes before it; bytes held without one, which the end of
    // the stream delivers as the last message, count the same and may fill all 4096 (SSLM-FRAME-08).
    bool held = i + 1 == whole.size() && !bytes.ends_with('\n');
    PARLEY_FUZZ_CHECK(m.size() + (held ? 0 : 1) <= max_message, "a message over the limit was delivered");
  }

  if (mode == 0) {
    bool long_b = false;
    auto cut = read_all(bytes, bytes.empty() ? 0 : static_cast<std::uint8_t>(bytes[0]) % (bytes.size() + 1), long_b);
    if (!long_a && !long_b && !bytes.empty() && bytes.back() == '\n')
      PARLEY_FUZZ_CHECK(whole == cut, "the messages depend on how the bytes were cut");
    return 0;
  }

  for (const auto& m : whole) {
    if (mode == 2) {
      (void)parse_server(m);
      continue;
    }
    auto c = parse_client(m);
    if (auto* msg = std::get_if<client_msg::msg>(&c)) {
      std::string again = wire("MSG " + msg->target + " " + msg->sender + " " + msg->text);
      bool ignored = false;
      auto back = read_all(again, again.size(), ignored);
      // A text ending in a space loses one space on the way back (the terminator's SP is one optional
      // space), so only texts that do not end in one must survive unchanged.
      if (!msg->text.empty() && msg->text.back() != ' ' && back.size() == 1) {
        auto reparsed = std::get_if<client_msg::msg>(&(c = parse_client(back[0])));
        PARLEY_FUZZ_CHECK(reparsed && reparsed->text == msg->text && reparsed->target == msg->target,
                          "a MSG does not survive wire() and back");
      }
    }
  }
  return 0;
}
