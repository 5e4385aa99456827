// Fuzzes the peerchat rendezvous hub with four virtual connections (at most three at once, so that
// ERROR Server_full is reachable), a virtual clock and a deterministic port generator.
//
// Input: the first byte picks a planted fault (0: none), then records [op:1][conn:1][len:2 big-endian]:
//   op % 5 = 0 connect conn % 4 (from 127.0.0.<conn+1>)   1 len payload bytes on conn % 4
//            2 the peer closes   3 time passes: len * 7 ms   4 a well-formed line: payload[0] picks
//              the command, payload[1] the name (alice, bob, carol, dave); len >= 2
// Invariants: nothing is sent to a closed connection; every send is one LF-terminated line (CR LF with
// the crlf-lines fault) of at most 512 bytes that the client codec reads as a server line (or a user
// name inside a list); every PORT is in 40000-59999 (unless a fault moves it); the hub's connections are
// exactly the open ones; registered users and negotiating pairs never outnumber them; no due timer is
// left unfired.
#include <array>
#include <cstdint>
#include <set>
#include <string>

#include "fuzz/check.hpp"
#include "fuzz/hub_records.hpp"
#include "impl/server/peerchat/hub.hpp"

namespace {

using namespace parley;
using namespace parley::peerchat;

constexpr int connections = 4;
constexpr const char* names[] = {"alice", "bob", "carol", "dave"};
constexpr const char* key = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

struct harness {
  hub h;
  fault planted;
  std::array<bool, connections> open{};
  std::array<core::conn_id, connections> id{};
  std::array<unsigned, connections> last_port{};
  std::set<core::conn_id> closed;
  core::conn_id next_id = 1;
  time_point now{};

  explicit harness(hub_options options) : h(options), planted(options.planted) {}

  int slot(core::conn_id conn) const {
    for (int c = 0; c < connections; ++c)
      if (id[c] == conn) return c;
    return -1;
  }

  void apply(core::actions& out) {
    for (auto& action : out.take()) {
      if (auto* send = std::get_if<core::send_action>(&action)) {
        PARLEY_FUZZ_CHECK(!closed.contains(send->conn), "sent to a closed connection");
        const std::string& line = send->bytes;
        std::string_view end = planted == fault::crlf_lines ? "\r\n" : "\n";
        PARLEY_FUZZ_CHECK(line.size() > end.size() && line.ends_with(end), "a line without its terminator");
        PARLEY_FUZZ_CHECK(line.size() <= max_line + (end.size() - 1), "a line over 512 bytes");
        std::string content = line.substr(0, line.size() - end.size());
        PARLEY_FUZZ_CHECK(content.find_first_of("\r\n") == std::string::npos, "a send holds two lines");
        auto parsed = parse_server_line(content);
        PARLEY_FUZZ_CHECK(parsed.command != server_command::other || valid_name(content),
                          "the hub wrote a line that is neither a server line nor a user name");
        if (parsed.command == server_command::port) {
          PARLEY_FUZZ_CHECK(valid_chat_port(parsed.port) || planted == fault::port_out_of_range, "a port out of range");
          if (int c = slot(send->conn); c >= 0) last_port[c] = parsed.port;
        }
      } else if (auto* close = std::get_if<core::close_action>(&action)) {
        auto conn = close->conn;
        closed.insert(conn);
        if (int c = slot(conn); c >= 0) open[c] = false;
      }
    }
  }

  void check_state() const {
    std::size_t live = 0;
    for (bool o : open) live += o;
    PARLEY_FUZZ_CHECK(h.connection_count() == live, "the hub's connections differ from the open ones");
    PARLEY_FUZZ_CHECK(h.registered_count() <= live, "more users registered than connections");
    std::size_t per_negotiation = planted == fault::allow_self_chat ? 1 : 2;  // a self-chat has one user
    PARLEY_FUZZ_CHECK(h.negotiation_count() * per_negotiation <= h.registered_count(),
                      "more negotiations than pairs of users");
  }
};

std::string well_formed(std::uint8_t pick, std::uint8_t who, unsigned port) {
  std::string name = names[who % 4];
  switch (pick % 10) {
    case 0: return "REGISTER " + name + "\n";
    case 1: return "REGISTER " + name + " " + key + "\n";
    case 2: return "CHAT " + name + "\n";
    case 3: return "OK\n";
    case 4: return "OK " + std::to_string(port) + "\n";
    case 5: return "ERROR Port_unavailable\n";
    case 6: return "LISTUSERS\n";
    case 7: return "HELLO peerchat/2\n";
    case 8: return "CLOSE\n";
    default: return "ERROR\n";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto faults = all_faults();
  std::uint32_t state = 0x9e3779b9;
  hub_options options{.port_timeout = millis(1000), .register_timeout = millis(5000), .max_connections = 3};
  // xorshift32: deterministic, so every input replays the same way; repeats are the hub's problem.
  options.random = [state]() mutable {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  if (auto planted = fuzz::planted_fault(data, size, faults)) options.planted = *planted;
  harness h(options);

  fuzz::hub_records records(data, size, 5, connections, [](int op) { return op == 1 || op == 4; });
  while (auto r = records.next()) {
    int op = r->op;
    int conn = r->conn;
    std::size_t len = r->len;
    std::string_view payload = r->payload;
    core::actions out;
    if (op == 0 && !h.open[conn]) {
      h.id[conn] = h.next_id++;
      h.open[conn] = true;
      h.last_port[conn] = 0;
      h.h.on_connect(h.id[conn], "127.0.0." + std::to_string(conn + 1) + ":40000", h.now, out);
    } else if (op == 1 && h.open[conn]) {
      h.h.on_data(h.id[conn], payload, h.now, out);
    } else if (op == 2 && h.open[conn]) {
      h.open[conn] = false;
      h.closed.insert(h.id[conn]);
      h.h.on_close(h.id[conn], h.now, out);
    } else if (op == 3) {
      h.now += millis(static_cast<long long>(len) * 7);
      fuzz::fire_due_timers(h.h, h.now, out);
      auto wake = h.h.next_wake();
      PARLEY_FUZZ_CHECK(!wake || *wake > h.now, "a due timer was left unfired");
    } else if (op == 4 && h.open[conn] && payload.size() >= 2) {
      auto line = well_formed(static_cast<std::uint8_t>(payload[0]), static_cast<std::uint8_t>(payload[1]), h.last_port[conn]);
      h.h.on_data(h.id[conn], line, h.now, out);
    }
    h.apply(out);
    h.check_state();
  }
  return 0;
}
