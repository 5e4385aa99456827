// What a launched server needs to let parley-load's users in, made in a fresh folder that goes away with the
// object. sslmessager: a self-signed certificate and key, and a users file holding every user of the run
// with the run's password ({cert}, {key}, {users} in a --launch command). securechat: a key store with
// every user's public key, the half of the run's key ({keys}). multiparty: a key store with the server's
// private key and every user's public one ({keys}), and the users file naming them in order ({users}).
// peerchat with `tls`: the certificate and key.
#pragma once

#include <string>

#include "bench/load/dialect.hpp"

namespace parley::load {

class launch_files {
public:
  // Throws std::runtime_error when a file cannot be made.
  launch_files(const std::string& protocol, const dialect_settings& settings);
  ~launch_files();
  launch_files(const launch_files&) = delete;
  launch_files& operator=(const launch_files&) = delete;

  // `command` with {cert}, {key}, {users} and {keys} replaced by the files' paths.
  std::string fill(std::string command) const;

private:
  void make_certificate();
  void make_sslmessager_files(std::size_t clients, const std::string& name_prefix, const std::string& password);
  void make_securechat_keys(std::size_t clients, const std::string& name_prefix, const std::string& key_pem);
  void make_multiparty_files(const dialect_settings& settings);
  std::string dir_;
};

}  // namespace parley::load
