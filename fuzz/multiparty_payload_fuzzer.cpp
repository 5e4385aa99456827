// Fuzzes the parsers of decrypted multiparty payloads: uid lists (init_req, invite_req), msg_req parts,
// login_res (under a fixed temporary key) and end-to-end parts (under a fixed recipient key).
// Input: [selector:1] then the payload. Invariants: no crash; uid lists and parts re-serialize to the
// input they were parsed from; a login_res directory entry's uid is always its key's hash.
#include <cstdint>

#include "fuzz/check.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/proto/multiparty/login.hpp"
#include "impl/proto/multiparty/payload.hpp"

using namespace parley;
using namespace parley::multiparty;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      if (auto ids = parse_uid_lines(text)) {
        std::string again = uid_lines(*ids);
        PARLEY_FUZZ_CHECK(parse_uid_lines(again) == ids, "uid lines do not round-trip");
      }
      break;
    case 1:
      if (auto parts = parse_message_parts(text)) {
        std::string joined;
        for (const auto& p : *parts) joined += p.line;
        PARLEY_FUZZ_CHECK(joined == text, "message parts do not cover the payload exactly");
      }
      break;
    case 2: {
      // Seal the fuzz bytes as a login_res payload, so the parser behind the tag check is reached.
      static const bytes tk(32, 0x42);
      header h{.type = static_cast<std::uint16_t>(msg_type::login_res), .sqn = 1};
      auto frame = seal_frame(tk, direction::to_client, h, as_bytes(text));
      if (!frame) break;
      if (auto r = open_login_res(tk, *frame))
        for (const auto& e : r->directory) PARLEY_FUZZ_CHECK(uid_of(e.key) == e.uid, "a directory uid is not its key's");
      break;
    }
    case 3: {
      static const core::pkey key = *core::pkey::generate_rsa(2048);
      (void)open_part(key, 1, 2, text);
      break;
    }
  }
  return 0;
}
