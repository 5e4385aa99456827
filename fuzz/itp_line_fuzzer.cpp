// Fuzzes the itp codec in both directions: framing, parse_client_line, parse_server_line, and the
// parsers of untrusted key and message tokens.
//
// Input: [mode] then the stream. mode % 4 picks what the input is checked for, so that each input pays
// for one family of checks and libFuzzer keeps inputs per family (the seeds spell the mode as '0'..'3'):
//   0 framing: the stream framed whole and framed cut in two, at its first two bytes (little-endian)
//     modulo its size + 1; the lines must be the same.
//   1 client lines: every line of the stream through parse_client_line, and its round trip.
//   2 server lines: the same with parse_server_line.
//   3 tokens: every line through decode_public_key and open_body, under both body layouts.
// Invariants: serialize() after parse() is a fixpoint, every serialized message is exactly one line, and
// framing does not depend on how the bytes were cut.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/check.hpp"
#include "impl/core/line_framer.hpp"
#include "impl/proto/itp/codec.hpp"
#include "impl/proto/itp/pm_crypto.hpp"

namespace {

using namespace parley;

std::vector<std::string> frame(std::string_view bytes, std::size_t cut) {
  core::line_framer framer({.max_line = itp::default_max_line, .lone_cr_terminates = true});
  std::vector<std::string> lines;
  auto drain = [&] {
    for (;;) {
      auto next = framer.next();
      if (!next || !*next) return;
      if (!(*next)->text.empty()) lines.push_back(std::move((*next)->text));  // empty lines depend on the cut
    }
  };
  framer.feed(bytes.substr(0, cut));
  drain();
  framer.feed(bytes.substr(cut));
  drain();
  return lines;
}

template <class Message, class Parse>
void check_fixpoint(const Message& message, Parse parse) {
  std::string wire = itp::serialize(message);
  PARLEY_FUZZ_CHECK(!wire.empty() && wire.back() == '\n', "serialized message does not end in LF");
  PARLEY_FUZZ_CHECK(wire.find('\n') == wire.size() - 1, "serialized message spans several lines");
  auto again = parse(std::string_view(wire).substr(0, wire.size() - 1));
  PARLEY_FUZZ_CHECK(again.has_value(), "a serialized message does not parse");
  PARLEY_FUZZ_CHECK(itp::serialize(*again) == wire, "serialize(parse(serialize(m))) != serialize(m)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto lines = frame(stream, stream.size());
  switch (data[0] % 4) {
    case 0: {
      std::size_t at = stream.size() < 2 ? 0 : (data[1] | std::size_t{data[2]} << 8) % (stream.size() + 1);
      auto split = frame(stream, at);
      // A line that overflowed poisons the framer at different points depending on the cut; compare only
      // when both framings got through.
      if (lines.size() == split.size()) PARLEY_FUZZ_CHECK(lines == split, "framing depends on how the bytes were cut");
      break;
    }
    case 1:
      for (const auto& line : lines)
        if (auto m = itp::parse_client_line(line)) check_fixpoint(*m, itp::parse_client_line);
      break;
    case 2:
      for (const auto& line : lines)
        if (auto m = itp::parse_server_line(line)) check_fixpoint(*m, itp::parse_server_line);
      break;
    default: {
      static const itp::session_key modern{bytes(32, 0), false};
      static const itp::session_key legacy{bytes(32, 0), true};
      for (const auto& line : lines) {
        (void)itp::decode_public_key(line);
        (void)itp::open_body(modern, "alice", "bob", line);
        (void)itp::open_body(legacy, "alice", "bob", line);
      }
      break;
    }
  }
  return 0;
}
