#include "impl/proto/multiparty/payload.hpp"

#include "impl/core/crypto/aes.hpp"
#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/rsa_cipher.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/multiparty/errc.hpp"

namespace parley::multiparty {
namespace {

bytes associated(session_id sid, user_id sender) {
  bytes aad;
  for (std::uint64_t v : {sid, sender})
    for (int shift = 56; shift >= 0; shift -= 8) aad.push_back(static_cast<std::uint8_t>(v >> shift));
  return aad;
}

}  // namespace

std::optional<std::vector<user_id>> parse_uid_lines(std::string_view text) {
  std::vector<user_id> ids;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    auto id = id_from_hex(text.substr(0, nl));
    if (!id) return std::nullopt;
    ids.push_back(*id);
    text.remove_prefix(nl + 1);
  }
  if (ids.empty()) return std::nullopt;
  return ids;
}

std::string uid_lines(const std::vector<user_id>& ids) {
  std::string out;
  for (auto id : ids) out += id_to_hex(id) + "\n";
  return out;
}

std::optional<std::vector<message_part>> parse_message_parts(std::string_view text) {
  std::vector<message_part> parts;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, nl);
    if (line.size() < 18 || line[16] != ' ') return std::nullopt;
    auto id = id_from_hex(line.substr(0, 16));
    std::string_view part = line.substr(17);
    if (!id || part.empty() || !core::from_base64(part)) return std::nullopt;
    parts.push_back({*id, std::string(text.substr(0, nl + 1)), std::string(part)});
    text.remove_prefix(nl + 1);
  }
  if (parts.empty()) return std::nullopt;
  return parts;
}

result<std::string> seal_part(const core::pkey& recipient, user_id to, session_id sid, user_id sender,
                              std::string_view text) {
  auto key = core::random_bytes(32);
  auto nonce = core::random_bytes(core::gcm_nonce_size);
  auto wrapped = core::rsa_encrypt(recipient, core::rsa_padding::oaep_sha256, key);
  if (!wrapped) return wrapped.error();
  auto sealed = core::aes_gcm_seal(key, nonce, associated(sid, sender), as_bytes(text));
  if (!sealed) return sealed.error();
  bytes part = *wrapped;
  part.insert(part.end(), nonce.begin(), nonce.end());
  part.insert(part.end(), sealed->begin(), sealed->end());
  return id_to_hex(to) + " " + core::to_base64(part) + "\n";
}

result<std::string> open_part(const core::pkey& own_private, session_id sid, user_id sender, std::string_view part) {
  auto raw = core::from_base64(part);
  if (!raw) return errc::decrypt_failed;
  auto key = unwrap_part_key(own_private, *raw);
  if (!key) return key.error();
  return open_part_with_key(*key, static_cast<std::size_t>(own_private.bits() / 8), sid, sender, *raw);
}

result<bytes> unwrap_part_key(const core::pkey& own_private, byte_view raw_part) {
  auto wrapped_size = static_cast<std::size_t>(own_private.bits() / 8);
  if (raw_part.size() < wrapped_size + core::gcm_nonce_size + core::gcm_tag_size) return errc::decrypt_failed;
  auto key = core::rsa_decrypt(own_private, core::rsa_padding::oaep_sha256, raw_part.first(wrapped_size));
  if (!key || key->size() != 32) return errc::decrypt_failed;
  return std::move(*key);
}

result<std::string> open_part_with_key(byte_view part_key, std::size_t wrapped_size, session_id sid, user_id sender,
                                       byte_view raw_part) {
  if (raw_part.size() < wrapped_size + core::gcm_nonce_size + core::gcm_tag_size) return errc::decrypt_failed;
  auto plain = core::aes_gcm_open(part_key, raw_part.subspan(wrapped_size, core::gcm_nonce_size),
                                  associated(sid, sender), raw_part.subspan(wrapped_size + core::gcm_nonce_size));
  if (!plain) return errc::decrypt_failed;
  return parley::to_string(*plain);
}

}  // namespace parley::multiparty
