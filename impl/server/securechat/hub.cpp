#include "impl/server/securechat/hub.hpp"

#include <algorithm>

#include "impl/core/overloaded.hpp"
#include "impl/proto/securechat/crypto.hpp"

namespace parley::securechat {

hub::hub(hub_options options) : options_(std::move(options)) {
  if (!options_.make_id) options_.make_id = new_message_id;
  if (!options_.verify)
    options_.verify = [](const known_key& key, std::string_view name, std::string_view signature_hex) {
      return verify_join(key.key, name, signature_hex);
    };
}

std::size_t hub::session_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(sessions_.begin(), sessions_.end(), [](const auto& s) { return !s.second.gone; }));
}

std::vector<std::string> hub::joined_names() const {
  std::vector<std::string> names;
  for (auto conn : join_order_) names.push_back(sessions_.at(conn).name);
  return names;
}

void hub::on_connect(core::conn_id conn, std::string_view, time_point now, core::actions&) {
  if (stuck_) return;
  // SC-JOIN-01: nothing is sent until the client has joined.
  session& s = sessions_[conn] = session{};
  if (!planted(fault::no_login_timeout)) {
    s.join_deadline = now + options_.login_timeout;
    join_deadlines_.emplace(s.join_deadline, conn);
  }
}

void hub::on_timer(time_point now, core::actions& out) {
  if (stuck_) return;
  while (!join_deadlines_.empty() && join_deadlines_.begin()->first <= now) {
    core::conn_id conn = join_deadlines_.begin()->second;
    // SC-JOIN-10, without a message: before the join the server says nothing on its own (SC-JOIN-01).
    out.close(conn, "no join within " + std::to_string(options_.login_timeout.count()) + " ms");
    end_session(conn, false, out);
  }
}

std::optional<time_point> hub::next_wake() const {
  if (stuck_ || join_deadlines_.empty()) return std::nullopt;
  return join_deadlines_.begin()->first;
}

void hub::on_data(core::conn_id conn, std::string_view data, time_point, core::actions& out) {
  if (stuck_) return;
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;  // closing: the host ignores input after a close, this is a guard
  decoded in = decode(data);
  if (it->second.name.empty()) before_join(conn, in, out);
  else after_join(conn, it->second, in, out);
}

void hub::on_close(core::conn_id conn, time_point, core::actions& out) {
  if (stuck_) return;
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;
  // Fault no-remove-on-drop: a joined user whose connection drops lingers, listed and holding its name,
  // until a write to it reveals the loss (SC-USER-04 broken).
  if (planted(fault::no_remove_on_drop) && !it->second.name.empty()) {
    it->second.gone = true;
    return;
  }
  end_session(conn, true, out);
}

void hub::before_join(core::conn_id conn, const decoded& in, core::actions& out) {
  if (const auto* e = std::get_if<envelope>(&in)) {
    if (const auto* j = std::get_if<msg::join>(&e->body)) return join(conn, e->id, *j, out);
    if (std::holds_alternative<msg::error>(e->body)) return quiet_close(conn, out);
    return refuse(conn, "Must join first", e->id, out);
  }
  const auto& failure = std::get<decode_failure>(in);
  if (failure.command == "ErrorMessage") return quiet_close(conn, out);  // SC-ERR-03, even before the join
  // A JoinMessage whose name or signature is unusable is a refused join, not a missing one (spec §6.1).
  if (failure.command == "JoinMessage" && failure.kind == decode_error::bad_field) {
    if (failure.field == "name") return refuse(conn, "Invalid name", failure.id, out);
    if (failure.field == "signature") return refuse(conn, "Invalid signature", failure.id, out);
  }
  // SC-JOIN-02: anything else that is not a valid JoinMessage, even unreadable, is refused the same way.
  refuse(conn, "Must join first", failure.id, out);
}

void hub::join(core::conn_id conn, const std::string& id, const msg::join& m, core::actions& out) {
  // The name is checked before it goes anywhere near the key store (SC-JOIN-08: never a path).
  if (!valid_name(m.name)) return refuse(conn, "Invalid name", id, out);
  auto key = options_.keys ? options_.keys(m.name) : std::nullopt;
  if (!key) return refuse(conn, "No public key found for user", id, out);
  // The signature comes before the name check so that nobody learns who is online without a valid key.
  if (!planted(fault::accept_bad_signature) && !options_.verify(*key, m.name, m.signature))
    return refuse(conn, "Invalid signature", id, out);
  if (by_name_.contains(m.name) && !planted(fault::accept_duplicate_name))
    return refuse(conn, "User already exists", id, out);

  session& s = sessions_.at(conn);
  join_deadlines_.erase({s.join_deadline, conn});  // SC-JOIN-10: joined in time
  s.name = m.name;
  s.key = std::move(*key);
  by_name_.insert_or_assign(s.name, conn);
  join_order_.push_back(conn);

  msg::welcome welcome;
  for (auto other : join_order_) {
    if (other == conn && planted(fault::welcome_without_joiner)) continue;
    const session& o = sessions_.at(other);
    welcome.users.push_back({o.name, o.key.pem});
  }
  send(conn, std::move(welcome), out);  // SC-WELCOME-01: first, and only then the others hear of it
  if (!planted(fault::no_add_user))
    broadcast(msg::add_user{s.name, s.key.pem}, planted(fault::add_user_to_joiner) ? 0 : conn, out);
}

void hub::after_join(core::conn_id conn, session& s, const decoded& in, core::actions& out) {
  if (const auto* failure = std::get_if<decode_failure>(&in)) {
    if (failure->command == "ErrorMessage") return;  // SC-ERR-03: not even a malformed one is answered
    switch (failure->kind) {
      case decode_error::invalid_json:
      case decode_error::not_an_object:
        error(conn, "Invalid JSON", std::nullopt, out);
        if (planted(fault::close_on_invalid_json)) {
          out.close(conn, "fault close-on-invalid-json");
          end_session(conn, true, out);
        }
        return;
      case decode_error::unknown_command:
        // Fault hang-on-near-miss-command: a server that hunts for a "did you mean" and never comes back.
        // Only a joined user gets this far, so the fuzzer must keep the join's signature valid to reach it.
        if (planted(fault::hang_on_near_miss_command) && near_miss_command(failure->command)) {
          stuck_ = true;
          return;
        }
        return error(conn, "Unknown message type", failure->id, out);
      default: return error(conn, "Invalid message: " + failure->detail, failure->id, out);
    }
  }
  const auto& e = std::get<envelope>(in);
  std::visit(core::overloaded{
                 [&](const msg::join&) { error(conn, "Already joined", e.id, out); },
                 [&](const msg::leave&) {
                   // SC-LEAVE-01: no reply, only the close frame; the others hear RemoveUser (SC-USER-03).
                   out.close(conn, "left");
                   end_session(conn, true, out);
                 },
                 [&](const msg::public_text& m) {
                   std::string from = planted(fault::trust_from_name) && m.claimed_from ? *m.claimed_from : s.name;
                   broadcast(msg::routed_public{m.text, from}, planted(fault::echo_public) ? 0 : conn, out);
                 },
                 [&](const msg::private_text& m) {
                   auto to = by_name_.find(m.to_name);
                   if (to == by_name_.end()) {
                     if (!planted(fault::silent_unknown_recipient)) error(conn, "Unknown recipient", e.id, out);
                     return;
                   }
                   std::string from = planted(fault::trust_from_name) && m.claimed_from ? *m.claimed_from : s.name;
                   send(to->second, msg::routed_private{m.to_name, m.encrypted_text, from}, out);
                 },
                 [&](const msg::error&) {
                   // SC-ERR-03: a client's report (say, of a text it could not decrypt) is never answered,
                   // so two implementations cannot ping-pong errors forever.
                   if (planted(fault::answer_client_error)) error(conn, "Unknown message type", e.id, out);
                 },
                 // The five server-only types have no meaning from a client (spec: ambiguities).
                 [&](const auto&) { error(conn, "Unknown message type", e.id, out); },
             },
             e.body);
}

void hub::refuse(core::conn_id conn, std::string text, std::optional<std::string> ref, core::actions& out) {
  error(conn, std::move(text), std::move(ref), out);
  if (planted(fault::keep_open_before_join) && sessions_.at(conn).name.empty()) return;
  out.close(conn, "join refused");
  end_session(conn, false, out);
}

void hub::quiet_close(core::conn_id conn, core::actions& out) {
  out.close(conn, "client sent an ErrorMessage before joining");
  end_session(conn, false, out);
}

void hub::send(core::conn_id conn, message body, core::actions& out) {
  if (noticed_gone(conn, out)) return;
  out.send(conn, encode({options_.make_id(), std::move(body)}));
}

void hub::error(core::conn_id conn, std::string text, std::optional<std::string> ref, core::actions& out) {
  if (planted(fault::error_without_id)) ref.reset();
  send(conn, msg::error{std::move(text), std::move(ref)}, out);
}

void hub::broadcast(const message& body, core::conn_id except, core::actions& out) {
  // One id for the whole broadcast, as the original: it is one message, delivered several times.
  core::payload text = encode({options_.make_id(), body});
  std::vector<core::conn_id> gone;
  for (auto conn : join_order_) {
    if (conn == except) continue;
    if (sessions_.at(conn).gone) gone.push_back(conn);
    else out.send(conn, text);
  }
  for (auto conn : gone) noticed_gone(conn, out);
}

bool hub::noticed_gone(core::conn_id conn, core::actions& out) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end() || !it->second.gone) return false;
  end_session(conn, true, out);
  return true;
}

void hub::end_session(core::conn_id conn, bool announce, core::actions& out) {
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return;
  join_deadlines_.erase({it->second.join_deadline, conn});
  std::string name = std::move(it->second.name);
  sessions_.erase(it);
  if (name.empty()) return;
  join_order_.erase(std::remove(join_order_.begin(), join_order_.end(), conn), join_order_.end());
  // With fault accept-duplicate-name two sessions share a name; the map follows the latest one.
  if (auto n = by_name_.find(name); n != by_name_.end() && n->second == conn) by_name_.erase(n);
  if (announce) broadcast(msg::remove_user{name}, conn, out);
}

}  // namespace parley::securechat
