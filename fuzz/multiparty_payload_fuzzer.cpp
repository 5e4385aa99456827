// Fuzzes the parsers of decrypted multiparty payloads: uid lists (init_req, invite_req), msg_req parts,
// login_res (under a fixed temporary key) and end-to-end parts (under a fixed recipient key).
// Input: [selector:1] then the payload; selector % 4 picks the parser. For parts, (selector / 4) % 2 = 0:
// the payload is a part's base64 text as a recipient reads it; 1: it is the part's bytes after the wrapped
// key (nonce, ciphertext, tag), behind a valid wrap of a fixed key, so fuzzing reaches the GCM open. The
// RSA unwrap is memoized by the wrapped bytes: the fixed wrap never pays it, a fuzzed one pays it once.
// Invariants: no crash; uid lists and parts re-serialize to the input they were parsed from; a login_res
// directory entry's uid is always its key's hash; a part that is not base64, or too short to hold a
// wrapped key, never opens.
#include <cstdint>
#include <string>

#include "fuzz/check.hpp"
#include "fuzz/memo.hpp"
#include "impl/core/crypto/aes.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/core/crypto/rsa_cipher.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/multiparty/login.hpp"
#include "impl/proto/multiparty/payload.hpp"

using namespace parley;
using namespace parley::multiparty;

namespace {

struct part_keys {
  core::pkey recipient = *core::pkey::generate_rsa(2048);
  bytes wrap;  // RSA-OAEP of a fixed AES key to `recipient`
  fuzz::memo<result<bytes>> unwrapped;  // unwrap_part_key by the wrapped bytes
  std::size_t wrapped_size() const { return static_cast<std::size_t>(recipient.bits() / 8); }
};

part_keys& parts() {
  static part_keys k = [] {
    part_keys made;
    made.wrap = *core::rsa_encrypt(made.recipient, core::rsa_padding::oaep_sha256, bytes(32, 0x4b));
    bytes raw = made.wrap;
    raw.resize(raw.size() + core::gcm_nonce_size + core::gcm_tag_size);
    made.unwrapped.keep(std::string(as_chars(made.wrap)), unwrap_part_key(made.recipient, raw));
    return made;
  }();
  return k;
}

void check_part(std::uint8_t selector, std::string_view text) {
  auto& k = parts();
  bytes raw;
  if (selector / 4 % 2) {
    raw = k.wrap;
    raw.insert(raw.end(), text.begin(), text.end());
  } else if (auto decoded = core::from_base64(text)) {
    raw = std::move(*decoded);
  } else {
    PARLEY_FUZZ_CHECK(!open_part(k.recipient, 1, 2, text), "a part that is not base64 opened");
    return;
  }
  if (raw.size() < k.wrapped_size() + core::gcm_nonce_size + core::gcm_tag_size) {
    PARLEY_FUZZ_CHECK(!unwrap_part_key(k.recipient, raw), "a part too short for its wrapped key unwrapped");
    PARLEY_FUZZ_CHECK(!open_part(k.recipient, 1, 2, core::to_base64(raw)), "a part too short for its wrapped key opened");
    return;
  }
  auto key = k.unwrapped.get(std::string(as_chars(byte_view(raw).first(k.wrapped_size()))),
                             [&] { return unwrap_part_key(k.recipient, raw); });
  if (!key) return;
  (void)open_part_with_key(*key, k.wrapped_size(), 1, 2, raw);
}

}  // namespace

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
    case 3: check_part(data[0], text); break;
  }
  return 0;
}
