// The server's directory (spec §7): who may log in, in a fixed order, checked once at start-up so that
// every login_res the server will ever send is valid and fits in one frame (MP-DIR-03).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "impl/core/result.hpp"
#include "impl/proto/multiparty/login.hpp"

namespace parley::multiparty {

// A name of the §6.3 grammar: 1 to 32 of [A-Za-z0-9_.-], not starting with '.'.
bool valid_user_name(std::string_view name) noexcept;

// The size in bytes of the login_res frame that lists `users`.
std::size_t login_res_size(const std::vector<directory_entry>& users);

// "" when the directory and the server key may serve, else the first problem, naming the user.
std::string directory_problem(const std::vector<directory_entry>& users, const core::pkey& server_key);

// Reads a users file (one name per line; blank lines and lines starting with '#' are skipped) and each
// user's public key from `keys_dir` (<name>.public.pem, else <name>.pem). Returns the entries in the
// file's order, or the reason it cannot (unreadable file, missing key, and every directory_problem).
struct loaded_directory {
  std::vector<directory_entry> users;
  std::string problem;
};
loaded_directory load_directory(const std::filesystem::path& users_file, const std::filesystem::path& keys_dir);

}  // namespace parley::multiparty
