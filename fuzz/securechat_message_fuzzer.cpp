// Fuzzes the securechat codec: any text to a message, and back.
// Invariants: decode never crashes; a decoded message re-encodes to JSON that decodes to the same message
// and re-encodes to the same bytes (encode is a fixpoint); any byte string becomes a JSON string that a
// strict parser accepts.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/check.hpp"
#include "impl/proto/securechat/codec.hpp"
#include "impl/proto/securechat/json_text.hpp"

using namespace parley::securechat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto quoted = python_json_string(text);
  auto parsed = parse_json(quoted);
  PARLEY_FUZZ_CHECK(!parsed.is_discarded() && parsed.is_string(), "python_json_string made invalid JSON");

  auto d = decode(text);
  if (auto* failure = std::get_if<decode_failure>(&d)) {
    PARLEY_FUZZ_CHECK(!failure->detail.empty(), "a decode failure without a reason");
    return 0;
  }
  const auto& e = std::get<envelope>(d);
  std::string once = encode(e);
  auto again = decode(once);
  PARLEY_FUZZ_CHECK(std::holds_alternative<envelope>(again), "an encoded message does not decode");
  const auto& e2 = std::get<envelope>(again);
  PARLEY_FUZZ_CHECK(e2.id == e.id && e2.body.index() == e.body.index(), "id or type changed in a round trip");
  PARLEY_FUZZ_CHECK(encode(e2) == once, "encode is not a fixpoint");
  return 0;
}
