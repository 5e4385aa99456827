// Child processes of Parley's tools (parley-conform's --launch and client-role cases, parley-load's --launch):
// started through /bin/sh in their own process group (so the whole tree can be stopped), with optional pipes
// to stdin and from stdout.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "impl/core/clock.hpp"

namespace parley::cli {

class process {
public:
  // stderr (and stdout unless piped) go to `log_path`. Throws std::runtime_error if fork fails.
  process(const std::string& command, bool pipe_stdin, bool pipe_stdout, const std::string& log_path);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  bool running();
  std::optional<int> exit_code();  // once it has exited (128 + N for signal N)
  // "exited with code 3", "was killed by signal 11 (SIGSEGV)"; "" while it runs.
  std::string describe_exit();
  // Once it has exited: whether a signal ended it (not an exit code of 128 + N that a shell reported).
  bool killed_by_signal();
  bool write_stdin(std::string_view bytes);
  void close_stdin();
  // One line from stdout without its "\n"; nullopt on timeout or end of output.
  std::optional<std::string> read_line(time_point deadline);
  // Takes in what stdout holds now, without waiting and without consuming lines; true when bytes came.
  bool poll_output();
  // Its process id, which is also its process group's.
  int pid() const { return pid_; }
  // SIGTERM to the group, then SIGKILL after `grace`.
  void stop(millis grace = millis(1000));

private:
  int pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
  int wait_status_ = 0;  // as waitpid gave it
};

// The resident memory of every process in the group, in KiB (a launched command runs under sh -c, so the
// server may be the shell's child); 0 when the group is gone.
long group_rss_kb(int pgid);

// A TCP port that was free a moment ago (bind to 0, read, close).
unsigned short free_port();

// `command` with every `placeholder` (such as "{port}") replaced by `value`; a value that holds the
// placeholder is not expanded again.
std::string replace_all(std::string command, std::string_view placeholder, std::string_view value);

}  // namespace parley::cli
