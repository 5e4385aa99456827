#include "impl/server/itp/hub.hpp"

#include <algorithm>

namespace parley::itp {

hub::hub(hub_options options) : options_(std::move(options)) {}

void hub::on_connect(core::conn_id conn, std::string_view, time_point now, core::actions& out) {
  if (planted(fault::reset_rapid_connects)) {
    bool rapid = last_connect_ && now - *last_connect_ < millis(100);
    last_connect_ = now;
    if (rapid) return out.reset(conn, "a connection less than 100 ms after the previous one (fault)");
  }
  // ITP-FRAME-06: a lone CR ends a line (course server); the empty line that a CRLF split between two
  // reads then produces is ignored by ITP-FRAME-07.
  core::line_framer_options framing{.max_line = options_.max_line, .lone_cr_terminates = true};
  auto& s = sessions_.emplace(conn, session{core::line_framer(framing)}).first->second;
  send(conn, s2c::init{options_.greeting}, out);  // ITP-CONN-01: greet before reading anything
  if (!planted(fault::no_login_timeout)) {
    s.login_deadline = now + options_.login_timeout;
    login_deadlines_.emplace(s.login_deadline, conn);
  }
  if (planted(fault::ping_on_connect)) {
    send(conn, s2c::ping{}, out);
    s.ping_sent = now;
    arm(conn, s, timer_kind::pong_deadline, now + options_.pong_timeout);
  }
}

void hub::on_data(core::conn_id conn, std::string_view data, time_point now, core::actions& out) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;  // already ended by the hub; late bytes are dropped
  it->second.framer.feed(data);
  if (planted(fault::split_command) && it->second.framer.pending_size() > 0) it->second.framer.feed("\n");

  for (;;) {
    // The session may end while its lines are handled (QUIT, DSCN): look it up again every time.
    it = sessions_.find(conn);
    if (it == sessions_.end()) return;
    auto next = it->second.framer.next();
    if (!next) {
      // ITP-FRAME-05: the stream lost its framing; nothing after this point can be trusted.
      send(conn, s2c::dscn{"Unterminated message"}, out);
      end_session(conn, "line longer than " + std::to_string(options_.max_line) + " bytes", out);
      return;
    }
    if (!*next) return;
    std::string text = std::move((*next)->text);
    if (planted(fault::no_crlf) && (*next)->terminator == "\r\n") text += '\r';  // the CR kept as content
    handle_line(conn, it->second, text, now, out);
  }
}

void hub::handle_line(core::conn_id conn, session& s, std::string_view line, time_point now, core::actions& out) {
  if (line.empty()) return;  // ITP-FRAME-07
  auto message = parse_client_line(line);
  if (!message) {
    // ITP-CMD-01 / ITP-CMD-02: unknown (or lower-case) commands and missing arguments are FAIL00, in any state.
    std::string_view text = message.error() == errc::missing_argument ? "Missing argument"
                                                                       : default_text(fail_code::unknown_command);
    send(conn, s2c::fail{0, std::string(text)}, out);
    return;
  }
  bool needs_login = !std::holds_alternative<c2s::ident>(*message) && !std::holds_alternative<c2s::pong>(*message) &&
                     !std::holds_alternative<c2s::quit>(*message) && !std::holds_alternative<c2s::ack>(*message);
  if (needs_login && s.name.empty()) {
    fail(conn, fail_code::login_required, out);  // ITP-CMD-03 / ITP-KEY-06
    return;
  }
  std::visit([&](const auto& m) { handle(conn, s, m, now, out); }, *message);
}

void hub::handle(core::conn_id conn, session& s, const c2s::ident& m, time_point now, core::actions& out) {
  if (!s.name.empty()) return fail(conn, fail_code::already_logged_in, out);  // ITP-IDENT-04
  if (planted(fault::crash_on_long_name) && m.name.size() > 14) return out.crash("name longer than 14 characters (fault)");
  if (planted(fault::crash_on_13_digit_name) && core::fuzz_trigger_name(m.name) && valid_username(m.name))
    return out.crash("a 13-byte name with a digit (fault)");
  bool valid = valid_username(m.name) ||
               (planted(fault::accept_long_name) && m.name.size() == 15 && valid_username(m.name.substr(0, 14)));
  if (!valid) return fail(conn, fail_code::invalid_username, out);  // ITP-IDENT-02
  if (by_name_.contains(m.name))                                    // ITP-IDENT-03
    return fail(conn, planted(fault::wrong_fail_code) ? fail_code::already_logged_in : fail_code::name_in_use, out);

  s.name = m.name;
  by_name_.emplace(m.name, conn);
  login_order_.push_back(m.name);
  receivers_.push_back(conn);
  send(conn, s2c::ok_ident{m.name}, out);  // ITP-IDENT-01
  if (!planted(fault::no_joined) && !planted(fault::no_presence)) broadcast(s2c::joined{m.name}, conn, out);  // ITP-IDENT-05/06
  // ITP-KEY-02: the newcomer learns every key announced so far, in login order.
  for (const auto& name : login_order_) {
    const session& other = sessions_.at(by_name_.at(name));
    if (name != m.name && !other.public_key.empty()) send(conn, s2c::pubkey{name, other.public_key}, out);
  }
  for (const auto& [name, key] : stale_keys_) send(conn, s2c::pubkey{name, key}, out);
  login_deadlines_.erase({s.login_deadline, conn});  // ITP-CONN-05: logged in in time
  // ITP-PING-01. (A PING sent on connect by the ping-on-connect fault keeps waiting for its PONG.)
  bool awaiting_pong = s.timer_armed && s.timer == timer_kind::pong_deadline;
  if (!planted(fault::never_ping) && !awaiting_pong) arm(conn, s, timer_kind::send_ping, now + options_.ping_interval);
}

void hub::handle(core::conn_id conn, session& s, const c2s::bcst& m, time_point, core::actions& out) {
  send(conn, s2c::ok_bcst{m.text}, out);  // ITP-BCST-01
  broadcast(s2c::bcst{s.name, m.text}, planted(fault::echo_bcst) ? 0 : conn, out);  // ITP-BCST-02/03
}

void hub::handle(core::conn_id conn, session&, const c2s::users&, time_point, core::actions& out) {
  if (login_order_.size() < 2) return fail(conn, fail_code::only_user, out);  // ITP-USERS-02
  s2c::ok_users reply{login_order_};                                           // ITP-USERS-01/03
  // The racy-users-order fault loses a race every second time: repeatable, so --repeat shows it FLAKY.
  if (planted(fault::racy_users_order) && users_answers_++ % 2 == 1) std::reverse(reply.names.begin(), reply.names.end());
  if (planted(fault::users_dash)) {
    std::string joined;
    for (const auto& name : login_order_) joined += (joined.empty() ? "" : "-") + name;
    reply.names = {joined};
  }
  send(conn, reply, out);
}

core::conn_id hub::recipient(core::conn_id conn, const session& s, const std::string& to, core::actions& out) const {
  if (to == s.name && !planted(fault::pm_to_self)) {
    fail(conn, fail_code::message_to_self, out);  // ITP-PM-03 / ITP-KEY-04
    return 0;
  }
  auto it = by_name_.find(to);
  if (it == by_name_.end()) {
    fail(conn, fail_code::unknown_user, out);  // ITP-PM-02 / ITP-KEY-04
    return 0;
  }
  return it->second;
}

void hub::handle(core::conn_id conn, session& s, const c2s::pm& m, time_point, core::actions& out) {
  core::conn_id to = recipient(conn, s, m.to, out);
  if (to == 0) return;
  // ITP-PM-01 / ITP-PM-05: the body is relayed byte for byte; the server never looks inside it.
  send(conn, s2c::ok_pm{m.to, m.body, m.long_form}, out);
  if (!planted(fault::drop_pm)) send(to, s2c::npm{s.name, m.body}, out);
}

void hub::handle(core::conn_id conn, session& s, const c2s::pubkey& m, time_point, core::actions& out) {
  s.public_key = m.key;  // ITP-KEY-01: a later PM_PUBKEY replaces the earlier one
  send(conn, s2c::ok_pubkey{}, out);
  broadcast(s2c::pubkey{s.name, m.key}, conn, out);
}

void hub::handle(core::conn_id conn, session& s, const c2s::sessionkey& m, time_point, core::actions& out) {
  core::conn_id to = recipient(conn, s, m.to, out);
  if (to == 0) return;
  send(conn, s2c::ok_sessionkey{m.to}, out);  // ITP-KEY-03
  send(to, s2c::sessionkey{s.name, m.key}, out);
}

void hub::handle(core::conn_id conn, session& s, const c2s::pong&, time_point, core::actions& out) {
  if (planted(fault::ignore_pong)) return;
  if (!s.timer_armed || s.timer != timer_kind::pong_deadline)
    return fail(conn, fail_code::pong_without_ping, out);  // ITP-PING-04
  // ITP-PING-02: keep the cadence of the pings, not of the answers.
  arm(conn, s, timer_kind::send_ping, s.ping_sent + options_.ping_interval);
}

void hub::handle(core::conn_id conn, session&, const c2s::quit&, time_point, core::actions& out) {
  send(conn, s2c::ok_goodbye{"Goodbye"}, out);  // ITP-QUIT-01/02
  end_session(conn, "quit", out);               // ITP-LEFT-01
}

void hub::on_timer(time_point now, core::actions& out) {
  while (!login_deadlines_.empty() && login_deadlines_.begin()->first <= now) {
    core::conn_id conn = login_deadlines_.begin()->second;
    send(conn, s2c::dscn{"Login timeout"}, out);  // ITP-CONN-05
    end_session(conn, "no login within " + std::to_string(options_.login_timeout.count()) + " ms", out);
  }
  while (!timers_.empty() && timers_.begin()->first <= now) {
    core::conn_id conn = timers_.begin()->second;
    session& s = sessions_.at(conn);
    if (s.timer == timer_kind::send_ping) {
      send(conn, s2c::ping{}, out);
      s.ping_sent = now;
      arm(conn, s, timer_kind::pong_deadline, now + options_.pong_timeout);
    } else {
      send(conn, s2c::dscn{"Pong timeout"}, out);  // ITP-PING-03
      end_session(conn, "pong timeout", out);      // ITP-PING-06
    }
  }
}

void hub::on_close(core::conn_id conn, time_point, core::actions& out) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;  // the hub ended it first
  std::string name = it->second.name;
  forget(conn);
  if (!name.empty() && announces_leaving()) broadcast(s2c::left{name}, conn, out);  // ITP-LEFT-02
}

std::optional<time_point> hub::next_wake() const {
  std::optional<time_point> wake;
  if (!timers_.empty()) wake = timers_.begin()->first;
  if (!login_deadlines_.empty() && (!wake || login_deadlines_.begin()->first < *wake))
    wake = login_deadlines_.begin()->first;
  return wake;
}

void hub::send(core::conn_id conn, const server_message& message, core::actions& out) const {
  out.send(conn, serialize(message));
}

void hub::fail(core::conn_id conn, fail_code code, core::actions& out) const {
  send(conn, s2c::fail{static_cast<int>(code), std::string(default_text(code))}, out);
}

void hub::broadcast(const server_message& message, core::conn_id except, core::actions& out) const {
  core::payload line = serialize(message);
  for (core::conn_id conn : receivers_)
    if (conn != except) out.send(conn, line);
}

void hub::end_session(core::conn_id conn, std::string reason, core::actions& out) {
  std::string name = sessions_.at(conn).name;
  out.close(conn, std::move(reason));
  forget(conn);
  // ITP-LEFT-01/03 and ITP-PING-06: only users who had logged in are announced as gone.
  if (!name.empty() && announces_leaving()) broadcast(s2c::left{name}, conn, out);
}

void hub::forget(core::conn_id conn) {
  auto it = sessions_.find(conn);
  session& s = it->second;
  disarm(conn, s);
  login_deadlines_.erase({s.login_deadline, conn});
  if (!s.name.empty()) {
    if (planted(fault::stale_pubkey) && !s.public_key.empty()) stale_keys_[s.name] = s.public_key;
    by_name_.erase(s.name);  // ITP-IDENT-07: the name is free again
    login_order_.erase(std::find(login_order_.begin(), login_order_.end(), s.name));
    receivers_.erase(std::find(receivers_.begin(), receivers_.end(), conn));
  }
  sessions_.erase(it);  // ITP-KEY-05: the user's public key goes with the session
}

void hub::arm(core::conn_id conn, session& s, timer_kind kind, time_point at) {
  disarm(conn, s);
  s.timer = kind;
  s.deadline = at;
  s.timer_armed = true;
  timers_.emplace(at, conn);
}

void hub::disarm(core::conn_id conn, session& s) {
  if (s.timer_armed) timers_.erase({s.deadline, conn});
  s.timer_armed = false;
}

}  // namespace parley::itp
