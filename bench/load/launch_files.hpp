// What a launched server needs to let parley-load's users in, made in a fresh folder that goes away with the
// object. sslmessager: a self-signed certificate and key, and a users file holding every user of the run
// with the run's password ({cert}, {key}, {users} in a --launch command). securechat: a key store with
// every user's public key, the half of the run's key ({keys}). peerchat with `tls`: the certificate and key.
#pragma once

#include <string>

namespace parley::load {

class launch_files {
public:
  // Throws std::runtime_error when a file cannot be made. `key_pem`: securechat's private key.
  launch_files(const std::string& protocol, std::size_t clients, const std::string& name_prefix,
               const std::string& password, const std::string& key_pem, bool tls);
  ~launch_files();
  launch_files(const launch_files&) = delete;
  launch_files& operator=(const launch_files&) = delete;

  // `command` with {cert}, {key}, {users} and {keys} replaced by the files' paths.
  std::string fill(std::string command) const;

private:
  void make_certificate();
  void make_sslmessager_files(std::size_t clients, const std::string& name_prefix, const std::string& password);
  void make_securechat_keys(std::size_t clients, const std::string& name_prefix, const std::string& key_pem);
  std::string dir_;
};

}  // namespace parley::load
