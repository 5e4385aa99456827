#include <algorithm>
#include <mutex>
#include <set>
#include "impl/cli/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace parley::cli {

process::process(const std::string& command, bool pipe_stdin, bool pipe_stdout, const std::string& log_path) {
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  if (pipe_stdin && pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (pipe_stdout && pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = open("/dev/null", O_RDONLY);
    dup2(pipe_stdin ? in[0] : null, 0);
    dup2(pipe_stdout ? out[1] : log, 1);
    dup2(log, 2);
    // Nothing else of the engine's may live on in the child: Asio's sockets are not close-on-exec, and a
    // case's connection held open by another case's launched server would never send its FIN or RST.
    if (close_range(3, ~0U, 0) != 0) {
      long max = std::min(sysconf(_SC_OPEN_MAX), 65536L);
      for (int fd = 3; fd < max; ++fd) close(fd);
    }
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid_, pid_);
  if (pipe_stdin) {
    close(in[0]);
    stdin_fd_ = in[1];
  }
  if (pipe_stdout) {
    close(out[1]);
    stdout_fd_ = out[0];
  }
}

process::~process() {
  stop();
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool process::running() {
  if (status_ || pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    wait_status_ = status;
    return false;
  }
  return true;
}

std::string process::describe_exit() {
  if (running() || !status_) return {};
  if (WIFSIGNALED(wait_status_)) {
    int sig = WTERMSIG(wait_status_);
    const char* name = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) + (name ? " (SIG" + std::string(name) + ")" : std::string{});
  }
  return "exited with code " + std::to_string(*status_);
}

bool process::killed_by_signal() {
  return !running() && status_ && WIFSIGNALED(wait_status_);
}

std::optional<int> process::exit_code() {
  running();
  return status_;
}

bool process::write_stdin(std::string_view bytes) {
  if (stdin_fd_ < 0) return false;
  // A client that died must not kill the engine with SIGPIPE (ignored in main); EPIPE is a failed write.
  while (!bytes.empty()) {
    ssize_t n = write(stdin_fd_, bytes.data(), bytes.size());
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void process::close_stdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

std::optional<std::string> process::read_line(time_point deadline) {
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (stdout_fd_ < 0) return std::nullopt;
    auto left = std::chrono::duration_cast<millis>(deadline - clock_type::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char chunk[4096];
    ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
    if (n <= 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
      continue;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool process::poll_output() {
  if (stdout_fd_ < 0) return false;
  pollfd p{stdout_fd_, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  char chunk[4096];
  ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
  if (n <= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

void process::stop(millis grace) {
  if (!running()) return;
  kill(-pid_, SIGTERM);
  auto deadline = clock_type::now() + grace;
  while (running() && clock_type::now() < deadline) std::this_thread::sleep_for(millis(10));
  if (running()) {
    kill(-pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    status_ = 128 + SIGKILL;
    wait_status_ = status;
  }
}

std::string replace_all(std::string command, std::string_view placeholder, std::string_view value) {
  for (auto at = command.find(placeholder); at != std::string::npos; at = command.find(placeholder, at + value.size()))
    command.replace(at, placeholder.size(), value);
  return command;
}

unsigned short probe_free_port();

unsigned short free_port() {
  // Ports already handed out in this run are never handed out again: two instances launched at the same
  // moment must not be given the same port, or the second would fail to bind while the first answers
  // the second's readiness probe, and two cases would silently share one server.
  static std::mutex m;
  static std::set<unsigned short> given;
  for (int attempt = 0; attempt < 100; ++attempt) {
    unsigned short port = probe_free_port();
    std::lock_guard lock(m);
    if (port == 0 || given.insert(port).second) return port;
  }
  return 0;
}

unsigned short probe_free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  unsigned short port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

long group_rss_kb(int pgid) {
  if (pgid <= 0) return 0;
  long total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so read after the last ')'.
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(line.substr(close_paren + 1));
    std::string state;
    long ppid = 0, pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp) || pgrp != pgid) continue;
    std::ifstream status(entry.path() / "status");
    while (std::getline(status, line))
      if (line.starts_with("VmRSS:")) {
        total += std::atol(line.c_str() + 6);
        break;
      }
  }
  return total;
}

}  // namespace parley::cli
