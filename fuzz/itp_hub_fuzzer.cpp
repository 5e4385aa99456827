// Fuzzes the itp server hub with four virtual connections and a virtual clock, and checks what it does.
//
// Input: a sequence of records [op:1][conn:1][len:2, big-endian][payload]. op % 4:
//   0 connect conn % 4 (if not open)          payload: none (len is ignored)
//   1 data on conn % 4 (if open)              payload: len bytes (fewer if the input ends)
//   2 the peer closes conn % 4 (on_close)     payload: none
//   3 time passes: len * 7 milliseconds       payload: none; due timers fire, in order
// The first input byte also picks a planted fault (or none), so the faulty code paths are fuzzed too.
// Invariants: nothing is sent to a connection after it was closed; every message is one line that parses
// as a server message; timers never lie in the past; the session count and the user list stay consistent.
#include <array>
#include <cstdint>
#include <set>

#include "fuzz/check.hpp"
#include "impl/server/itp/hub.hpp"

namespace {

using namespace parley;

constexpr int connections = 4;

struct harness {
  itp::hub hub;
  time_point now{};
  std::array<bool, connections> open{};    // connected and not closed by either side
  std::set<core::conn_id> closed;          // ids that must never receive anything again
  core::conn_id next_id = 1;
  std::array<core::conn_id, connections> id{};

  explicit harness(itp::hub_options options) : hub(std::move(options)) {}

  void apply(core::actions& out) {
    for (auto& a : out.take()) {
      if (auto* send = std::get_if<core::send_action>(&a)) {
        PARLEY_FUZZ_CHECK(!closed.contains(send->conn), "sent to a closed connection");
        const std::string& line = send->bytes;
        PARLEY_FUZZ_CHECK(!line.empty() && line.back() == '\n' && line.find('\n') == line.size() - 1,
                          "a hub message is not exactly one line");
        PARLEY_FUZZ_CHECK(itp::parse_server_line(std::string_view(line).substr(0, line.size() - 1)).has_value(),
                          "a hub message does not parse as a server message");
      } else if (auto* close = std::get_if<core::close_action>(&a)) {
        // A planted crash_action ends nothing here: the hub goes on, so the fuzzer keeps exploring it.
        auto conn = close->conn;
        closed.insert(conn);
        for (int i = 0; i < connections; ++i)
          if (id[i] == conn) open[i] = false;
      }
    }
  }

  void check_state(bool long_names) {
    std::size_t live = 0;
    for (bool o : open) live += o;
    PARLEY_FUZZ_CHECK(hub.session_count() == live, "session count differs from the open connections");
    auto names = hub.logged_in_names();
    std::set<std::string> unique(names.begin(), names.end());
    PARLEY_FUZZ_CHECK(unique.size() == names.size(), "a name is logged in twice");
    for (const auto& n : names)
      PARLEY_FUZZ_CHECK(itp::valid_username(n) || (long_names && n.size() == 15), "an invalid name is logged in");
    if (auto wake = hub.next_wake()) PARLEY_FUZZ_CHECK(*wake > now, "a due timer was not fired");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto faults = itp::all_faults();
  itp::hub_options options{.ping_interval = millis(1000), .pong_timeout = millis(500), .max_line = 256};
  std::size_t choice = size > 0 ? data[0] % (faults.size() + 1) : 0;
  if (choice > 0) options.planted = faults[choice - 1].value;
  bool long_names = options.planted == itp::fault::accept_long_name;
  harness h(options);

  for (std::size_t at = size > 0 ? 1 : 0; at + 4 <= size;) {
    int op = data[at] % 4;
    int conn = data[at + 1] % connections;
    std::size_t len = std::size_t(data[at + 2]) << 8 | data[at + 3];
    at += 4;
    core::actions out;
    if (op == 0 && !h.open[conn]) {
      h.id[conn] = h.next_id++;
      h.open[conn] = true;
      h.hub.on_connect(h.id[conn], "fuzz", h.now, out);
    } else if (op == 1) {
      len = std::min(len, size - at);
      if (h.open[conn])
        h.hub.on_data(h.id[conn], std::string_view(reinterpret_cast<const char*>(data + at), len), h.now, out);
      at += len;
    } else if (op == 2 && h.open[conn]) {
      h.open[conn] = false;
      h.closed.insert(h.id[conn]);
      h.hub.on_close(h.id[conn], h.now, out);
    } else if (op == 3) {
      time_point until = h.now + millis(static_cast<long long>(len) * 7);
      while (auto wake = h.hub.next_wake()) {
        if (*wake > until) break;
        h.now = *wake;
        h.hub.on_timer(h.now, out);
        h.apply(out);
      }
      h.now = until;
    }
    h.apply(out);
    h.check_state(long_names);
  }
  return 0;
}
