// A directory of PEM keys, one pair per user: `<name>.pem` (private, PKCS#8) and `<name>.public.pem` (SPKI).
// securechat's seed names `<name>.pem`; its original reads `<name>.public.pem` and keeps the private key in
// `<name>.private.pem`; Parley writes the first two and reads all three.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "impl/core/crypto/pkey.hpp"

namespace parley::core {

class key_store {
public:
  explicit key_store(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // User names become file names, so only [A-Za-z0-9_.-] is allowed and no leading dot.
  static bool valid_name(std::string_view name) noexcept;

  // `<name>.private.pem` (the original's layout); when it does not exist, `<name>.pem`.
  // errc::key_not_found when neither exists, errc::invalid_key when the file found does not parse.
  result<pkey> load_private(std::string_view name) const;
  // A public key and its PEM text: the file's own bytes when it holds a public key (the original
  // securechat server sends them as they are), else the PEM of the private key's public half.
  struct public_key {
    pkey key;
    std::string pem;
  };
  // `<name>.public.pem`; when it does not exist, `<name>.pem`, which may hold the public key (the seed's
  // layout) or the private one. A file that exists but does not parse is errc::invalid_key, never skipped
  // for the other. Names ending in ".public" or ".private" are refused here and by load_private:
  // "x.public" would otherwise find x's public key file, "x.private" x's private one.
  result<public_key> load_public(std::string_view name) const;
  // Writes both files (the private one with mode 0600). errc::io_failure on any write error.
  std::error_code save(std::string_view name, const pkey& key) const;
  // Names of users with a key file (`<name>.public.pem`, `<name>.private.pem` or `<name>.pem`), sorted:
  // alice.private.pem is alice's, never a user "alice.private".
  std::vector<std::string> names() const;

  const std::filesystem::path& dir() const noexcept { return dir_; }

private:
  std::filesystem::path dir_;
};

// Whole-file helpers shared by the key store and the command-line tools.
result<std::string> read_file(const std::filesystem::path& path);
std::error_code write_file(const std::filesystem::path& path, std::string_view content, bool owner_only);

}  // namespace parley::core
