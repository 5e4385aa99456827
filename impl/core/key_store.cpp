#include "impl/core/key_store.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace parley::core {
namespace fs = std::filesystem;

namespace {
constexpr std::string_view private_suffix = ".pem";
constexpr std::string_view public_suffix = ".public.pem";
// The original securechat's layout names the private key file `<name>.private.pem`.
constexpr std::string_view original_private_suffix = ".private.pem";

// "x.public" and "x.private" would find x's own files: they are never users of their own.
bool names_a_file_of_another(std::string_view name) noexcept {
  return name.ends_with(".public") || name.ends_with(".private");
}
}  // namespace

result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errc::key_not_found;
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return errc::io_failure;
  return content.str();
}

std::error_code write_file(const fs::path& path, std::string_view content, bool owner_only) {
  std::error_code ec;
  fs::create_directories(path.parent_path().empty() ? fs::path(".") : path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return errc::io_failure;
  if (owner_only) fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return out ? std::error_code{} : make_error_code(errc::io_failure);
}

bool key_store::valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

result<pkey> key_store::load_private(std::string_view name) const {
  if (!valid_name(name) || names_a_file_of_another(name)) return errc::key_not_found;
  // The explicit name first, as for public keys: `<name>.private.pem` cannot be anything but a private key.
  auto text = read_file(dir_ / (std::string(name) + std::string(original_private_suffix)));
  if (!text && text.error() == make_error_code(errc::key_not_found))
    text = read_file(dir_ / (std::string(name) + std::string(private_suffix)));
  if (!text) return text.error();
  return pkey::from_private_pem(*text);
}

result<key_store::public_key> key_store::load_public(std::string_view name) const {
  if (!valid_name(name) || names_a_file_of_another(name)) return errc::key_not_found;
  auto text = read_file(dir_ / (std::string(name) + std::string(public_suffix)));
  if (text) {
    auto key = pkey::from_public_pem(*text);
    if (!key) return key.error();
    return public_key{std::move(*key), std::move(*text)};
  }
  if (text.error() != make_error_code(errc::key_not_found)) return text.error();
  text = read_file(dir_ / (std::string(name) + std::string(private_suffix)));
  if (!text) return text.error();
  if (auto key = pkey::from_public_pem(*text)) return public_key{std::move(*key), std::move(*text)};
  auto key = pkey::from_private_pem(*text);
  if (!key) return key.error();
  std::string pem = key->public_pem();
  auto pub = pkey::from_public_pem(pem);
  if (!pub) return pub.error();
  return public_key{std::move(*pub), std::move(pem)};
}

std::error_code key_store::save(std::string_view name, const pkey& key) const {
  if (!valid_name(name)) return errc::io_failure;
  if (key.has_private()) {
    if (auto ec = write_file(dir_ / (std::string(name) + std::string(private_suffix)), key.private_pem(), true))
      return ec;
  }
  return write_file(dir_ / (std::string(name) + std::string(public_suffix)), key.public_pem(), false);
}

std::vector<std::string> key_store::names() const {
  std::set<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string file = entry.path().filename().string();
    // Longest suffix first: alice.private.pem and alice.public.pem are alice's, not "alice.private"'s.
    for (auto suffix : {public_suffix, original_private_suffix, private_suffix}) {
      if (file.size() > suffix.size() && file.ends_with(suffix)) {
        std::string name = file.substr(0, file.size() - suffix.size());
        if (valid_name(name) && !names_a_file_of_another(name)) found.insert(name);
        break;
      }
    }
  }
  return {found.begin(), found.end()};
}

}  // namespace parley::core
