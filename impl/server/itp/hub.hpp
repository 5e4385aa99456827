// The itp server as a pure state machine (spec/itp/spec.md). Bytes and time in, actions out: no sockets,
// no clocks, no threads. The generic host runs it over TCP; the fuzzer and unit tests drive it directly.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "impl/core/hub.hpp"
#include "impl/core/line_framer.hpp"
#include "impl/proto/itp/codec.hpp"
#include "impl/server/itp/faults.hpp"

namespace parley::itp {

struct hub_options {
  millis ping_interval{10000};  // ITP-PING-01: first PING this long after login, then at this period
  millis pong_timeout{3000};    // ITP-PING-03
  millis login_timeout{60000};  // ITP-CONN-05: a connection not logged in this long after it opened is ended
  std::size_t max_line = default_max_line;
  std::string greeting = "Welcome to the server Parley/1.0";  // ITP-CONN-01/02
  fault planted = fault::none;
};

class hub final : public core::hub {
public:
  explicit hub(hub_options options = {});

  void on_connect(core::conn_id conn, std::string_view peer, time_point now, core::actions& out) override;
  void on_data(core::conn_id conn, std::string_view data, time_point now, core::actions& out) override;
  void on_timer(time_point now, core::actions& out) override;
  void on_close(core::conn_id conn, time_point now, core::actions& out) override;
  std::optional<time_point> next_wake() const override;
  bool signed_in(core::conn_id conn) const override {
    auto it = sessions_.find(conn);
    return it != sessions_.end() && !it->second.name.empty();
  }

  // Introspection for tests and the fuzzer's invariants.
  std::size_t session_count() const noexcept { return sessions_.size(); }
  std::vector<std::string> logged_in_names() const { return login_order_; }

private:
  enum class timer_kind { send_ping, pong_deadline };
  struct session {
    core::line_framer framer;
    std::string name;  // empty until IDENT succeeds
    std::string public_key;
    time_point deadline{};
    timer_kind timer = timer_kind::send_ping;
    bool timer_armed = false;
    time_point ping_sent{};
    time_point login_deadline{};  // while not logged in (ITP-CONN-05); apart from the ping timer, which a
                                  // planted fault may run before login
  };

  void handle_line(core::conn_id conn, session& s, std::string_view line, time_point now, core::actions& out);
  void handle(core::conn_id, session&, const c2s::ident&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::bcst&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::users&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::pm&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::pubkey&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::sessionkey&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::pong&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::quit&, time_point, core::actions&);
  void handle(core::conn_id, session&, const c2s::ack&, time_point, core::actions&) {}

  void send(core::conn_id conn, const server_message& message, core::actions& out) const;
  void fail(core::conn_id conn, fail_code code, core::actions& out) const;
  // To every logged-in session except `except` (ITP-BCST-04: never to sessions that have not logged in).
  void broadcast(const server_message& message, core::conn_id except, core::actions& out) const;
  // Resolves a PM / PM_SESSIONKEY target; answers FAIL08 / FAIL07 itself and returns 0 when there is none.
  core::conn_id recipient(core::conn_id conn, const session& s, const std::string& to, core::actions& out) const;
  // Ends a session: close action, LEFT to the others if it was logged in, state removed.
  void end_session(core::conn_id conn, std::string reason, core::actions& out);
  void forget(core::conn_id conn);
  void arm(core::conn_id conn, session& s, timer_kind kind, time_point at);
  void disarm(core::conn_id conn, session& s);
  bool planted(fault f) const noexcept { return options_.planted == f; }
  bool announces_leaving() const noexcept { return !planted(fault::no_left) && !planted(fault::no_presence); }

  hub_options options_;
  std::map<core::conn_id, session> sessions_;
  std::map<std::string, core::conn_id, std::less<>> by_name_;
  std::vector<std::string> login_order_;                    // ITP-USERS-03
  std::vector<core::conn_id> receivers_;                    // login_order_'s connections: a broadcast's fan-out
  std::map<std::string, std::string, std::less<>> stale_keys_;  // only with fault::stale_pubkey
  std::set<std::pair<time_point, core::conn_id>> timers_;   // one armed timer per logged-in session
  std::set<std::pair<time_point, core::conn_id>> login_deadlines_;  // one per session not logged in
  std::optional<time_point> last_connect_;                  // only with fault::reset_rapid_connects
  unsigned long users_answers_ = 0;                          // only with fault::racy_users_order
};

}  // namespace parley::itp
