#include "bench/load/launch_files.hpp"

#include <filesystem>
#include <stdexcept>

#include "bench/load/dialect.hpp"
#include "impl/cli/process.hpp"
#include "impl/core/crypto/x509.hpp"
#include "impl/core/key_store.hpp"
#include "impl/proto/sslmessager/users.hpp"

namespace parley::load {
namespace {

// Secrets (the TLS key, the password hashes) readable by their owner alone.
void write_file(const std::filesystem::path& path, std::string_view text, bool secret = false) {
  if (core::write_file(path, text, secret)) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

launch_files::launch_files(const std::string& protocol, const dialect_settings& s) {
  char pattern[] = "/tmp/parley-load-XXXXXX";
  if (!mkdtemp(pattern)) throw std::runtime_error("cannot make a folder for the target's files");
  dir_ = pattern;
  try {
    if (protocol == "sslmessager") make_sslmessager_files(s.clients, s.name_prefix, s.password);
    if (protocol == "securechat") make_securechat_keys(s.clients, s.name_prefix, s.key_pem);
    if (protocol == "multiparty") make_multiparty_files(s);
    if (protocol == "peerchat" && s.tls) make_certificate();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);  // no destructor runs for a constructor that throws
    throw;
  }
}

void launch_files::make_certificate() {
  std::filesystem::path dir(dir_);
  auto key = core::pkey::generate_rsa(2048);
  if (!key) throw std::runtime_error("cannot make the target's TLS key");
  auto cert = core::make_self_signed_certificate(*key, "127.0.0.1", 30);
  if (!cert) throw std::runtime_error("cannot make the target's certificate");
  write_file(dir / "server.crt", *cert);
  write_file(dir / "server.key", key->private_pem(), true);
}

void launch_files::make_sslmessager_files(std::size_t clients, const std::string& name_prefix,
                                          const std::string& password) {
  std::filesystem::path dir(dir_);
  make_certificate();
  // The cheapest scrypt the users file allows: a login's password check is the target's work too, but
  // the logins are not what is measured.
  sslmessager::scrypt_params cheapest{16384, 8, 1};
  std::string users;
  for (std::size_t i = 0; i < clients; ++i) {
    auto entry = sslmessager::make_entry(user_name(name_prefix, i), password, cheapest);
    if (!entry) throw std::runtime_error("cannot add user " + user_name(name_prefix, i) + " (is the password valid?)");
    users += sslmessager::format_entry(*entry) + "\n";
  }
  write_file(dir / "users", users, true);
}

void launch_files::make_securechat_keys(std::size_t clients, const std::string& name_prefix,
                                        const std::string& key_pem) {
  auto key = core::pkey::from_private_pem(key_pem);
  if (!key) throw std::runtime_error("cannot read the securechat key");
  std::filesystem::path keys = std::filesystem::path(dir_) / "keys";  // made by the first write
  std::string public_pem = key->public_pem();
  for (std::size_t i = 0; i < clients; ++i) write_file(keys / (user_name(name_prefix, i) + ".public.pem"), public_pem);
}

void launch_files::make_multiparty_files(const dialect_settings& s) {
  std::filesystem::path dir(dir_);
  if (s.server_key.private_pem().empty()) throw std::runtime_error("a launched multiparty server needs its private key");
  write_file(dir / "keys" / "server.pem", s.server_key.private_pem(), true);
  std::string users;
  for (std::size_t i = 0; i < s.clients; ++i) {
    auto name = user_name(s.name_prefix, i);
    write_file(dir / "keys" / (name + ".public.pem"), s.user_keys.at(i).public_pem());
    users += name + "\n";
  }
  write_file(dir / "users", users);
}

launch_files::~launch_files() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string launch_files::fill(std::string command) const {
  command = cli::replace_all(std::move(command), "{cert}", dir_ + "/server.crt");
  command = cli::replace_all(std::move(command), "{key}", dir_ + "/server.key");
  command = cli::replace_all(std::move(command), "{users}", dir_ + "/users");
  return cli::replace_all(std::move(command), "{keys}", dir_ + "/keys");
}

}  // namespace parley::load
