#include "impl/server/sslmessager/hub.hpp"

#include <vector>

#include "impl/core/overloaded.hpp"

namespace parley::sslmessager {

hub::hub(hub_options options) : options_(std::move(options)) {
  if (!options_.verify) options_.verify = verify_password;
  // The dummy costs what a real user costs: the same scrypt parameters as the first user's. Its hash is
  // no scrypt output at all, so nothing verifies against it, and making it costs nothing.
  scrypt_params params = options_.users.empty() ? scrypt_params{} : options_.users.begin()->second.params;
  dummy_ = user_entry{"", params, bytes(16, 0), bytes(hash_size, 0)};
}

void hub::on_connect(core::conn_id conn, std::string_view, time_point now, core::actions&) {
  connection c{.reader = message_reader(options_.fragment), .opened = now};
  conns_.insert_or_assign(conn, std::move(c));
}

void hub::on_data(core::conn_id conn, std::string_view data, time_point now, core::actions& out) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;  // after an END, input is discarded
  if (planted(fault::no_framing)) return take_whole_read(conn, it->second, data, now, out);
  std::vector<std::string> messages;
  auto status = it->second.reader.feed(data, now, messages);
  process(conn, messages, now, out);
  auto still = conns_.find(conn);
  if (status == message_reader::status::too_long && still != conns_.end())
    end(conn, end_text::too_long, "a message over 4096 bytes", out);
}

// The original's framing (spec §12 R1): one read is one message, whatever it holds. Its line ending and one
// SP are removed as a receiver does (SSLM-FRAME-03), but a read is never split at an LF nor held for more.
void hub::take_whole_read(core::conn_id conn, connection& c, std::string_view data, time_point now,
                          core::actions& out) {
  if (data.size() > max_message) return end(conn, end_text::too_long, "a read over 4096 bytes", out);
  std::string content(data);
  if (content.ends_with('\n')) content.pop_back();
  if (content.ends_with('\r')) content.pop_back();
  if (content.ends_with(' ')) content.pop_back();
  if (content.empty()) return;
  // Several lines in one read make one message, which no grammar admits.
  if (content.find('\n') != std::string::npos)
    return end(conn, end_text::bad_protocol, "several lines in one read (no framing: fault)", out);
  handle(conn, c, content, now, out);
}

void hub::process(core::conn_id conn, std::vector<std::string>& messages, time_point now, core::actions& out) {
  for (const auto& content : messages) {
    auto it = conns_.find(conn);
    if (it == conns_.end()) return;
    handle(conn, it->second, content, now, out);
  }
}

void hub::handle(core::conn_id conn, connection& c, const std::string& content, time_point now,
                 core::actions& out) {
  auto message = parse_client(content);
  bool online = !c.name.empty();
  std::visit(core::overloaded{
                 [&](const client_msg::auth& a) {
                   if (online) return end(conn, end_text::bad_protocol, "AUTH after login", out);  // SSLM-AUTH-07
                   login(conn, c, a, now, out);
                 },
                 [&](const client_msg::msg& m) {
                   if (online) return relay(conn, c, m, out);
                   if (planted(fault::silent_before_auth)) return;
                   end(conn, end_text::bad_protocol, "MSG before AUTH", out);
                 },
                 [&](const client_msg::end&) {
                   if (!online) return end(conn, end_text::bad_protocol, "END before AUTH", out);
                   if (planted(fault::no_end_reply)) return forget(conn, "client END, closed without a reply (fault)", out);
                   end(conn, end_text::end_accepted, "client END", out);
                 },
                 [&](const client_msg::malformed& m) {
                   if (online && planted(fault::end_to_wrong_socket)) {
                     // The original answers a bad line on the socket of the user its second word names.
                     auto second = content.find(' ');
                     std::string named = second == std::string::npos ? "" : content.substr(second + 1, content.find(' ', second + 1) - second - 1);
                     if (auto other = online_.find(named); other != online_.end() && other->second != conn)
                       return end(other->second, end_text::bad_protocol, "a protocol error of another connection (fault)", out);
                   }
                   end(conn, end_text::bad_protocol, m.why, out);
                 },
             },
             message);
}

void hub::login(core::conn_id conn, connection& c, const client_msg::auth& a, time_point now,
                core::actions& out) {
  if (planted(fault::crash_on_13_digit_user) && core::fuzz_trigger_name(a.name))
    return out.crash("an AUTH name of 13 bytes with a digit (fault)");
  auto user = options_.users.find(a.name);
  bool known = valid_name(a.name) && user != options_.users.end();
  if (!known && planted(fault::unknown_user_kills_all)) {
    std::vector<core::conn_id> all;
    for (const auto& [id, other] : conns_) all.push_back(id);
    for (auto id : all) forget(id, "an unknown user crashed the server (fault)", out);
    return;
  }
  // Every refusal costs one scrypt, known name or not (SSLM-AUTH-06), and reads the same (SSLM-AUTH-04).
  bool verified = options_.verify(known ? user->second : dummy_, a.password) && known;
  if (!verified) {
    end(conn, end_text::bad_login, "refused login for '" + a.name.substr(0, 32) + "'", out);
    // A fragile server whose accept loop dies on an unknown name: it refuses correctly, then stops accepting.
    if (!known && planted(fault::unknown_user_kills_listener))
      out.crash("an unknown user stopped the listener (fault)", /*whole_process=*/false);
    return;
  }
  if (online_.contains(a.name) && !planted(fault::accept_second_login))
    return end(conn, end_text::already_online, a.name + " is already online", out);
  c.name = a.name;
  // Counted from the AUTH, not from the connect: a slow login must not make the first CHECKs come in a burst
  // right after ACCEPT (SSLM-CHECK-01: the first within one interval after ACCEPT, then one per interval).
  c.next_check = now + options_.check_interval;
  online_[a.name] = conn;
  send(conn, "ACCEPT " + a.name, out);
}

void hub::relay(core::conn_id conn, connection& c, const client_msg::msg& m, core::actions& out) {
  // The sender is checked before the target is looked up: a forger learns nothing (SSLM-MSG-02).
  if (m.sender != c.name && !planted(fault::spoofable_sender))
    return end(conn, end_text::bad_sender, c.name + " wrote as " + m.sender.substr(0, 32), out);
  if (m.text.size() > max_text) return end(conn, end_text::too_long, "a text over 4000 bytes", out);
  std::string line = "RELAY " + m.target + " " + m.sender + " " + m.text;
  auto target = online_.find(m.target);
  if (planted(fault::relay_to_everyone) && target != online_.end()) {
    for (const auto& [name, id] : online_) send(id, line, out);
    return;
  }
  if (target != online_.end() && conns_.contains(target->second)) return send(target->second, line, out);
  if (target != online_.end()) return;  // keep-name-after-drop: the original writes into a dead socket
  if (!planted(fault::no_cnt)) send(conn, cnt_text, out);
}

void hub::send(core::conn_id conn, std::string_view content, core::actions& out) {
  if (!conns_.contains(conn)) return;
  out.send(conn, planted(fault::no_trailing_space) ? std::string(content) + "\r\n" : wire(content));
}

void hub::end(core::conn_id conn, std::string_view end_line, std::string why, core::actions& out) {
  if (!conns_.contains(conn)) return;
  send(conn, end_line, out);
  forget(conn, std::move(why), out);
}

void hub::forget(core::conn_id conn, std::string why, core::actions& out) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  go_offline(conn, it->second);
  conns_.erase(it);
  // The host closes after the END is written and does not report this close back (core::hub).
  out.close(conn, std::move(why));
}

void hub::go_offline(core::conn_id conn, connection& c) {
  if (c.name.empty()) return;
  if (auto it = online_.find(c.name); it != online_.end() && it->second == conn) online_.erase(it);
}

void hub::on_timer(time_point now, core::actions& out) {
  std::vector<core::conn_id> ids;
  for (const auto& [id, c] : conns_) ids.push_back(id);
  for (auto id : ids) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    connection& c = it->second;
    if (auto due = c.reader.deadline(); due && *due <= now) {
      std::vector<std::string> messages;
      c.reader.on_timer(now, messages);
      if (!planted(fault::no_fragments)) process(id, messages, now, out);
      if (!conns_.contains(id)) continue;
    }
    if (c.name.empty()) {
      if (now >= c.opened + options_.login_timeout) end(id, end_text::login_timeout, "no AUTH in time", out);
      continue;
    }
    if (now >= c.next_check) {
      if (!planted(fault::no_check)) send(id, "CHECK", out);
      // One interval from this CHECK, not from when it was due: a late wake-up (a slow scrypt blocks the
      // loop) must not be made up with a burst of CHECKs (SSLM-CHECK-01: once per interval).
      c.next_check = now + options_.check_interval;
    }
  }
}

std::optional<time_point> hub::next_wake() const {
  std::optional<time_point> wake;
  auto consider = [&](time_point t) {
    if (!wake || t < *wake) wake = t;
  };
  for (const auto& [id, c] : conns_) {
    if (auto due = c.reader.deadline()) consider(*due);
    consider(c.name.empty() ? c.opened + options_.login_timeout : c.next_check);
  }
  return wake;
}

void hub::on_close(core::conn_id conn, time_point, core::actions& out) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  {
    // Bytes held without a terminator are the peer's last message (SSLM-FRAME-06); nothing can be written
    // back to it any more, but a MSG in them still reaches its target.
    std::vector<std::string> messages;
    it->second.reader.finish(messages);
    for (const auto& content : messages) {
      auto m = parse_client(content);
      if (auto* msg = std::get_if<client_msg::msg>(&m); msg && !it->second.name.empty() &&
                                                         (msg->sender == it->second.name || planted(fault::spoofable_sender))) {
        if (auto target = online_.find(msg->target);
            target != online_.end() && target->second != conn && conns_.contains(target->second))
          send(target->second, "RELAY " + msg->target + " " + msg->sender + " " + msg->text.substr(0, max_text), out);
      }
    }
  }
  if (!planted(fault::keep_name_after_drop)) go_offline(conn, it->second);
  conns_.erase(conn);
}

}  // namespace parley::sslmessager
