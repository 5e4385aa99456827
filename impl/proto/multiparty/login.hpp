// The Login Protocol (spec §6), which the seed names but never defines. The client sends login_req:
// GCM under a fresh temporary key tk, tk itself RSA-OAEP-encrypted to the server's public key (etk), the
// plaintext signed with the user's key. The server answers login_res under tk, binding it to the request's
// hash; both derive per-direction session keys with HKDF from two fresh randoms.
#pragma once

#include <string>
#include <vector>

#include "impl/core/crypto/pkey.hpp"
#include "impl/core/result.hpp"
#include "impl/proto/multiparty/mtp.hpp"

namespace parley::multiparty {

inline constexpr std::uint64_t login_window_ms = 120'000;  // accepted clock difference for the timestamp
// The clock a login_req's timestamp is read from (§6.3) and judged by (MP-LOGIN-09): milliseconds since the
// Unix epoch, now.
std::uint64_t unix_time_ms();

// First 8 bytes of SHA-256 over the key's SubjectPublicKeyInfo DER (MP-DIR).
user_id uid_of(const core::pkey& key);

struct directory_entry {
  std::string name;
  user_id uid = 0;
  core::pkey key;  // public
};

inline constexpr std::size_t random_size = 32;  // client_random and server_random, in bytes

// What the client keeps from its login_req to finish the login.
struct login_secrets {
  bytes tk, client_random;
  bytes request;  // the complete login_req frame
};
// The exact bytes the user signs.
std::string login_signed_bytes(std::string_view name, std::string_view client_random_hex, std::uint64_t timestamp_ms,
                               byte_view tk);
result<bytes> make_login_req(const core::pkey& user_key, const std::string& name, const core::pkey& server_public,
                             std::uint64_t now_ms, login_secrets& secrets);

struct login_request {
  header h;
  std::string name;
  bytes client_random;
  std::uint64_t timestamp_ms = 0;
  bytes signature;
  bytes tk;
};
// Decrypts and parses; the caller applies the policy (known name, uid, window, signature, not online).
result<login_request> open_login_req(const core::pkey& server_private, byte_view frame);
bool verify_login(const core::pkey& user_public, const login_request& request);

result<bytes> make_login_res(byte_view tk, byte_view request_frame, byte_view server_random,
                             const std::vector<directory_entry>& directory);
// The directory part of a login_res, one "<name> <uid hex> <base64 SPKI DER>\n" line per entry. A server
// makes it once and passes it to make_login_res_with: encoding the keys is most of a login's cost.
std::string directory_lines(const std::vector<directory_entry>& directory);
result<bytes> make_login_res_with(byte_view tk, byte_view request_frame, byte_view server_random,
                                  std::string_view directory_lines);
struct login_response {
  bytes request_hash, server_random;
  std::vector<directory_entry> directory;
};
// What open_login_res checks beyond the seal. All on by default; only the reference client's planted faults
// (impl/client/multiparty/faults.hpp) turn one off, to misbehave in exactly that one way.
struct login_res_checks {
  bool type = true;  // the frame's type is login_res
  bool uids = true;  // each directory uid is its key's hash
};
result<login_response> open_login_res(byte_view tk, byte_view frame, login_res_checks checks = {});

// Each direction's key, held as a key object so a session keys its cipher context once.
struct session_keys {
  core::aes_gcm_key to_server, to_client;
};
result<session_keys> derive_keys(byte_view client_random, byte_view server_random, byte_view request_frame);

}  // namespace parley::multiparty
