// The shape every server hub has (ARCHITECTURE: the sans-IO core): events in, actions out, time passed in.
// The generic host (impl/server/host) runs any hub over Asio; fuzzers and unit tests drive hubs directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "impl/core/clock.hpp"
#include "impl/core/payload.hpp"

namespace parley::core {

using conn_id = std::uint64_t;

struct send_action {
  conn_id conn;
  payload bytes;  // one complete wire unit (a line, a frame, a WebSocket message), maybe shared with others
};

// Close after everything queued for the connection has been written; or, with `reset`, at once with a TCP
// RST and nothing more written (only planted faults do that: it mimics servers that drop connections).
struct close_action {
  conn_id conn;
  std::string reason;  // for the log only; the wire reason, if any, was sent before
  bool reset = false;
};

// The server stops serving: the whole process exits, or (whole_process false) it stops accepting new
// connections while the open ones go on. Only planted faults do this, to mimic servers that crash on one
// input; fuzzers and tests treat it as the end of the input.
struct crash_action {
  std::string reason;
  bool whole_process = true;
};

using action = std::variant<send_action, close_action, crash_action>;

// The connection an action is for; 0 (never a connection's id) for a crash, which is for none.
inline conn_id conn_of(const action& a) {
  if (auto* s = std::get_if<send_action>(&a)) return s->conn;
  if (auto* c = std::get_if<close_action>(&a)) return c->conn;
  return 0;
}

// Collects what a hub wants done. Appending is all a hub may do to the outside world.
class actions {
public:
  // The same payload may go to many connections (a broadcast): encode it once and pass it to each.
  void send(conn_id conn, payload bytes) { list_.push_back(send_action{conn, std::move(bytes)}); }
  void close(conn_id conn, std::string reason) { list_.push_back(close_action{conn, std::move(reason)}); }
  void reset(conn_id conn, std::string reason) { list_.push_back(close_action{conn, std::move(reason), true}); }
  void crash(std::string reason, bool whole_process = true) {
    list_.push_back(crash_action{std::move(reason), whole_process});
  }
  const std::vector<action>& list() const noexcept { return list_; }
  std::vector<action> take() { return std::exchange(list_, {}); }
  // Gives back a list taken before, once its actions are done, so that its capacity serves the next call
  // (a host that reuses one `actions` allocates nothing per call once it has seen its largest fan-out).
  void reuse(std::vector<action> spent) {
    if (!list_.empty() || spent.capacity() <= list_.capacity()) return;
    spent.clear();
    list_ = std::move(spent);
  }
  bool empty() const noexcept { return list_.empty(); }

private:
  std::vector<action> list_;
};

class hub {
public:
  virtual ~hub() = default;
  virtual void on_connect(conn_id conn, std::string_view peer, time_point now, actions& out) = 0;
  virtual void on_data(conn_id conn, std::string_view data, time_point now, actions& out) = 0;
  virtual void on_timer(time_point now, actions& out) = 0;
  // The connection is gone (peer closed, reset, or the host closed it after a close_action).
  virtual void on_close(conn_id conn, time_point now, actions& out) = 0;
  // When on_timer must next be called; nullopt when no timer is pending.
  virtual std::optional<time_point> next_wake() const = 0;
  // Whether the connection has logged in (joined, registered, authenticated: the protocol's word). Under a
  // flood of connections that never log in, the host closes the oldest of those to keep room for users.
  virtual bool signed_in(conn_id conn) const = 0;
};

}  // namespace parley::core
