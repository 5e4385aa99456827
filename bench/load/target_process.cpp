#include "bench/load/target_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace parley::load {
namespace {

bool accepts(unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

std::optional<process_usage> usage_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return std::nullopt;
  // Fields after the command name (which may hold spaces) start at the last ')'; utime and stime are the
  // 14th and 15th fields of the whole line, the 12th and 13th after it.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  process_usage usage;
  usage.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) usage.rss_kib = std::stoul(line.substr(6));
  return usage;
}

launched_target::launched_target(const std::string& command, std::string& problem) {
  port_ = cli::free_port();
  std::string line = cli::replace_all(command, "{port}", std::to_string(port_));
  // exec: the shell becomes the target, so the pid whose CPU and memory are read is the server's own. The
  // target's log would mix with the summary; a user who wants it runs the target themselves.
  proc_ = std::make_unique<cli::process>("exec " + line, false, false, "/dev/null");
  for (int tries = 0; tries < 200; ++tries) {
    if (accepts(port_)) return;
    if (!proc_->running()) {
      problem = "the launched target " + proc_->describe_exit() + " before it listened";
      proc_.reset();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  problem = "the launched target did not accept connections on port " + std::to_string(port_) + " within 10 s";
}

launched_target::~launched_target() {
  if (proc_) proc_->stop(std::chrono::milliseconds(2000));
}

pid_t launched_target::pid() const { return proc_ ? proc_->pid() : -1; }

}  // namespace parley::load
