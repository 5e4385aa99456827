#include "impl/client/itp/agent.hpp"

#include <cstdlib>

namespace parley::itp {
namespace {

event make(std::string type, std::vector<std::pair<std::string, std::string>> fields = {}) {
  return event{std::move(type), std::move(fields), {}};
}

std::string fail_name(int code) {
  std::string s = "FAIL";
  s += static_cast<char>('0' + (code / 10) % 10);
  s += static_cast<char>('0' + code % 10);
  return s;
}

// The user a server line names (its sender or subject), "" for lines that name none: the trigger of the
// crash-on-13-digit-name fault.
std::string user_named_by(const server_message& m) {
  if (auto* x = std::get_if<s2c::ok_ident>(&m)) return x->name;
  if (auto* x = std::get_if<s2c::joined>(&m)) return x->name;
  if (auto* x = std::get_if<s2c::left>(&m)) return x->name;
  if (auto* x = std::get_if<s2c::bcst>(&m)) return x->from;
  return {};
}

}  // namespace

agent::agent(agent_options options)
    : options_(std::move(options)), framer_({.max_line = 64 * 1024, .lone_cr_terminates = false}) {}

void agent::on_open(agent_output& out) {
  if (!has(client_fault::ident_before_init)) return;
  ident_sent_ = true;
  send(c2s::ident{options_.name}, out);
}

void agent::on_data(std::string_view bytes, agent_output& out) {
  framer_.feed(bytes);
  for (;;) {
    auto next = framer_.next();
    if (!next) {
      out.events.push_back(make("error", {{"code", "protocol"}, {"text", "server sent an overlong line"}}));
      out.close = true;
      finished_ = true;
      return;
    }
    if (!*next) return;
    handle_line((*next)->text, out);
    if (finished_) return;
  }
}

void agent::handle_line(std::string_view line, agent_output& out) {
  auto parsed = parse_server_line(line);
  if (!parsed) {
    // ITP-CLIENT-06: a line we do not know is shown and otherwise ignored.
    if (!line.empty()) out.events.push_back(make("unknown", {{"line", std::string(line)}}));
    if (!line.empty() && has(client_fault::close_on_unknown_line)) {
      finished_ = true;
      out.close = true;
    }
    return;
  }
  if (has(client_fault::crash_on_13_digit_name) && core::fuzz_trigger_name(user_named_by(*parsed))) std::abort();
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, s2c::init>) {
          if (greeted_) return;
          greeted_ = true;  // ITP-CLIENT-01: IDENT only after the greeting
          out.events.push_back(make("connected", {{"text", m.text}}));
          if (!std::exchange(ident_sent_, true)) send(c2s::ident{options_.name}, out);
        } else if constexpr (std::is_same_v<T, s2c::ok_ident>) {
          logged_in_ = true;
          out.events.push_back(make("logged_in", {{"name", m.name}, {"fingerprint", options_.key.fingerprint()}}));
          if (!has(client_fault::no_pubkey)) send(c2s::pubkey{encode_public_key(options_.key)}, out);  // ITP-CLIENT-03
          while (!queued_commands_.empty() && !finished_) {
            std::string command = std::move(queued_commands_.front());
            queued_commands_.pop_front();
            run_command(command, out);
          }
        } else if constexpr (std::is_same_v<T, s2c::ping>) {
          if (!has(client_fault::no_pong)) send(c2s::pong{}, out);  // ITP-CLIENT-02
          out.events.push_back(make("ping"));
        } else if constexpr (std::is_same_v<T, s2c::joined>) {
          out.events.push_back(make("joined", {{"name", m.name}}));
        } else if constexpr (std::is_same_v<T, s2c::left>) {
          if (!has(client_fault::keep_keys_of_leavers)) forget_user(m.name);  // ITP-CRYPTO-07
          out.events.push_back(make("left", {{"name", m.name}}));
        } else if constexpr (std::is_same_v<T, s2c::bcst>) {
          out.events.push_back(make("broadcast", {{"from", m.from}, {"text", m.text}}));
        } else if constexpr (std::is_same_v<T, s2c::ok_bcst>) {
          out.events.push_back(make("broadcast_sent", {{"text", m.text}}));
        } else if constexpr (std::is_same_v<T, s2c::ok_users>) {
          event e = make("users");
          e.list = m.names;
          out.events.push_back(std::move(e));
        } else if constexpr (std::is_same_v<T, s2c::ok_pm>) {
          out.events.push_back(make("pm_sent", {{"to", m.to}}));
        } else if constexpr (std::is_same_v<T, s2c::pubkey>) {
          auto key = decode_public_key(m.key);
          if (key && has(client_fault::refuse_small_keys) && key->bits() < 2048) key = errc::invalid_key;
          if (!key) {
            out.events.push_back(make("error", {{"code", "bad_key"}, {"text", "unusable public key from " + m.from}}));
            return;
          }
          auto old = public_keys_.find(m.from);
          if (old != public_keys_.end() && old->second.fingerprint() != key->fingerprint()) {
            // A new key for a known user: never keep using a session key wrapped for the old one.
            sending_keys_.erase(m.from);
            out.events.push_back(make("key_changed", {{"name", m.from}, {"fingerprint", key->fingerprint()}}));
          } else {
            out.events.push_back(make("pubkey", {{"name", m.from}, {"fingerprint", key->fingerprint()}}));
          }
          public_keys_.insert_or_assign(m.from, std::move(*key));
          if (!has(client_fault::no_acks)) send(c2s::ack{"PM_PUBKEY"}, out);  // ITP-CRYPTO-08
        } else if constexpr (std::is_same_v<T, s2c::sessionkey>) {
          auto key = unwrap_session_key(options_.key, m.key);
          if (!key) {
            out.events.push_back(
                make("error", {{"code", "bad_session_key"}, {"text", "cannot unwrap the session key from " + m.from}}));
            return;
          }
          receiving_keys_.insert_or_assign(m.from, std::move(*key));
          if (!has(client_fault::no_acks)) send(c2s::ack{"PM_SESSIONKEY"}, out);
        } else if constexpr (std::is_same_v<T, s2c::npm>) {
          auto key = receiving_keys_.find(m.from);
          if (key == receiving_keys_.end()) {
            out.events.push_back(make("error", {{"code", "undecryptable"}, {"from", m.from},
                                                {"text", "private message from " + m.from + " without a session key"}}));
            return;
          }
          auto text = open_body(key->second, m.from, options_.name, m.body);
          if (!text && has(client_fault::show_undecryptable)) text = m.body;
          if (!text) {  // ITP-CRYPTO-06: never shown as a message
            out.events.push_back(make("error", {{"code", "undecryptable"}, {"from", m.from},
                                                {"text", "private message from " + m.from + " failed to decrypt"}}));
            return;
          }
          bool unauthenticated = key->second.legacy && !has(client_fault::legacy_authenticated);  // ITP-CRYPTO-05
          out.events.push_back(make("pm", {{"from", m.from}, {"text", *text},
                                           {"authenticated", unauthenticated ? "false" : "true"}}));
        } else if constexpr (std::is_same_v<T, s2c::fail>) {
          if (m.code == static_cast<int>(fail_code::unknown_user) && !last_pm_target_.empty())
            sending_keys_.erase(last_pm_target_);  // the key never reached anyone: send a fresh one next time
          out.events.push_back(make("error", {{"code", fail_name(m.code)}, {"text", m.text}}));
          if (!logged_in_ && (m.code == 1 || m.code == 2)) {
            finished_ = true;  // the name was refused: nothing else can work
            out.close = true;
          }
        } else if constexpr (std::is_same_v<T, s2c::dscn>) {
          out.events.push_back(make("disconnected", {{"reason", m.reason}}));
          finished_ = true;
          out.close = true;
        } else if constexpr (std::is_same_v<T, s2c::ok_goodbye>) {
          out.events.push_back(make("goodbye"));
          finished_ = true;
          out.close = true;
        }
        // ok_pubkey, ok_sessionkey, ok_other: acknowledgements with nothing to show.
      },
      *parsed);
}

void agent::on_command(std::string_view line, agent_output& out) {
  if (finished_) return;
  // Before the login completes every command waits its turn, /quit included: a script that ends right
  // away must still have its earlier lines sent, in order.
  if (!logged_in_ && line != "/help") {
    queued_commands_.emplace_back(line);
    return;
  }
  run_command(line, out);
}

void agent::run_command(std::string_view line, agent_output& out) {
  if (line.empty()) return;  // ITP-CLIENT-07: BCST needs text; an empty line is not a message
  if (line.front() != '/') {
    std::string text(line);  // ITP-CLIENT-07: as typed, spaces included
    if (has(client_fault::trim_typed_text)) {
      text.erase(0, text.find_first_not_of(' '));
      text.erase(text.find_last_not_of(' ') + 1);
      if (text.empty()) return;
    }
    return send(c2s::bcst{std::move(text)}, out);
  }
  auto space = line.find(' ');
  std::string_view command = line.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  if (command == "/users") return send(c2s::users{}, out);
  if (command == "/quit") {
    // ITP-CLIENT-05: the server answers, then closes. A script's own /quit is followed by the one its end
    // of input implies: QUIT goes out once.
    if (quit_sent_) return;
    quit_sent_ = true;
    send(c2s::quit{}, out);
    if (has(client_fault::quit_without_waiting)) {
      finished_ = true;
      out.close = true;
    }
    return;
  }
  if (command == "/raw") {
    out.sends.push_back(std::string(rest) + "\n");
    return;
  }
  if (command == "/pm") {
    auto to_end = rest.find(' ');
    if (to_end == std::string_view::npos || to_end + 1 >= rest.size()) {
      out.events.push_back(make("error", {{"code", "usage"}, {"text", "usage: /pm NAME TEXT"}}));
      return;
    }
    return send_pm(std::string(rest.substr(0, to_end)), rest.substr(to_end + 1), out);
  }
  if (command == "/keys") {
    for (const auto& [name, key] : public_keys_)
      out.events.push_back(make("pubkey", {{"name", name}, {"fingerprint", key.fingerprint()}}));
    return;
  }
  if (command == "/help") {
    out.events.push_back(make("help", {{"text", "TEXT broadcasts; /users; /pm NAME TEXT (end-to-end encrypted); "
                                                 "/keys; /raw LINE; /quit"}}));
    return;
  }
  out.events.push_back(make("error", {{"code", "usage"}, {"text", "unknown command " + std::string(command)}}));
}

void agent::send_pm(const std::string& to, std::string_view text, agent_output& out) {
  auto pub = public_keys_.find(to);
  if (pub == public_keys_.end()) {
    out.events.push_back(make("error", {{"code", "no_key"}, {"text", "no public key for " + to + " yet"}}));
    return;
  }
  // ITP-CRYPTO-02: a fresh session key goes out before the first PM, and only then.
  auto known = sending_keys_.find(to);
  bool fresh = known == sending_keys_.end() || has(client_fault::session_key_every_pm);
  session_key key = fresh ? make_session_key() : known->second;
  std::string wrapped;
  if (fresh) {
    auto token = wrap_session_key(pub->second, key);
    if (!token) {
      out.events.push_back(make("error", {{"code", "crypto"}, {"text", "cannot wrap a session key for " + to}}));
      return;
    }
    wrapped = std::move(*token);
    if (has(client_fault::unprefixed_session_key)) wrapped.erase(0, session_key_prefix.size());
  }
  auto body = has(client_fault::fixed_nonce) ? seal_body_with_fixed_nonce(key, options_.name, to, text)
                                             : seal_body(key, options_.name, to, text);
  if (!body) {
    out.events.push_back(make("error", {{"code", "crypto"}, {"text", "cannot encrypt for " + to}}));
    return;
  }
  // ITP-CLIENT-08: a PM too long for one line is refused before its session key goes out.
  c2s::pm pm{to, *body};
  if (!fits(serialize(client_message{pm}), out)) return;
  if (fresh) {
    send(c2s::sessionkey{to, wrapped}, out);
    sending_keys_.insert_or_assign(to, std::move(key));
  }
  last_pm_target_ = to;
  send(pm, out);
}

bool agent::fits(const std::string& line, agent_output& out) const {
  if (line.size() <= options_.max_line + 1 || has(client_fault::no_line_limit)) return true;
  out.events.push_back(make("error", {{"code", "too_long"},
                                      {"text", "not sent: the line would be " + std::to_string(line.size() - 1) +
                                                   " bytes, and the server takes at most " +
                                                   std::to_string(options_.max_line)}}));
  return false;
}

void agent::send(const client_message& message, agent_output& out) {
  std::string line = serialize(message);
  if (!fits(line, out)) return;  // ITP-CLIENT-08: the server would close the connection (ITP-FRAME-05)
  if (has(client_fault::cr_line_ends)) line.back() = '\r';  // ITP-CLIENT-04 wants LF or CR LF
  out.sends.push_back(std::move(line));
}

void agent::forget_user(const std::string& name) {
  public_keys_.erase(name);
  sending_keys_.erase(name);
  receiving_keys_.erase(name);
}

void agent::on_closed(agent_output& out) {
  if (!finished_) out.events.push_back(make("disconnected", {{"reason", "connection closed"}}));
  finished_ = true;
}

}  // namespace parley::itp
