#include "impl/proto/multiparty/login.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "impl/core/crypto/digest.hpp"
#include "impl/core/crypto/rsa_cipher.hpp"
#include "impl/core/crypto/sign.hpp"
#include "impl/core/encoding.hpp"

namespace parley::multiparty {
namespace {

// Splits "a\nb\nc\n" into lines; every line must end in '\n'. Empty input: no lines.
std::optional<std::vector<std::string_view>> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return out;
}

// The grammar's hex is lower-case only (MP-LOGIN-04): one spelling per value, as the signature covers text.
bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::uint64_t> decimal(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || s.size() > 16) return std::nullopt;  // 1 to 16 digits
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::uint64_t unix_time_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

user_id uid_of(const core::pkey& key) {
  auto digest = core::sha256(key.public_der());
  user_id v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | digest[static_cast<std::size_t>(i)];
  return v;
}

std::string login_signed_bytes(std::string_view name, std::string_view client_random_hex, std::uint64_t timestamp_ms,
                               byte_view tk) {
  return "parley-mp-login-v1\n" + std::string(name) + "\n" + std::string(client_random_hex) + "\n" +
         std::to_string(timestamp_ms) + "\n" + core::to_hex(core::sha256(tk)) + "\n";
}

result<bytes> make_login_req(const core::pkey& user_key, const std::string& name, const core::pkey& server_public,
                             std::uint64_t now_ms, login_secrets& secrets) {
  secrets.tk = core::random_bytes(32);
  secrets.client_random = core::random_bytes(random_size);
  std::string random_hex = core::to_hex(secrets.client_random);
  auto signature = core::sign(user_key, core::signature_scheme::rsa_pkcs1_sha256,
                              as_bytes(login_signed_bytes(name, random_hex, now_ms, secrets.tk)));
  if (!signature) return signature.error();
  std::string plain = name + "\n" + random_hex + "\n" + std::to_string(now_ms) + "\n" + core::to_hex(*signature) + "\n";
  auto etk = core::rsa_encrypt(server_public, core::rsa_padding::oaep_sha256, secrets.tk);
  if (!etk) return etk.error();
  header h{.type = static_cast<std::uint16_t>(msg_type::login_req), .sqn = 1, .sid = 0, .uid = uid_of(user_key)};
  auto frame = seal_frame(secrets.tk, direction::to_server, h, as_bytes(plain), *etk);
  if (frame) secrets.request = *frame;
  return frame;
}

result<login_request> open_login_req(const core::pkey& server_private, byte_view frame) {
  auto etk_size = static_cast<std::size_t>(server_private.bits() / 8);
  auto h = decode_header(frame);
  if (!h || h->type != static_cast<std::uint16_t>(msg_type::login_req) || h->sqn != 1 || h->sid != 0 ||
      frame.size() < min_frame + etk_size)
    return errc::bad_login;
  auto tk = core::rsa_decrypt(server_private, core::rsa_padding::oaep_sha256, frame.last(etk_size));
  if (!tk || tk->size() != 32) return errc::bad_login;
  auto opened = open_frame(*tk, direction::to_server, frame, etk_size);
  if (!opened) return opened.error();
  auto lines = lines_of(as_chars(opened->payload));
  if (!lines || lines->size() != 4) return errc::bad_login;
  login_request r{.h = opened->h, .name = std::string((*lines)[0]), .tk = std::move(*tk)};
  auto random = core::from_hex((*lines)[1]);
  auto timestamp = decimal((*lines)[2]);
  auto signature = core::from_hex((*lines)[3]);
  if (!random || random->size() != random_size || !timestamp || !signature || r.name.empty() ||
      !lower_hex((*lines)[1]) || !lower_hex((*lines)[3]))
    return errc::bad_login;
  r.client_random = std::move(*random);
  r.timestamp_ms = *timestamp;
  r.signature = std::move(*signature);
  return r;
}

bool verify_login(const core::pkey& user_public, const login_request& r) {
  auto text = login_signed_bytes(r.name, core::to_hex(r.client_random), r.timestamp_ms, r.tk);
  auto ok = core::verify(user_public, core::signature_scheme::rsa_pkcs1_sha256, as_bytes(text), r.signature);
  return ok && *ok;
}

result<bytes> make_login_res(byte_view tk, byte_view request_frame, byte_view server_random,
                             const std::vector<directory_entry>& directory) {
  return make_login_res_with(tk, request_frame, server_random, directory_lines(directory));
}

std::string directory_lines(const std::vector<directory_entry>& directory) {
  std::string lines;
  for (const auto& entry : directory)
    lines += entry.name + " " + id_to_hex(entry.uid) + " " + core::to_base64(entry.key.public_der()) + "\n";
  return lines;
}

result<bytes> make_login_res_with(byte_view tk, byte_view request_frame, byte_view server_random,
                                  std::string_view lines) {
  std::string plain = core::to_hex(core::sha256(request_frame)) + "\n" + core::to_hex(server_random) + "\n";
  plain += lines;
  header h{.type = static_cast<std::uint16_t>(msg_type::login_res), .sqn = 1, .sid = 0, .uid = 0};
  return seal_frame(tk, direction::to_client, h, as_bytes(plain));
}

result<login_response> open_login_res(byte_view tk, byte_view frame, login_res_checks checks) {
  auto opened = open_frame(tk, direction::to_client, frame);
  if (!opened) return opened.error();
  const header& h = opened->h;
  bool type_ok = !checks.type || h.type == static_cast<std::uint16_t>(msg_type::login_res);
  if (!type_ok || h.sqn != 1 || h.sid != 0 || h.uid != 0) return errc::bad_login;
  auto lines = lines_of(as_chars(opened->payload));
  if (!lines || lines->size() < 2) return errc::bad_login;
  login_response r;
  auto hash = core::from_hex((*lines)[0]);
  auto random = core::from_hex((*lines)[1]);
  if (!hash || hash->size() != 32 || !random || random->size() != random_size) return errc::bad_login;
  r.request_hash = std::move(*hash);
  r.server_random = std::move(*random);
  for (std::size_t i = 2; i < lines->size(); ++i) {
    std::string_view line = (*lines)[i];
    auto a = line.find(' '), b = line.rfind(' ');
    if (a == std::string_view::npos || a == b) return errc::bad_login;
    auto uid = id_from_hex(line.substr(a + 1, b - a - 1));
    auto der = core::from_base64(line.substr(b + 1));
    if (!uid || !der) return errc::bad_login;
    auto key = core::pkey::from_public_der(*der);
    if (!key || (checks.uids && uid_of(*key) != *uid)) return errc::bad_login;  // a uid is its key's hash
    r.directory.push_back({std::string(line.substr(0, a)), *uid, std::move(*key)});
  }
  return r;
}

result<session_keys> derive_keys(byte_view client_random, byte_view server_random, byte_view request_frame) {
  bytes ikm(client_random.begin(), client_random.end());
  ikm.insert(ikm.end(), server_random.begin(), server_random.end());
  auto salt = core::sha256(request_frame);
  auto c2s = core::hkdf_sha256(ikm, salt, as_bytes("parley-mp-v1 c2s"), 32);
  auto s2c = core::hkdf_sha256(ikm, salt, as_bytes("parley-mp-v1 s2c"), 32);
  if (!c2s || !s2c) return errc::bad_login;
  return session_keys{core::aes_gcm_key(*c2s), core::aes_gcm_key(*s2c)};
}

}  // namespace parley::multiparty
