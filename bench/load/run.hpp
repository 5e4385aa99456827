// One load run over TCP (with TLS or WebSocket as the dialect asks): N connections log in, then the mode's
// traffic flows through the target while parley-load checks every delivery (sender, sequence) and times
// it. Single-threaded epoll, buffers sized once, so the tool costs a small fraction of what it measures.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/load/dialect.hpp"
#include "bench/load/latency.hpp"

namespace parley::load {

enum class mode { fanout, all_to_all, hold, rtt };

struct run_options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  load::mode mode = mode::fanout;
  std::size_t clients = 50;
  std::size_t messages = 10000;  // per sender (rtt: round trips)
  std::size_t size = 64;         // bytes of each message's text
  std::size_t window = 64;       // a sender's messages not yet delivered to every receiver
  double hold_seconds = 5;       // hold: how long the idle connections stay
  double timeout_seconds = 120;  // the whole run, login included
  std::string name_prefix = "ld";
};

struct run_result {
  std::string failure;  // empty when the run completed
  std::size_t logged_in = 0, connected = 0;
  std::uint64_t sent = 0, delivered = 0;
  double seconds = 0;  // from the first message to the last delivery (hold: the hold)
  latency_histogram latency;
  std::uint64_t errors = 0;  // lost, duplicated, reordered or foreign deliveries
  std::vector<std::string> error_samples;  // the first few, described
};

// `progress` is called about once a second while messages flow, with the deliveries so far. `ready` runs
// once, when every connection is open and logged in (in hold mode: as many as log in), after the dialect's
// setup (multiparty's sessions) and before the mode's traffic starts: the target's work from then on is the traffic's, its memory then the idle one's.
run_result run(const run_options& options, dialect& speech, std::function<void(std::uint64_t)> progress,
               std::function<void()> ready = {});

}  // namespace parley::load
