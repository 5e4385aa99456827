#include "impl/server/peerchat/hub.hpp"

#include <algorithm>
#include <limits>

#include "impl/core/crypto/digest.hpp"

namespace parley::peerchat {
namespace {

// The fault name-check-url-unreserved: the name rule taken from a URL library's check for RFC 3986's
// unreserved characters, which are the name rule's plus '~'. No case sends a '~' in a name (they test '!',
// non-ASCII bytes and lengths), so only fuzzing finds it.
bool url_unreserved_name(std::string_view name) {
  std::string as_if_valid(name);
  std::replace(as_if_valid.begin(), as_if_valid.end(), '~', '_');  // otherwise the rule as it is
  return valid_name(as_if_valid);
}

std::uint32_t csprng_word() {
  auto b = core::random_bytes(4);
  return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 | std::uint32_t(b[3]);
}

// PC-LINE-03 counts the LF in the 512 bytes; the framer counts content only.
core::line_framer_options framing() { return {.max_line = max_line - 1, .lone_cr_terminates = false}; }

}  // namespace

hub::hub(hub_options options) : options_(std::move(options)) {
  if (!options_.random) options_.random = csprng_word;
}

void hub::on_connect(core::conn_id conn, std::string_view peer, time_point now, core::actions& out) {
  if (conns_.size() >= options_.max_connections) {
    // PC-LIMIT-02: the oldest connection that has not registered makes room (ids grow with time), closed
    // without a message as the register timeout would close it; only a server full of users refuses.
    auto oldest = std::find_if(conns_.begin(), conns_.end(), [](const auto& c) { return c.second.name.empty(); });
    if (oldest != conns_.end() && !planted(fault::refuse_when_full)) {
      close(oldest->first, "closed to make room for a newcomer: the oldest connection not registered", out);
    } else {
      // PC-LIMIT-01. Never recorded, so nothing else can reach it before the host closes it.
      out.send(conn, terminated(error_line(code::server_full)));
      out.close(conn, "connection limit reached");
      return;
    }
  }
  conns_.insert_or_assign(conn, connection{.framer = core::line_framer(framing()),
                                           .address = start_chat_address(peer),
                                           .opened = now});
}

void hub::on_data(core::conn_id conn, std::string_view data, time_point now, core::actions& out) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;  // closing: nothing more is read (PC-CLOSE-01, PC-LINE-03)
  it->second.framer.feed(data);
  // Several lines in one read are processed in order, a line split over reads once (PC-LINE-02).
  for (;;) {
    auto c = conns_.find(conn);
    if (c == conns_.end()) return;  // CLOSE ends reading; what followed it is dropped
    auto line = c->second.framer.next();
    if (!line) {
      // PC-LINE-03: the rest of the stream cannot be framed any more.
      send(conn, error_line(code::line_too_long), out);
      return close(conn, "a line over 512 bytes", out);
    }
    if (!*line) return;
    handle(conn, (*line)->text, now, out);
  }
}

void hub::handle(core::conn_id conn, const std::string& text, time_point now, core::actions& out) {
  connection& c = conns_.at(conn);
  auto parsed = parse_client_line(text);
  if (!parsed) {
    bool syntax = parsed.error() == make_error_code(errc::bad_syntax);
    return send(conn, error_line(syntax ? code::bad_syntax : code::operation_unknown), out);  // PC-ERR-02, PC-LINE-04
  }
  const client_line& line = *parsed;
  switch (line.command) {
    case client_command::hello:
      // PC-HELLO-01/02: in any state; the version is echoed only for exactly "peerchat/2", and never by a
      // peerchat/1-only server. The fault looks only at whether there is an argument.
      if (planted(fault::hello_any_argument)) return send(conn, hello_line(!line.argument.empty()), out);
      return send(conn, hello_line(line.argument == version2 && !v1_only()), out);
    case client_command::register_user: return register_user(conn, c, line, out);
    case client_command::list_users:
      if (c.name.empty()) return send(conn, error_line(code::not_registered), out);  // PC-LIST-02
      return list_users(conn, out);
    case client_command::chat:
      if (c.name.empty()) return send(conn, error_line(code::not_registered), out);  // PC-LIST-02
      return chat(conn, c, line.argument, now, out);
    case client_command::accept_port:
    case client_command::refuse_port: return answer(conn, c, line, now, out);
    case client_command::close:
      send(conn, "CLOSE\n", out);  // PC-CLOSE-01
      return close(conn, "client CLOSE", out);
  }
}

void hub::register_user(core::conn_id conn, connection& c, const client_line& line, core::actions& out) {
  // Spec §5.2's order: name grammar, key, taken name (own included), already registered.
  bool name_ok = planted(fault::name_check_url_unreserved) ? url_unreserved_name(line.argument) : valid_name(line.argument);
  if (!name_ok) return send(conn, error_line(code::invalid_name), out);  // PC-REG-04
  if (planted(fault::crash_on_13_digit_register) && core::fuzz_trigger_name(line.argument))
    return out.crash("REGISTER of a 13-byte name with a digit (fault)");
  std::optional<public_key> key;
  // A peerchat/1-only server does not know keys: like the original, it ignores the extra field.
  if (!line.key.empty() && !v1_only()) {
    auto parsed = parse_public_key(line.key);
    if (!parsed) return send(conn, error_line(code::bad_key), out);  // PC-KEY-02
    key = *parsed;
  }
  if (names_.contains(line.argument) || ghosts_.contains(line.argument))
    return send(conn, error_line(code::user_exists), out);  // PC-REG-02
  if (!c.name.empty()) return send(conn, error_line(code::already_auth), out);  // PC-REG-03
  c.name = line.argument;
  c.key = key;
  names_.emplace(c.name, conn);
  registration_order_.push_back(conn);
  send(conn, registered_line(c.name), out);  // PC-REG-01
}

void hub::list_users(core::conn_id conn, core::actions& out) {
  // PC-LIST-01: one call writes the whole block, so nothing for this connection can come between.
  send(conn, "STARTUSERS\n", out);
  for (auto id : registration_order_) {
    if (id == conn && !planted(fault::list_includes_self)) continue;
    send(conn, conns_.at(id).name + "\n", out);
  }
  send(conn, "ENDUSERS\n", out);
}

void hub::chat(core::conn_id conn, connection& c, const std::string& name, time_point now, core::actions& out) {
  auto target = names_.find(name);
  if (target == names_.end()) return send(conn, error_line(code::user_not_online), out);  // PC-CHAT-01
  if (target->second == conn && !planted(fault::allow_self_chat))
    return send(conn, error_line(code::self_chat), out);  // PC-CHAT-02
  if (c.talk != 0 || conns_.at(target->second).talk != 0)
    return send(conn, error_line(code::user_busy), out);  // PC-CHAT-03
  if (!planted(fault::no_bare_ok)) send(conn, "OK\n", out);  // PC-CHAT-04: before any PORT
  auto id = ++last_talk_;
  talks_.emplace(id, negotiation{.requester = conn, .target = target->second});
  c.talk = id;
  conns_.at(target->second).talk = id;
  start_round(id, now, out);
}

void hub::answer(core::conn_id conn, connection& c, const client_line& line, time_point now, core::actions& out) {
  auto it = c.talk != 0 ? talks_.find(c.talk) : talks_.end();
  bool pending = it != talks_.end() && it->second.asked == conn;
  bool accept = line.command == client_command::accept_port;
  // PC-PORT-06: an answer nobody asked for, or an OK for another round's port, changes nothing. The
  // original client always sends a second OK; it lands here.
  if (!pending || (accept && line.port && *line.port != it->second.port)) {
    if (!pending && accept && planted(fault::stray_ok_unknown)) send(conn, error_line(code::operation_unknown), out);
    return;
  }
  negotiation& n = it->second;
  if (!accept) return start_round(it->first, now, out);  // PC-PORT-04: a refusal ends the round
  if (n.second) return start_chat(it->first, out);
  n.second = true;
  // PC-PORT-02: the second user is asked only once the first one has accepted.
  ask(n, planted(fault::target_asked_first) ? n.requester : n.target, now, out);
}

void hub::start_round(std::uint64_t talk, time_point now, core::actions& out) {
  negotiation& n = talks_.at(talk);
  if (n.round == max_rounds) {
    // The original's check `ntry > 20` never fires, so it introduces the users anyway.
    if (planted(fault::startchat_after_retries)) return start_chat(talk, out);
    send(n.requester, error_line(code::max_retries), out);  // PC-PORT-04: to the requester only
    return end_talk(talk);
  }
  ++n.round;
  n.port = draw_port(n.offered);
  n.offered.insert(n.port);
  n.second = false;
  ask(n, planted(fault::target_asked_first) ? n.target : n.requester, now, out);  // PC-PORT-02
}

void hub::ask(negotiation& n, core::conn_id conn, time_point now, core::actions& out) {
  n.asked = conn;
  if (planted(fault::no_port_timeout)) n.deadline.reset();
  else n.deadline = now + options_.port_timeout;  // PC-PORT-05: per answer, from its PORT
  send(conn, port_line(n.port), out);
}

void hub::start_chat(std::uint64_t talk, core::actions& out) {
  negotiation n = talks_.at(talk);
  end_talk(talk);  // after STARTCHAT nothing of the chat is kept; both may chat again at once (§5.4)
  if (planted(fault::no_startchat)) return;
  const connection& requester = conns_.at(n.requester);
  const connection& target = conns_.at(n.target);
  // PC-START-01/02, PC-KEY-02: each line names the other user, with the other's address and key.
  auto line_about = [&](const connection& other) {
    std::string address = planted(fault::own_address) ? "0.0.0.0" : other.address;
    return start_chat_line(address, n.port, other.name, planted(fault::drop_key) ? std::nullopt : other.key);
  };
  std::string to_requester = line_about(target);
  std::string to_target = line_about(requester);
  send(n.requester, std::move(to_requester), out);  // the requester first
  send(n.target, std::move(to_target), out);
}

void hub::abort(std::uint64_t talk, core::actions& out) {
  auto it = talks_.find(talk);
  if (it == talks_.end()) return;
  negotiation n = it->second;
  end_talk(talk);
  // PC-PORT-05: each user still connected hears it once (send skips one that has gone; a self-chat
  // fault has one user in both roles).
  send(n.requester, error_line(code::chat_aborted), out);
  if (n.target != n.requester) send(n.target, error_line(code::chat_aborted), out);
}

void hub::end_talk(std::uint64_t talk) {
  auto it = talks_.find(talk);
  if (it == talks_.end()) return;
  for (auto id : {it->second.requester, it->second.target})
    if (auto c = conns_.find(id); c != conns_.end() && c->second.talk == talk) c->second.talk = 0;
  talks_.erase(it);
}

unsigned hub::draw_port(const std::set<unsigned>& offered) {
  // PC-PORT-01: uniform over the range, by rejecting the top of the 32-bit space that would bias the
  // modulo; never a port offered before in this negotiation.
  std::uint32_t low = planted(fault::port_out_of_range) ? 1024 : first_chat_port;
  std::uint32_t high = planted(fault::port_out_of_range) ? 65535 : last_chat_port;
  std::uint64_t count = high - low + 1;
  std::uint64_t limit = (std::uint64_t(1) << 32) - (std::uint64_t(1) << 32) % count;
  for (int tries = 0; tries < 64; ++tries) {
    std::uint64_t r = options_.random();
    if (r >= limit) continue;
    auto port = static_cast<unsigned>(low + r % count);
    if (!offered.contains(port)) return port;
  }
  // Only a generator that keeps repeating itself gets here (a test's, the fuzzer's): any free port will do.
  unsigned port = low;
  while (offered.contains(port)) ++port;
  return port;
}

void hub::send(core::conn_id conn, std::string line, core::actions& out) {
  if (!conns_.contains(conn)) return;
  out.send(conn, terminated(std::move(line)));
}

std::string hub::terminated(std::string line) const {
  // PC-LINE-01: the codec ends every line with one LF; the fault writes CR LF, as a server built on a
  // println that follows the platform's convention would.
  if (planted(fault::crlf_lines) && !line.empty()) {
    line.back() = '\r';
    line += '\n';
  }
  return line;
}

void hub::forget(core::conn_id conn, core::actions& out) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  connection& c = it->second;
  if (!c.name.empty()) {
    // PC-REG-05: the name is free at once and the user leaves every list.
    names_.erase(c.name);
    std::erase(registration_order_, conn);
    if (planted(fault::keep_name_after_close)) ghosts_.insert(c.name);
  }
  auto talk = c.talk;
  conns_.erase(it);
  if (talk != 0) abort(talk, out);  // PC-PORT-05: a departure aborts the negotiation
}

void hub::close(core::conn_id conn, std::string why, core::actions& out) {
  if (!conns_.contains(conn)) return;
  forget(conn, out);
  // The host closes after the queued lines are written and does not report this close back (core::hub).
  out.close(conn, std::move(why));
}

void hub::on_close(core::conn_id conn, time_point, core::actions& out) { forget(conn, out); }

void hub::on_timer(time_point now, core::actions& out) {
  std::vector<core::conn_id> idle;
  if (!planted(fault::no_register_timeout))
    for (const auto& [id, c] : conns_)
      if (c.name.empty() && now >= c.opened + options_.register_timeout) idle.push_back(id);
  for (auto id : idle) close(id, "not registered in time", out);  // PC-CONN-04: without a message

  std::vector<std::uint64_t> late;
  for (const auto& [id, n] : talks_)
    if (n.deadline && now >= *n.deadline) late.push_back(id);
  for (auto id : late) abort(id, out);  // PC-PORT-05: no further round
}

std::optional<time_point> hub::next_wake() const {
  std::optional<time_point> wake;
  auto consider = [&](time_point t) {
    if (!wake || t < *wake) wake = t;
  };
  if (!planted(fault::no_register_timeout))
    for (const auto& [id, c] : conns_)
      if (c.name.empty()) consider(c.opened + options_.register_timeout);
  for (const auto& [id, n] : talks_)
    if (n.deadline) consider(*n.deadline);
  return wake;
}

}  // namespace parley::peerchat
