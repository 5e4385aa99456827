// What a launched sslmessager server needs to let parley-load's users in: a self-signed certificate and
// key, and a users file holding every user of the run with the run's password. Made in a fresh folder
// that goes away with the object; a --launch command names them as {cert}, {key} and {users}.
#pragma once

#include <string>

namespace parley::load {

class launch_files {
public:
  // Throws std::runtime_error when a file cannot be made.
  launch_files(std::size_t clients, const std::string& name_prefix, const std::string& password);
  ~launch_files();
  launch_files(const launch_files&) = delete;
  launch_files& operator=(const launch_files&) = delete;

  // `command` with {cert}, {key} and {users} replaced by the files' paths.
  std::string fill(std::string command) const;

private:
  std::string dir_;
};

}  // namespace parley::load
