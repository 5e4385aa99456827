// Payload grammars of the session protocols (spec §8-§11) and the end-to-end message parts of msg_req:
// each part wraps a fresh AES-256 key with RSA-OAEP to one recipient and carries the text under AES-GCM,
// so the server can route parts by uid but never read them.
#pragma once

#include <string>
#include <vector>

#include "impl/core/crypto/pkey.hpp"
#include "impl/core/result.hpp"
#include "impl/proto/multiparty/frame.hpp"

namespace parley::multiparty {

inline constexpr std::size_t max_invitees = 16;

// "<uid hex>\n" lines (init_req, invite_req): at least one, every line terminated. nullopt otherwise.
std::optional<std::vector<user_id>> parse_uid_lines(std::string_view text);
std::string uid_lines(const std::vector<user_id>& ids);

// One msg_req line: "<uid hex> <base64 part>\n".
struct message_part {
  user_id to = 0;
  std::string line;  // the whole line, newline included: what the server forwards unchanged
  std::string part;  // the base64 part alone
};
std::optional<std::vector<message_part>> parse_message_parts(std::string_view text);

// The line for one recipient. AAD = sid || sender uid, so a part cannot be replayed into another session
// or under another sender's name.
result<std::string> seal_part(const core::pkey& recipient, user_id to, session_id sid, user_id sender,
                              std::string_view text);
result<std::string> open_part(const core::pkey& own_private, session_id sid, user_id sender, std::string_view part);

// open_part's two steps on the base64-decoded part, for a caller that keeps the costly first one (the
// payload fuzzer memoizes it): the part's AES key, RSA-OAEP-unwrapped from its first wrapped_size bytes
// (own_private's modulus size), then the text under that key. Both give errc::decrypt_failed for any fault.
result<bytes> unwrap_part_key(const core::pkey& own_private, byte_view raw_part);
result<std::string> open_part_with_key(byte_view part_key, std::size_t wrapped_size, session_id sid, user_id sender,
                                       byte_view raw_part);

}  // namespace parley::multiparty
