#include "conformance/engine/target.hpp"

#include <fstream>
#include <regex>
#include <thread>

namespace parley::conform {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One connection of the protocol's transport (a TLS or WebSocket handshake included), ended politely: a
// plain connect-and-close can kill a fragile TLS server before the first case. With `settle`, the
// connection must also stay up for that long: the kernel still completes a TCP handshake on the listening
// socket of a process that is in the middle of dying, and then resets it.
bool completes_a_connection(const adapter& a, const std::string& host, unsigned short port, millis limit,
                            millis settle = millis(0)) {
  auto s = a.connect(host, port, clock_type::now() + limit, nullptr);  // a probe, not a case's traffic
  if (!s) return false;
  if (settle.count() > 0) {
    auto got = (*s)->read_some(clock_type::now() + settle);
    if (got.status == net::read_status::closed || got.status == net::read_status::reset ||
        got.status == net::read_status::error)
      return false;
  }
  (*s)->close_gracefully(clock_type::now() + millis(200));
  return true;
}

}  // namespace

std::string launched_target::output_tail(std::size_t max) const {
  std::string all = read_file(log_path_);
  return all.size() > max ? "..." + all.substr(all.size() - max) : all;
}

std::string launched_target::start(const adapter& a, const run_settings& s, const timing& t, const std::string& tag,
                                   std::unique_ptr<launched_target>& out) {
  for (int attempt = 1;; ++attempt) {
    out = std::make_unique<launched_target>();
    out->port_ = cli::free_port();
    std::string command = cli::replace_all(s.launch_command, "{port}", std::to_string(out->port_));
    for (const auto& [name, value] : a.placeholders()) command = cli::replace_all(command, "{" + name + "}", value);
    for (const auto& [name, value] : t.vars)
      command = cli::replace_all(command, "{" + name + "}", std::to_string(static_cast<long long>(value)));
    out->log_path_ = s.log_dir + "/target-" + tag + (attempt > 1 ? "-" + std::to_string(attempt) : "") + ".log";
    out->proc_ = std::make_unique<cli::process>(command, false, false, out->log_path_);
    std::string problem = out->wait_ready(a, s, command);
    // Most often a quick exit means the port was taken between choosing it and the target binding it (an
    // outgoing connection of this very engine may have been given it): try another port.
    bool port_lost = !out->running() && out->output_tail().find("in use") != std::string::npos;
    if (problem.empty() || !port_lost || attempt == 3) return problem;
  }
}

std::string launched_target::wait_ready(const adapter& a, const run_settings& s, const std::string& command) {
  auto limit = millis(static_cast<long long>(10000 * s.time_scale));
  auto deadline = clock_type::now() + limit;
  auto exited = [&] {
    return "the implementation under test " + exit_status() + " before it was ready: " + command;
  };
  if (s.ready_delay_ms >= 0) {
    auto until = clock_type::now() + millis(static_cast<long long>(s.ready_delay_ms));
    while (clock_type::now() < until) {
      if (!running()) return exited();
      std::this_thread::sleep_for(millis(10));
    }
    return running() ? std::string{} : exited();
  }
  if (!s.ready_regex.empty()) {
    std::regex ready(s.ready_regex);
    while (clock_type::now() < deadline) {
      if (std::regex_search(read_file(log_path_), ready)) return {};
      if (!running()) return exited();
      std::this_thread::sleep_for(millis(20));
    }
    return "the implementation under test printed nothing matching --ready /" + s.ready_regex + "/ within " +
           std::to_string(limit.count() / 1000) + " s: " + command;
  }
  // Refused (not listening yet) or reset (not accepting yet): retry, backing off, within the bound.
  millis pause(10);
  while (clock_type::now() < deadline) {
    if (!running()) return exited();
    if (completes_a_connection(a, "127.0.0.1", port_, millis(500))) return {};
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, millis(320));
  }
  return "the implementation under test did not complete a connection on port " + std::to_string(port_) + " within " +
         std::to_string(limit.count() / 1000) + " s: " + command;
}

bool target_alive(const adapter& a, const std::string& host, unsigned short port, launched_target* launched,
                  double time_scale, connect_pacer* pacer) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (launched && !launched->running()) return false;
    if (pacer) pacer->wait_turn();
    if (completes_a_connection(a, host, port, millis(static_cast<long long>(1000 * time_scale)), millis(100))) return true;
    std::this_thread::sleep_for(millis(200));
  }
  return false;
}

void connect_pacer::set_gap(millis gap) {
  std::lock_guard lock(mutex_);
  gap_ = gap;
}

millis connect_pacer::gap() const {
  std::lock_guard lock(mutex_);
  return gap_;
}

void connect_pacer::note_connect() {
  std::lock_guard lock(mutex_);
  last_ = std::max(last_, clock_type::now());
}

void connect_pacer::wait_turn() {
  time_point turn;
  {
    std::lock_guard lock(mutex_);
    if (gap_.count() == 0) return;
    turn = std::max(clock_type::now(), last_ + gap_);
    last_ = turn;
  }
  std::this_thread::sleep_until(turn);
}

}  // namespace parley::conform
