// The long-term Ed25519 identity of secure.hpp (PC-KEY-01). The only part of the codec that touches files,
// because the key must exist before any chat and its file mode is a rule of its own.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "impl/core/crypto/sign.hpp"
#include "impl/proto/peerchat/secure.hpp"

namespace parley::peerchat {

struct identity::impl {
  core::pkey key;
};

identity::identity() : impl_(std::make_unique<impl>()) {}
identity::identity(identity&&) noexcept = default;
identity& identity::operator=(identity&&) noexcept = default;
identity::~identity() = default;

namespace {

// The raw public half of a private Ed25519 key; errc::invalid_key for any other kind of key.
std::error_code raw_public_key(const core::pkey& key, public_key& out) {
  if (key.type() != core::key_type::ed25519 || !key.has_private()) return core::errc::invalid_key;
  std::size_t size = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.data(), &size) != 1 || size != out.size())
    return core::errc::invalid_key;
  return {};
}

result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::errc::io_failure;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return core::errc::io_failure;
  return text.str();
}

// O_EXCL with the mode given to open(): the key is never readable by others, not even between a create
// and a chmod, and an existing file (or a symlink planted there) is never overwritten.
std::error_code write_new_private_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return std::error_code(errno, std::generic_category());
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(path.c_str());
      return core::errc::io_failure;
    }
    done += static_cast<std::size_t>(n);
  }
  bool ok = ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return core::errc::io_failure;
  }
  return {};
}

}  // namespace

result<identity> identity::generate() {
  auto key = core::pkey::generate_ed25519();
  if (!key) return key.error();
  identity out;
  if (auto error = raw_public_key(*key, out.public_)) return error;
  out.impl_->key = std::move(*key);
  return out;
}

result<identity> identity::load_or_create(const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto text = read_file(path);
    if (text) {
      auto key = core::pkey::from_private_pem(*text);
      if (!key) return key.error();
      identity out;
      if (auto error = raw_public_key(*key, out.public_)) return error;
      out.impl_->key = std::move(*key);
      return out;
    }
    std::error_code exists_error;
    if (std::filesystem::exists(path, exists_error)) return core::errc::io_failure;  // there but unreadable

    auto fresh = generate();
    if (!fresh) return fresh.error();
    auto parent = std::filesystem::path(path).parent_path();
    std::error_code dir_error;
    if (!parent.empty()) std::filesystem::create_directories(parent, dir_error);
    if (dir_error) return core::errc::io_failure;
    auto written = write_new_private_file(path, fresh->impl_->key.private_pem());
    if (!written) return fresh;
    // Another process created the file between our read and our open: use its key, not ours.
    if (written != std::errc::file_exists) return core::errc::io_failure;
  }
  return core::errc::io_failure;
}

std::array<std::uint8_t, 64> identity::sign(std::string_view message) const {
  std::array<std::uint8_t, 64> out{};
  // core::sign runs EVP_DigestSign with a NULL digest, as Ed25519 requires (PC-HS-04). It cannot fail for
  // a key this class holds short of memory exhaustion; a zero signature then simply fails verification.
  auto signature = core::sign(impl_->key, core::signature_scheme::ed25519, as_bytes(message));
  if (signature && signature->size() == out.size()) std::copy(signature->begin(), signature->end(), out.begin());
  return out;
}

bool verify_signature(const public_key& key, std::string_view message, std::string_view signature64) {
  if (signature64.size() != 64) return false;
  auto pkey = core::pkey::from_raw_ed25519_public(key);
  if (!pkey) return false;
  auto ok = core::verify(*pkey, core::signature_scheme::ed25519, as_bytes(message), as_bytes(signature64));
  return ok && *ok;
}

}  // namespace parley::peerchat
