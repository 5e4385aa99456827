#include "impl/server/multiparty/hub.hpp"

#include <algorithm>

#include "impl/core/crypto/digest.hpp"
#include "impl/server/multiparty/unauthenticated.hpp"

namespace parley::multiparty {
namespace {

std::string text_of(const bytes& payload) { return std::string(parley::as_chars(payload)); }

bool client_may_send(std::uint16_t type) {
  switch (static_cast<msg_type>(type)) {
    case msg_type::init_req:
    case msg_type::close_req:
    case msg_type::msg_req:
    case msg_type::msg_res:
    case msg_type::invite_res:
    case msg_type::status_req:
    case msg_type::status_res: return true;
    default: return false;  // init_res, close_res, invite_req, login_res, and a second login_req
  }
}

}  // namespace

hub::hub(hub_options options) : options_(std::move(options)), directory_lines_(directory_lines(options_.users)) {
  if (!options_.unix_ms) options_.unix_ms = unix_time_ms;
  if (!options_.random) options_.random = core::random_bytes;
  if (!options_.open_login)
    options_.open_login = [key = options_.server_key](byte_view frame) { return open_login_req(key, frame); };
  if (!options_.verify_login)
    options_.verify_login = [](const directory_entry& user, const login_request& request) {
      return multiparty::verify_login(user.key, request);
    };
}

std::vector<user_id> hub::members(session_id sid) const {
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return {};
  return {it->second.members.begin(), it->second.members.end()};
}

void hub::on_connect(core::conn_id conn, std::string_view, time_point now, core::actions&) {
  conns_[conn].opened = now;
  conns_[conn].last_heard = now;
}

void hub::on_data(core::conn_id conn, std::string_view data, time_point now, core::actions& out) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  it->second.reader.feed(as_bytes(data));
  bytes frame;
  for (;;) {
    auto found = conns_.find(conn);
    if (found == conns_.end()) return;  // a frame ended the connection
    switch (found->second.reader.next(frame)) {
      case frame_reader::status::need_more: return;
      case frame_reader::status::bad_length: return drop(conn, "len below 36: the stream cannot be framed", out);
      case frame_reader::status::frame: handle_frame(conn, found->second, frame, now, out); break;
    }
  }
}

void hub::handle_frame(core::conn_id conn, connection& c, const bytes& frame, time_point now, core::actions& out) {
  if (!c.user) return login(conn, c, frame, now, out);
  auto opened = open_frame(c.keys.to_server, direction::to_server, frame);
  if (!opened && opened.error() == make_error_code(errc::bad_tag) && planted(fault::skip_tag_check))
    opened = open_frame_ignoring_tag(c.keys.to_server.key(), direction::to_server, frame);
  if (!opened) return drop(conn, "frame refused: " + opened.error().message(), out);
  const header& h = opened->h;
  if (!planted(fault::accept_replay) && !c.in.accept(h.sqn))
    return drop(conn, "sqn " + std::to_string(h.sqn) + " after " + std::to_string(c.in.last()), out);
  if (h.uid != c.user->uid && !planted(fault::ignore_uid) && !claims_member(h)) return drop(conn, "uid is not the logged-in user's", out);
  if (!client_may_send(h.type)) return drop(conn, "a client may not send " + std::string(type_name(msg_type(h.type))), out);
  c.last_heard = now;  // a complete, accepted frame restarts the silence timer (MP-STATUS-03)
  // Only a status_res answers our status_req; other frames are processed but are no answer (MP-STATUS-04).
  if (h.type == static_cast<std::uint16_t>(msg_type::status_res)) c.status_sent.reset();
  switch (static_cast<msg_type>(h.type)) {
    case msg_type::init_req: return on_init(c, *opened, out);
    case msg_type::invite_res: return on_invite_res(c, *opened, out);
    case msg_type::msg_req: return on_msg_req(c, *opened, out);
    case msg_type::msg_res: return on_msg_res(c, *opened, out);
    case msg_type::close_req: return on_close_req(c, *opened, out);
    case msg_type::status_req: return on_status_req(c, *opened, out);
    default: return;  // status_res: nothing more to do than the liveness above
  }
}

void hub::login(core::conn_id conn, connection& c, const bytes& frame, time_point now, core::actions& out) {
  // Any failure closes silently: an unauthenticated peer learns nothing (spec: login).
  auto request = options_.open_login(frame);
  if (!request) return drop(conn, "login refused: " + request.error().message(), out);
  auto user = std::find_if(options_.users.begin(), options_.users.end(),
                           [&](const directory_entry& u) { return u.name == request->name; });
  if (user == options_.users.end()) return drop(conn, "login refused: unknown user " + request->name, out);
  if (request->h.uid != user->uid) return drop(conn, "login refused: uid is not " + request->name + "'s", out);
  std::uint64_t clock = options_.unix_ms();
  std::uint64_t skew = clock > request->timestamp_ms ? clock - request->timestamp_ms : request->timestamp_ms - clock;
  if (skew > login_window_ms && !planted(fault::accept_stale_login))
    return drop(conn, "login refused: timestamp " + std::to_string(skew) + " ms off", out);
  if (!options_.verify_login(*user, *request)) return drop(conn, "login refused: bad signature", out);
  if (online_.contains(user->uid)) return drop(conn, "login refused: " + user->name + " is already logged in", out);
  if (tk_seen_before(request->tk, now) && !planted(fault::accept_replayed_login))
    return drop(conn, "login refused: a replayed login_req (its tk was used before)", out);

  bytes server_random = options_.random(32);
  auto response = make_login_res_with(request->tk, frame, server_random, directory_lines_);
  auto keys = derive_keys(request->client_random, server_random, frame);
  if (!response || !keys) return drop(conn, "login failed: cannot build the response", out);
  c.user = &*user;
  c.last_heard = now;
  c.keys = std::move(*keys);
  c.in.accept(1);
  c.out.next_to_send();  // login_res is 1
  if (planted(fault::skip_sqn)) c.out.next_to_send();  // the fault: 2 is never sent
  online_[user->uid] = conn;
  out.send(conn, std::string(as_chars(*response)));
}

bool hub::tk_seen_before(const bytes& tk, time_point now) {
  while (!used_tks_.empty() && used_tks_.front().first + options_.tk_memory <= now) {
    used_tk_set_.erase(used_tks_.front().second);
    used_tks_.pop_front();
  }
  bytes digest = core::sha256(tk);
  if (used_tk_set_.contains(digest)) return true;
  used_tk_set_.insert(digest);
  used_tks_.emplace_back(now, std::move(digest));
  return false;
}

void hub::on_init(connection& c, const opened_frame& f, core::actions& out) {
  // Checks and texts in the spec's order (§8, error table).
  std::string text = text_of(f.payload);
  auto invitees = parse_uid_lines(text);
  std::string problem;
  if (f.h.sid != 0) problem = "malformed request";
  else if (text.empty()) problem = "no invitees";
  else if (!invitees) problem = "malformed request";
  else if (invitees->size() > max_invitees) problem = "too many invitees";
  else {
    std::set<user_id> seen;
    for (auto uid : *invitees) {
      if (uid == c.user->uid) problem = "cannot invite yourself";
      else if (!find_user(uid)) problem = "unknown user " + id_to_hex(uid);
      else if (!seen.insert(uid).second) problem = "duplicate invitee " + id_to_hex(uid);
      if (!problem.empty()) break;
    }
  }
  if (problem.empty() && open_sessions_created_by(c.user->uid) >= max_open_sessions) problem = "too many sessions";
  if (!problem.empty()) return reply(c, msg_type::init_res, 0, problem, out);

  session_id sid = new_sid();
  session& s = sessions_[sid];
  s = session{.creator = c.user->uid, .invited = *invitees, .members = {c.user->uid}};
  std::vector<user_id> everyone{c.user->uid};  // the creator, then the invitees reported invited (MP-INVITE-01)
  std::string result = "OK\n";
  for (auto uid : *invitees) {
    bool online = online_.contains(uid);
    if (online) {
      s.pending.insert(uid);
      everyone.push_back(uid);
    }
    result += id_to_hex(uid) + (online ? " invited\n" : " offline\n");
  }
  // The creator learns the sid before anyone can answer an invitation to it (MP-INIT-06).
  reply(c, msg_type::init_res, sid, result, out);
  if (planted(fault::no_invite)) return;
  // A copy: a send can end an invitee's connection (sqn exhausted), which takes it out of `pending`.
  std::set<user_id> invitees_online = s.pending;
  for (auto uid : invitees_online) send_to(uid, msg_type::invite_req, sid, c.user->uid, uid_lines(everyone), out);
}

std::size_t hub::open_sessions_created_by(user_id uid) const {
  return static_cast<std::size_t>(std::count_if(sessions_.begin(), sessions_.end(), [uid](const auto& entry) {
    return entry.second.creator == uid && !entry.second.closed;
  }));
}

void hub::on_invite_res(connection& c, const opened_frame& f, core::actions& out) {
  // Fault crash-on-255-byte-answer: only a frame sealed under the session's keys gets this far.
  if (planted(fault::crash_on_255_byte_answer) && f.payload.size() == crash_answer_bytes)
    return out.crash("an invite_res answer of 255 bytes (fault)");
  std::string answer = text_of(f.payload);
  auto it = sessions_.find(f.h.sid);
  std::string problem;
  if (it == sessions_.end()) problem = "unknown session";
  else if (it->second.closed) problem = "session closed";
  else if (!it->second.pending.contains(c.user->uid))
    problem = it->second.answered.contains(c.user->uid) ? "already answered" : "not invited";
  else if (answer != "Accept" && answer != "Deny") problem = "malformed request";
  if (!problem.empty()) return reply(c, msg_type::invite_res, f.h.sid, problem, out);
  session& s = it->second;
  s.pending.erase(c.user->uid);
  s.answered.insert(c.user->uid);
  if (answer == "Accept") s.members.insert(c.user->uid);
  send_to(s.creator, msg_type::invite_res, f.h.sid, c.user->uid, answer, out);
}

// forward-claimed-uid: a msg_req whose uid is another member of its session is taken as that member's.
bool hub::claims_member(const header& h) const {
  if (!planted(fault::forward_claimed_uid) || h.type != static_cast<std::uint16_t>(msg_type::msg_req)) return false;
  auto it = sessions_.find(h.sid);
  return it != sessions_.end() && it->second.members.contains(h.uid);
}

void hub::on_msg_req(connection& c, const opened_frame& f, core::actions& out) {
  auto it = sessions_.find(f.h.sid);
  auto parts = parse_message_parts(text_of(f.payload));
  std::string problem;
  if (it == sessions_.end()) problem = "unknown session";
  else if (it->second.closed && !planted(fault::msg_after_close)) problem = "session closed";
  else if (!it->second.members.contains(c.user->uid)) problem = "not a member";
  else if (f.payload.empty()) problem = "empty message";
  else if (!parts) problem = "malformed request";
  else {
    std::set<user_id> seen;
    for (const auto& p : *parts) {
      bool member = it->second.members.contains(p.to) || planted(fault::forward_to_nonmember);
      if (!member || p.to == c.user->uid) problem = "not a member: " + id_to_hex(p.to);
      else if (!seen.insert(p.to).second) problem = "duplicate recipient " + id_to_hex(p.to);
      if (!problem.empty()) break;
    }
  }
  if (!problem.empty()) return reply(c, msg_type::msg_res, f.h.sid, problem, out);
  int delivered = 0;
  user_id from = claims_member(f.h) ? f.h.uid : c.user->uid;
  for (const auto& p : *parts) {
    std::string line = p.line;
    if (planted(fault::alter_part)) line[line.size() - 3] = line[line.size() - 3] == 'A' ? 'B' : 'A';
    if (send_to(p.to, msg_type::msg_req, f.h.sid, from, line, out)) {
      awaiting_[{f.h.sid, p.to}].push_back(c.user->uid);
      ++delivered;
    }
  }
  reply(c, msg_type::msg_res, f.h.sid, "OK " + std::to_string(delivered), out);
}

void hub::on_msg_res(connection& c, const opened_frame& f, core::actions& out) {
  // The answer to the oldest forwarded msg_req this user has not answered yet in that session.
  auto it = awaiting_.find({f.h.sid, c.user->uid});
  if (it == awaiting_.end() || it->second.empty()) return;  // nothing to answer: ignored, never an error loop
  user_id sender = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) awaiting_.erase(it);
  send_to(sender, msg_type::msg_res, f.h.sid, c.user->uid, text_of(f.payload), out);
}

void hub::on_close_req(connection& c, const opened_frame& f, core::actions& out) {
  auto it = sessions_.find(f.h.sid);
  std::string problem;
  if (it == sessions_.end()) problem = "unknown session";
  else if (it->second.closed) problem = "session closed";
  else if (it->second.creator != c.user->uid && !planted(fault::anyone_may_close)) problem = "not the creator";
  else if (!f.payload.empty()) problem = "malformed request";
  if (!problem.empty()) return reply(c, msg_type::close_res, f.h.sid, problem, out);
  session& s = it->second;
  s.closed = true;
  std::set<user_id> told = s.members;
  told.insert(s.pending.begin(), s.pending.end());
  for (auto uid : told)
    if (uid != c.user->uid) send_to(uid, msg_type::close_req, f.h.sid, c.user->uid, {}, out);
  // The fault routes on in the closed session, so it keeps its members to route to.
  if (!planted(fault::msg_after_close)) s.members.clear();
  s.pending.clear();
  std::erase_if(awaiting_, [&](const auto& entry) { return entry.first.first == f.h.sid; });
  reply(c, msg_type::close_res, f.h.sid, "OK", out);
}

void hub::on_status_req(connection& c, const opened_frame& f, core::actions& out) {
  std::string asked = text_of(f.payload);
  if (f.h.sid != 0) return reply(c, msg_type::status_res, f.h.sid, "malformed request", out);
  if (asked.empty()) return reply(c, msg_type::status_res, 0, "Online", out);  // the server's own status
  auto uid = id_from_hex(asked);
  if (!uid) return reply(c, msg_type::status_res, 0, "malformed request", out);
  if (!find_user(*uid)) return reply(c, msg_type::status_res, 0, "unknown user " + asked, out);
  bool online = online_.contains(*uid) || planted(fault::offline_status_lies);
  reply(c, msg_type::status_res, 0, online ? "Online" : "Offline", out);
}

void hub::on_timer(time_point now, core::actions& out) {
  std::vector<core::conn_id> silent, dead;
  for (auto& [id, c] : conns_) {
    if (!c.user) {
      // Nobody may hold a connection open without logging in (a slow or partial login_req included).
      if (now >= c.opened + login_timeout()) dead.push_back(id);
      continue;
    }
    if (c.status_sent && now >= *c.status_sent + options_.status_timeout) dead.push_back(id);
    else if (!c.status_sent && now >= c.last_heard + options_.status_interval) silent.push_back(id);
  }
  // Each lookup again: ending one connection can end another (a Deny to a creator whose sqn ran out).
  for (auto id : dead)
    if (auto it = conns_.find(id); it != conns_.end())
      drop(id, it->second.user ? "no status_res within the timeout" : "no login in time", out);
  for (auto id : silent) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    if (planted(fault::no_status_check)) {
      it->second.last_heard = now;  // the fault: silence is never questioned, nor ends the connection
      continue;
    }
    it->second.status_sent = now;
    reply(it->second, msg_type::status_req, 0, {}, out);
  }
}

std::optional<time_point> hub::next_wake() const {
  std::optional<time_point> wake;
  for (const auto& [id, c] : conns_) {
    if (!c.user) {
      if (!wake || c.opened + login_timeout() < *wake) wake = c.opened + login_timeout();
      continue;
    }
    time_point t = c.status_sent ? *c.status_sent + options_.status_timeout : c.last_heard + options_.status_interval;
    if (!wake || t < *wake) wake = t;
  }
  return wake;
}

void hub::on_close(core::conn_id conn, time_point, core::actions& out) { forget(conn, out); }

bool hub::send_to(user_id uid, msg_type type, session_id sid, user_id from, std::string_view payload,
                  core::actions& out) {
  auto on = online_.find(uid);
  if (on == online_.end()) return false;
  connection& c = conns_.at(on->second);
  auto sqn = c.out.next_to_send();
  if (!sqn) {  // 65535 frames under these keys: the connection must end before a nonce could repeat
    drop(on->second, "sqn exhausted", out);
    return false;
  }
  header h{.type = static_cast<std::uint16_t>(type), .sqn = *sqn, .sid = sid, .uid = from};
  auto frame = seal_frame(c.keys.to_client, direction::to_client, h, as_bytes(payload));
  if (!frame) return false;  // only a payload over 65535 bytes, which no path produces
  out.send(on->second, std::string(as_chars(*frame)));
  return true;
}

void hub::reply(connection& c, msg_type type, session_id sid, std::string_view payload, core::actions& out) {
  send_to(c.user->uid, type, sid, 0, payload, out);
}

void hub::drop(core::conn_id conn, std::string reason, core::actions& out) {
  out.close(conn, std::move(reason));
  forget(conn, out);
}

void hub::forget(core::conn_id conn, core::actions& out) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  const directory_entry* user = it->second.user;
  conns_.erase(it);
  if (!user) return;
  online_.erase(user->uid);
  // An invitee who goes away before answering has declined (spec: init).
  for (auto& [sid, s] : sessions_) {
    if (s.pending.erase(user->uid) > 0) {
      s.answered.insert(user->uid);
      send_to(s.creator, msg_type::invite_res, sid, user->uid, "Deny", out);
    }
  }
  std::erase_if(awaiting_, [&](const auto& entry) { return entry.first.second == user->uid; });
}

session_id hub::new_sid() {
  if (planted(fault::reuse_sid))
    for (const auto& [sid, s] : sessions_)
      if (s.closed) return sid;
  for (;;) {
    bytes r = options_.random(8);
    session_id sid = 0;
    for (auto b : r) sid = sid << 8 | b;
    if (sid != 0 && !sessions_.contains(sid)) return sid;
  }
}

const directory_entry* hub::find_user(user_id uid) const {
  for (const auto& u : options_.users)
    if (u.uid == uid) return &u;
  return nullptr;
}

}  // namespace parley::multiparty
