#include "conformance/wirefuzz/target.hpp"

#include <fstream>

namespace parley::wirefuzz {

std::string fuzz_target::start() {
  stop();
  output_seen_ = 0;
  if (!launched()) {
    host_ = settings_.host;
    port_ = settings_.port;
    return conform::target_alive(adapter_, host_, port_, nullptr, settings_.time_scale)
               ? std::string{}
               : "nothing accepts connections at " + host_ + ":" + std::to_string(port_);
  }
  std::string problem =
      conform::launched_target::start(adapter_, settings_, adapter_.real_timing(), tag_ + "-" + std::to_string(++starts_), process_);
  host_ = "127.0.0.1";
  port_ = process_ ? process_->port() : 0;
  return problem;
}

bool fuzz_target::running() { return !launched() || (process_ && process_->running()); }

std::string fuzz_target::exit_status() { return process_ ? process_->exit_status() : std::string{}; }

std::string fuzz_target::new_output() {
  if (!process_) return {};
  std::ifstream in(process_->log_path(), std::ios::binary);
  in.seekg(static_cast<std::streamoff>(output_seen_));
  std::string fresh{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  output_seen_ += fresh.size();
  return fresh;
}

void fuzz_target::stop() {
  if (process_) process_->stop();
}

}  // namespace parley::wirefuzz
