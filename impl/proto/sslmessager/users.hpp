// sslmessager's users file (spec §8): one "name:scrypt:N:r:p:b64(salt):b64(hash)" line per user, checked
// with scrypt through OpenSSL 3 and compared in constant time. The original's home-made unsalted hash is
// not carried over: its users are added again.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "impl/core/bytes.hpp"
#include "impl/core/result.hpp"

namespace parley::sslmessager {

bool valid_name(std::string_view name) noexcept;          // 1-32 of [A-Za-z0-9_.-] (SSLM-USERS-01)
bool valid_password(std::string_view password) noexcept;  // 1-128 of 0x21-0x7E or 0x80-0xFF (SSLM-USERS-02)

struct scrypt_params {
  std::uint64_t n = 32768;
  std::uint32_t r = 8, p = 1;
};
inline constexpr std::size_t hash_size = 32;

struct user_entry {
  std::string name;
  scrypt_params params;
  bytes salt, hash;
};

result<bytes> scrypt_hash(std::string_view password, byte_view salt, const scrypt_params& params);
// A new entry with a fresh 16-byte salt.
result<user_entry> make_entry(const std::string& name, std::string_view password, const scrypt_params& params = {});
std::string format_entry(const user_entry& e);  // the file line, without LF
// Constant-time comparison of the derived hash (SSLM-USERS-04).
bool verify_password(const user_entry& e, std::string_view password);

// The whole file: users by name, or the first problem with its line number (SSLM-USERS-05).
struct users_file {
  std::map<std::string, user_entry> users;
  std::string problem;
};
users_file parse_users(std::string_view text);
bool valid_params(const scrypt_params& params) noexcept;

}  // namespace parley::sslmessager
