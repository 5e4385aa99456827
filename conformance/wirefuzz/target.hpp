// The target a fuzz worker sends its sessions to: a server it launched (restarted after it dies, and
// started afresh for each trial of a minimization), or one that was already running (--target).
#pragma once

#include <memory>
#include <string>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/target.hpp"

namespace parley::wirefuzz {

class fuzz_target {
public:
  fuzz_target(const conform::adapter& a, const conform::run_settings& s, std::string tag)
      : adapter_(a), settings_(s), tag_(std::move(tag)) {}
  ~fuzz_target() { stop(); }

  // Launches the target (again): "" or why it did not become ready. A --target address only needs to be
  // reachable.
  std::string start();
  bool launched() const { return settings_.kind == conform::target_kind::launch; }
  const std::string& host() const { return host_; }
  unsigned short port() const { return port_; }
  // A launched target's process is still there (always true for an address).
  bool running();
  std::string exit_status();
  // What the launched target wrote since the previous call.
  std::string new_output();
  std::string output_tail(std::size_t max = 4000) const { return process_ ? process_->output_tail(max) : std::string{}; }
  long rss_kb() const { return process_ ? process_->rss_kb() : 0; }
  void stop();

private:
  const conform::adapter& adapter_;
  const conform::run_settings& settings_;
  std::string tag_;
  int starts_ = 0;
  std::unique_ptr<conform::launched_target> process_;
  std::string host_ = "127.0.0.1";
  unsigned short port_ = 0;
  std::size_t output_seen_ = 0;
};

}  // namespace parley::wirefuzz
