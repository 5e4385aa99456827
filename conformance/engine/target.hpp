// The server under test as the engine sees it: a process it launched (--launch) and when that process is
// ready, whether a target is still alive, and the pacing of connects for a target that resets connections
// opened close together.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "conformance/engine/adapter.hpp"
#include "impl/cli/process.hpp"
#include "conformance/engine/runner.hpp"

namespace parley::conform {

// An implementation under test that the engine started, ready to accept connections.
class launched_target {
public:
  // Starts settings.launch_command on a free port (placeholders filled from the adapter and the timing)
  // and waits until it is ready: its output matches --ready, --ready-delay has passed, or (the default)
  // it completes a connection of the protocol's transport, retried with backoff while refused or reset.
  // Returns "" or why it is not usable (with `out` still set when a process was started, for its output).
  static std::string start(const adapter& a, const run_settings& s, const timing& t, const std::string& tag,
                           std::unique_ptr<launched_target>& out);

  unsigned short port() const { return port_; }
  bool running() { return proc_ && proc_->running(); }
  // "exited with code 3" / "was killed by signal 11 (SIGSEGV)", or "" while it runs.
  std::string exit_status() { return proc_ ? proc_->describe_exit() : std::string{}; }
  // The last `max` bytes of what it wrote (stdout and stderr).
  std::string output_tail(std::size_t max = 4000) const;
  // Where its output (stdout and stderr) goes.
  const std::string& log_path() const { return log_path_; }
  // The resident memory of the target and its children, in KiB.
  long rss_kb() const { return proc_ ? cli::group_rss_kb(proc_->pid()) : 0; }
  void stop() {
    if (proc_) proc_->stop();
  }

private:
  std::string wait_ready(const adapter& a, const run_settings& s, const std::string& command);
  std::unique_ptr<cli::process> proc_;
  unsigned short port_ = 0;
  std::string log_path_;
};

// Whether a server still serves: a launched process that has exited is dead; otherwise a connection of the
// protocol's transport must complete (tried three times, 200 ms apart, so that a target that refuses
// connections opened close together is not taken for dead). The probe ends its connection politely. With a
// pacer its connects keep the run's pace too: an unpaced probe right before a case's paced connect would make
// a target that resets connections opened close together reset the case's, and the case be charged for it.
class connect_pacer;
bool target_alive(const adapter& a, const std::string& host, unsigned short port, launched_target* launched,
                  double time_scale, connect_pacer* pacer = nullptr);

// Keeps connects to the target at least `gap` apart, across all cases running at once.
class connect_pacer {
public:
  void set_gap(millis gap);
  millis gap() const;
  void wait_turn();
  // A connection someone else opened just now (a launched target's readiness probe): the next waits for it.
  void note_connect();

private:
  mutable std::mutex mutex_;
  millis gap_{0};
  time_point last_{};
};

}  // namespace parley::conform
