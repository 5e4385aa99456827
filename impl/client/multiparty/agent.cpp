#include "impl/client/multiparty/agent.hpp"

#include <algorithm>
#include <cstdlib>

#include "impl/core/crypto/digest.hpp"
#include "impl/core/encoding.hpp"
#include "impl/proto/multiparty/payload.hpp"

namespace parley::multiparty {
namespace {

constexpr std::size_t max_text = 2048;  // MP-CLIENT-09
// One text whatever failed (spec §13): the sender learns nothing about why.
constexpr const char* cannot_decrypt = "cannot decrypt";

constexpr const char* help_text =
    "commands: /init NAME... | /accept SID | /decline SID | /msg SID TEXT | /close SID | /status [NAME] | "
    "/users | /sessions | /quit";

event make(std::string type, std::vector<std::pair<std::string, std::string>> fields = {}) {
  return {std::move(type), std::move(fields), {}};
}

std::string text_of(const bytes& payload) { return std::string(as_chars(payload)); }

// Whether a payload follows the grammar of its type, for the types whose payload this client parses: the
// uid lines of an invite_req (§9.1) and the part lines of a msg_req (§8). Other payloads are shown as text.
bool parseable(msg_type type, std::string_view payload) {
  if (type == msg_type::invite_req) return parse_uid_lines(payload).has_value();
  if (type == msg_type::msg_req) return parse_message_parts(payload).has_value();
  return true;
}

// "VERB rest": the verb and the rest, without the separating space.
std::pair<std::string_view, std::string_view> split_word(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos) return {line, {}};
  return {line.substr(0, space), line.substr(space + 1)};
}

}  // namespace

agent::agent(agent_options options) : options_(std::move(options)), own_uid_(uid_of(options_.key)) {
  if (!options_.unix_ms) options_.unix_ms = unix_time_ms;
}

void agent::on_open(agent_output& out) {
  std::uint64_t now = options_.unix_ms();
  if (has(client_fault::stale_timestamp)) now -= 300'000;
  auto request = make_login_req(options_.key, options_.name, options_.server_public, now, login_);
  if (!request) return fail("login", "cannot build the login_req: " + request.error().message(), out);
  out_.next_to_send();  // the login_req is sqn 1
  out.sends.emplace_back(as_chars(*request));
}

void agent::on_data(std::string_view data, agent_output& out) {
  if (finished_) return;
  reader_.feed(as_bytes(data));
  bytes frame;
  while (!finished_) {
    switch (reader_.next(frame)) {
      case frame_reader::status::need_more: return;
      case frame_reader::status::bad_length: return fail("frame", "the server sent a len below 36", out);
      case frame_reader::status::frame:
        if (logged_in_) on_frame(frame, out);
        else on_login_res(frame, out);
        break;
    }
  }
}

void agent::on_login_res(const bytes& frame, agent_output& out) {
  // MP-CLIENT-01/03/04: a server that cannot prove it holds the pinned key gets nothing more from us.
  auto response = open_login_res_with(options_.fault, login_.tk, frame);
  if (!response && has(client_fault::ignore_bad_login_res) && !open_frame(login_.tk, direction::to_client, frame))
    return;
  if (!response) return fail("login", "the server could not be authenticated: " + response.error().message(), out);
  if (!has(client_fault::skip_request_hash) && response->request_hash != core::sha256(login_.request))
    return fail("login", "the server could not be authenticated: login_res answers another login_req", out);
  auto self = std::find_if(response->directory.begin(), response->directory.end(),
                           [&](const directory_entry& e) { return e.uid == own_uid_; });
  if (self == response->directory.end() || self->name != options_.name)
    return fail("login", "the server's directory does not list " + options_.name + " with this key", out);
  auto keys = derive_keys(login_.client_random, response->server_random, login_.request);
  if (!keys) return fail("login", "key derivation failed", out);
  keys_ = std::move(*keys);
  login_ = {};  // tk is not needed any more (spec §6.6)
  in_.accept(1);
  directory_ = std::move(response->directory);
  logged_in_ = true;
  event e = make("logged_in", {{"name", options_.name}, {"uid", id_to_hex(own_uid_)}});
  for (const auto& u : directory_) e.list.push_back(u.name);
  out.events.push_back(std::move(e));
  while (!queued_commands_.empty() && !finished_) {
    std::string line = std::move(queued_commands_.front());
    queued_commands_.pop_front();
    run_command(line, out);
  }
}

void agent::on_frame(const bytes& frame, agent_output& out) {
  auto opened = open_frame(keys_.to_client, direction::to_client, frame);
  if (!opened) return refuse_frame("refused a server frame: " + opened.error().message(), out);
  const header& h = opened->h;
  if (!in_.accept(h.sqn)) return refuse_frame("server sqn " + std::to_string(h.sqn) + " after " + std::to_string(in_.last()), out);
  if (!known_type(h.type)) return refuse_frame("the server sent an unknown type", out);
  auto type = static_cast<msg_type>(h.type);
  if (type == msg_type::init_req || type == msg_type::login_req || type == msg_type::login_res)
    return refuse_frame("the server sent " + std::string(type_name(type)), out);
  if (h.uid != 0 && !entry_of(h.uid)) return refuse_frame("a frame from uid " + id_to_hex(h.uid) + ", who is not in the directory", out);
  std::string text = text_of(opened->payload);
  // MP-CLIENT-13: no payload crashes the client; the fault dies of one it cannot parse. No other client
  // case sends one, so the fault breaks that rule alone.
  if (has(client_fault::crash_on_garbage) && !parseable(type, text)) std::abort();
  std::string sid = id_to_hex(h.sid);
  switch (type) {
    case msg_type::init_res: {
      if (!text.starts_with("OK\n")) return out.events.push_back(make("error", {{"code", "init"}, {"text", text}}));
      sessions_[h.sid] = session{.creator = own_uid_};
      event e = make("session", {{"sid", sid}});
      std::string_view rest = std::string_view(text).substr(3);
      while (!rest.empty()) {
        auto end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        auto [uid_hex, state] = split_word(line);
        auto uid = id_from_hex(uid_hex);
        e.list.push_back((uid ? name_of(*uid) : std::string(uid_hex)) + " " + std::string(state));
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      }
      return out.events.push_back(std::move(e));
    }
    case msg_type::invite_req: {
      auto people = parse_uid_lines(text);
      if (!people) return fail("frame", "an invite_req whose payload is not uid lines", out);
      invitations_.insert(h.sid);
      session& s = sessions_[h.sid];
      s.creator = h.uid;
      s.recipients.clear();
      event e = make("invite", {{"sid", sid}, {"from", name_of(h.uid)}});
      for (auto uid : *people) {
        e.list.push_back(name_of(uid));
        if (uid != own_uid_) s.recipients.push_back(uid);
      }
      return out.events.push_back(std::move(e));
    }
    case msg_type::invite_res: {
      if (h.uid == 0) return out.events.push_back(make("error", {{"code", "invite"}, {"sid", sid}, {"text", text}}));
      auto it = sessions_.find(h.sid);
      if (text == "Accept" && it != sessions_.end() && it->second.creator == own_uid_ &&
          std::find(it->second.recipients.begin(), it->second.recipients.end(), h.uid) == it->second.recipients.end())
        it->second.recipients.push_back(h.uid);
      return out.events.push_back(make("answer", {{"sid", sid}, {"name", name_of(h.uid)}, {"answer", text}}));
    }
    case msg_type::msg_req: return on_forwarded_msg(*opened, out);
    case msg_type::msg_res: return on_msg_res(*opened, out);
    case msg_type::close_req: {
      if (has(client_fault::keep_closed_session)) return;
      sessions_[h.sid].closed = true;
      invitations_.erase(h.sid);
      // A notification: never answered (MP-CLIENT-10); the user is told who closed it (MP-CLIENT-12).
      return out.events.push_back(make("closed", {{"sid", sid}, {"by", name_of(h.uid)}}));
    }
    case msg_type::close_res:
      if (text == "OK") sessions_[h.sid].closed = true;
      return out.events.push_back(text == "OK" ? make("closed", {{"sid", sid}, {"by", options_.name}})
                                               : make("error", {{"code", "close"}, {"sid", sid}, {"text", text}}));
    case msg_type::status_req:
      // The server's keepalive (MP-CLIENT-06). A client's own status questions come back as status_res.
      if (has(client_fault::no_status_answer)) return;
      return send_frame(msg_type::status_res, 0, "Online", out);
    case msg_type::status_res:
      if (has(client_fault::answer_status_res)) send_frame(msg_type::status_res, 0, "Online", out);
      return out.events.push_back(make("status", {{"text", text}}));
    default: return;
  }
}

void agent::on_forwarded_msg(const opened_frame& f, agent_output& out) {
  // MP-CLIENT-08: exactly one msg_res per forwarded msg_req, in order.
  auto parts = parse_message_parts(text_of(f.payload));
  std::optional<std::string> text;
  if (parts && parts->size() == 1 && (*parts)[0].to == own_uid_) {
    auto opened = open_part(options_.key, f.h.sid, f.h.uid, (*parts)[0].part);
    if (opened) text = std::move(*opened);
  }
  if (!text) {
    out.events.push_back(make("undecryptable", {{"sid", id_to_hex(f.h.sid)}, {"from", name_of(f.h.uid)}}));
    return send_frame(msg_type::msg_res, f.h.sid, has(client_fault::ok_undecrypted) ? "OK" : cannot_decrypt, out);
  }
  out.events.push_back(make("message", {{"sid", id_to_hex(f.h.sid)}, {"from", name_of(f.h.uid)}, {"text", *text}}));
  send_frame(msg_type::msg_res, f.h.sid, "OK", out);
}

void agent::on_msg_res(const opened_frame& f, agent_output& out) {
  std::string text = text_of(f.payload);
  std::string sid = id_to_hex(f.h.sid);
  if (f.h.uid != 0)  // a recipient's answer, relayed
    return out.events.push_back(make("receipt", {{"sid", sid}, {"from", name_of(f.h.uid)}, {"text", text}}));
  if (text.starts_with("OK ")) {
    last_sent_.erase(f.h.sid);
    return out.events.push_back(make("sent", {{"sid", sid}, {"delivered", text.substr(3)}}));
  }
  // MP-CLIENT-11: someone we addressed is not a member (an invitee who declined); leave them out and resend.
  constexpr std::string_view not_member = "not a member: ";
  auto last = last_sent_.find(f.h.sid);
  if (text.starts_with(not_member) && last != last_sent_.end()) {
    auto gone = id_from_hex(std::string_view(text).substr(not_member.size()));
    auto& to = last->second.to;
    if (gone && std::erase(to, *gone) > 0) {
      auto& s = sessions_[f.h.sid];
      std::erase(s.recipients, *gone);
      if (!to.empty()) {
        unsent again = std::move(last->second);
        last_sent_.erase(last);
        return send_text(f.h.sid, again.text, std::move(again.to), out);
      }
    }
  }
  last_sent_.erase(f.h.sid);
  out.events.push_back(make("error", {{"code", "msg"}, {"sid", sid}, {"text", text}}));
}

void agent::on_command(std::string_view line, agent_output& out) {
  if (finished_) return;
  if (!logged_in_ && line != "/quit" && !has(client_fault::send_before_login)) {
    queued_commands_.emplace_back(line);
    return;
  }
  run_command(line, out);
}

void agent::run_command(std::string_view line, agent_output& out) {
  auto [verb, rest] = split_word(line);
  auto sid_arg = [&](std::string_view word) -> std::optional<session_id> {
    auto sid = id_from_hex(word);
    if (!sid) error("usage", "SID is the session's 16 hex digits, as shown", out);
    return sid;
  };
  if (verb == "/quit") {
    out.events.push_back(make("goodbye"));
    out.close = finished_ = true;
    return;
  }
  if (verb == "/help") return out.events.push_back(make("help", {{"text", help_text}}));
  if (verb == "/users") {
    event e = make("users");
    for (const auto& u : directory_) e.list.push_back(u.name + " " + id_to_hex(u.uid));
    return out.events.push_back(std::move(e));
  }
  if (verb == "/sessions") {
    event e = make("sessions");
    for (const auto& [sid, s] : sessions_)
      e.list.push_back(id_to_hex(sid) + (s.closed ? " closed" : invitations_.contains(sid) ? " invited" : " open"));
    return out.events.push_back(std::move(e));
  }
  if (verb == "/init") {
    std::vector<user_id> invitees;
    std::string_view names = rest;
    while (!names.empty()) {
      auto [name, more] = split_word(names);
      names = more;
      if (name.empty()) continue;
      auto uid = uid_named(name);
      if (!uid) return error("usage", "no user named '" + std::string(name) + "' in the directory", out);
      invitees.push_back(*uid);
    }
    if (invitees.empty()) return error("usage", "/init NAME... names at least one user", out);
    return send_frame(msg_type::init_req, 0, uid_lines(invitees), out);
  }
  if (verb == "/accept" || verb == "/decline") {
    auto sid = sid_arg(rest);
    if (!sid) return;
    // MP-CLIENT-07: only for an invitation received, and only once.
    if (invitations_.erase(*sid) == 0 && !has(client_fault::answer_any_invitation))
      return error("usage", "no unanswered invitation to " + std::string(rest), out);
    return send_frame(msg_type::invite_res, *sid, verb == "/accept" ? "Accept" : "Deny", out);
  }
  if (verb == "/msg") {
    auto [sid_text, text] = split_word(rest);
    auto sid = sid_arg(sid_text);
    if (!sid) return;
    auto it = sessions_.find(*sid);
    if (it == sessions_.end() || invitations_.contains(*sid)) return error("usage", "not in session " + std::string(sid_text), out);
    if (it->second.closed) return error("usage", "session " + std::string(sid_text) + " is closed", out);
    if (text.size() > max_text && !has(client_fault::send_long_text))
      return error("usage", "a message is at most 2048 bytes; this one is " + std::to_string(text.size()), out);
    if (it->second.recipients.empty()) return error("usage", "nobody has joined session " + std::string(sid_text) + " yet", out);
    return send_text(*sid, text, it->second.recipients, out);
  }
  if (verb == "/close") {
    auto sid = sid_arg(rest);
    if (!sid) return;
    return send_frame(msg_type::close_req, *sid, {}, out);
  }
  if (verb == "/status") {
    if (rest.empty()) return send_frame(msg_type::status_req, 0, {}, out);
    auto uid = uid_named(rest);
    if (!uid) return error("usage", "no user named '" + std::string(rest) + "' in the directory", out);
    return send_frame(msg_type::status_req, 0, id_to_hex(*uid), out);
  }
  error("usage", "unknown command; " + std::string(help_text), out);
}

void agent::send_text(session_id sid, std::string_view text, std::vector<user_id> to, agent_output& out) {
  std::string payload;
  for (auto uid : to) {
    user_id key_owner = has(client_fault::one_key_for_all) ? to.front() : uid;
    auto line = seal_part(entry_of(key_owner)->key, uid, sid, own_uid_, text);
    if (!line) return error("crypto", "cannot encrypt to " + name_of(uid), out);
    payload += *line;
  }
  last_sent_[sid] = {std::string(text), std::move(to)};
  send_frame(msg_type::msg_req, sid, payload, out);
}

void agent::send_frame(msg_type type, session_id sid, std::string_view payload, agent_output& out) {
  auto sqn = out_.next_to_send();
  if (!sqn) return fail("sqn", "65535 frames sent on this connection; log in again", out);  // MP-MTP-08
  header h{.type = static_cast<std::uint16_t>(type), .sqn = *sqn, .sid = sid, .uid = own_uid_};
  // Only send-before-login sends before the login, when tk is the one key it has.
  auto frame = logged_in_ ? seal_frame(keys_.to_server, direction::to_server, h, as_bytes(payload))
                          : seal_frame(login_.tk, direction::to_server, h, as_bytes(payload));
  if (!frame) return error("size", "the frame would exceed 65535 bytes", out);
  out.sends.emplace_back(as_chars(*frame));
}

void agent::on_closed(agent_output& out) {
  if (finished_) return;
  finished_ = true;
  out.events.push_back(make("disconnected", {{"reason", logged_in_ ? "the server closed the connection"
                                                                  : "the server closed the connection during the login"}}));
}

void agent::fail(std::string code, std::string text, agent_output& out) {
  out.events.push_back(make("error", {{"code", std::move(code)}, {"text", std::move(text)}}));
  out.close = finished_ = true;
}

void agent::refuse_frame(std::string text, agent_output& out) {
  if (has(client_fault::skip_bad_frames)) return error("frame", "passed over: " + text, out);
  fail("frame", std::move(text), out);
}

void agent::error(std::string code, std::string text, agent_output& out) {
  out.events.push_back(make("error", {{"code", std::move(code)}, {"text", std::move(text)}}));
}

std::string agent::name_of(user_id uid) const {
  if (uid == 0) return "server";
  const directory_entry* e = entry_of(uid);
  return e ? e->name : id_to_hex(uid);
}

std::optional<user_id> agent::uid_named(std::string_view name) const {
  for (const auto& u : directory_)
    if (u.name == name) return u.uid;
  return std::nullopt;
}

const directory_entry* agent::entry_of(user_id uid) const {
  for (const auto& u : directory_)
    if (u.uid == uid) return &u;
  return nullptr;
}

}  // namespace parley::multiparty
