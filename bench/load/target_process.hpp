// The process under load, when parley-load knows it (--pid, or --launch): its CPU time and resident memory
// from /proc, and for --launch starting it on a free port and stopping it at the end.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "impl/cli/process.hpp"

namespace parley::load {

struct process_usage {
  double cpu_seconds = 0;          // user + system
  std::size_t rss_kib = 0;         // VmRSS
};

// nullopt when /proc/<pid> cannot be read (the process is gone).
std::optional<process_usage> usage_of(pid_t pid);

class launched_target {
public:
  // Runs `command` through /bin/sh with {port} replaced by a free loopback port, and waits until that port
  // accepts a connection (at most 10 s). `problem` says why it did not come up.
  launched_target(const std::string& command, std::string& problem);
  ~launched_target();  // SIGTERM to its process group, then SIGKILL after 2 s
  launched_target(const launched_target&) = delete;
  launched_target& operator=(const launched_target&) = delete;

  pid_t pid() const;  // -1 when it did not come up
  unsigned short port() const { return port_; }

private:
  std::unique_ptr<cli::process> proc_;
  unsigned short port_ = 0;
};

}  // namespace parley::load
