// Fuzzes the itp codec in both directions: framing, parse_client_line, parse_server_line, and the
// parsers of untrusted key and message tokens. Invariants: serialize() after parse() is a fixpoint, every
// serialized message is exactly one line, and framing does not depend on how the bytes were cut.
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
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  auto whole = frame(input, size);
  auto split = frame(input, cut);
  // A line that overflowed poisons the framer at different points depending on the cut; compare only
  // when both framings got through.
  if (whole.size() == split.size()) PARLEY_FUZZ_CHECK(whole == split, "framing depends on how the bytes were cut");

  static const itp::session_key modern{bytes(32, 0), false};
  for (const auto& line : whole) {
    if (auto m = itp::parse_client_line(line)) check_fixpoint(*m, itp::parse_client_line);
    if (auto m = itp::parse_server_line(line)) check_fixpoint(*m, itp::parse_server_line);
    (void)itp::decode_public_key(line);
    (void)itp::open_body(modern, "alice", "bob", line);
    (void)itp::open_body({modern.key, true}, "alice", "bob", line);
  }
  return 0;
}
