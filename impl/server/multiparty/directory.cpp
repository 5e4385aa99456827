#include "impl/server/multiparty/directory.hpp"

#include <algorithm>
#include <fstream>
#include <set>

#include "impl/core/key_store.hpp"

namespace parley::multiparty {
namespace {

bool acceptable_rsa(const core::pkey& key) {
  return key && key.type() == core::key_type::rsa && key.bits() >= 2048 && key.bits() <= 4096;
}

}  // namespace

bool valid_user_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 32 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

std::size_t login_res_size(const std::vector<directory_entry>& users) {
  std::size_t size = header_size + tag_size + 2 * 65;  // request_hash and server_random lines
  for (const auto& u : users) size += u.name.size() + 1 + 16 + 1 + (u.key.public_der().size() + 2) / 3 * 4 + 1;
  return size;
}

std::string directory_problem(const std::vector<directory_entry>& users, const core::pkey& server_key) {
  if (!acceptable_rsa(server_key) || !server_key.has_private())
    return "the server key must be an RSA private key of 2048 to 4096 bits";
  if (users.empty()) return "the directory is empty: nobody could log in";
  std::set<std::string> names;
  std::set<user_id> uids;
  for (const auto& u : users) {
    if (!valid_user_name(u.name)) return "'" + u.name + "' is not a valid name (1 to 32 of A-Z a-z 0-9 _ . -, not starting with .)";
    if (!names.insert(u.name).second) return "'" + u.name + "' is listed twice";
    if (!acceptable_rsa(u.key)) return u.name + "'s key is not RSA of 2048 to 4096 bits";
    if (u.uid != uid_of(u.key)) return u.name + "'s uid is not its key's";
    if (u.uid == 0) return u.name + "'s uid is 0, the server's";
    // Equal keys have equal uids, so this catches a key shared by two users as well.
    if (!uids.insert(u.uid).second) return u.name + " shares its uid (its key) with another user";
  }
  if (auto size = login_res_size(users); size > max_frame)
    return "the directory's login_res would be " + std::to_string(size) + " bytes, more than one frame (65535)";
  return {};
}

loaded_directory load_directory(const std::filesystem::path& users_file, const std::filesystem::path& keys_dir) {
  loaded_directory d;
  std::ifstream in(users_file);
  if (!in) {
    d.problem = "cannot read the users file " + users_file.string();
    return d;
  }
  core::key_store store(keys_dir);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (!valid_user_name(line)) {
      d.problem = "users file: '" + line + "' is not a valid name (1 to 32 of A-Z a-z 0-9 _ . -, not starting with .)";
      return d;
    }
    auto key = store.load_public(line);
    if (!key) {
      d.problem = "no public key for '" + line + "' in " + keys_dir.string() + " (" + line + ".public.pem or " + line + ".pem)";
      return d;
    }
    d.users.push_back({line, uid_of(key->key), std::move(key->key)});
  }
  return d;
}

}  // namespace parley::multiparty
