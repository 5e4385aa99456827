#include "impl/client/peerchat/agent.hpp"

#include <algorithm>

namespace parley::peerchat {
namespace {

constexpr const char* help_text =
    "commands: TEXT (to the chat) | /users | /chat NAME | /close | /whois NAME | /trust NAME | /quit";
constexpr std::size_t max_queued = 1024;

event make(std::string type, std::vector<std::pair<std::string, std::string>> fields = {}) {
  return {std::move(type), std::move(fields), {}};
}

event usage(std::string text) { return make("error", {{"code", "usage"}, {"text", std::move(text)}}); }

std::pair<std::string_view, std::string_view> split_word(std::string_view line) {
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) return {line, {}};
  return {line.substr(0, sp), line.substr(sp + 1)};
}

std::string client(client_command command, std::string argument = {}, std::string key = {},
                   std::optional<unsigned> port = std::nullopt) {
  return format(client_line{command, std::move(argument), std::move(key), port});
}

}  // namespace

agent::agent(agent_options options)
    : options_(std::move(options)), framer_({.max_line = max_line - 1}) {}  // max_line counts the LF

agent::~agent() = default;

void agent::on_open(agent_output& out) {
  send_line(hello_line(!options_.v1), out);
}

void agent::on_data(std::string_view bytes, time_point now, agent_output& out) {
  if (finished_) return;
  framer_.feed(bytes);
  while (!finished_) {
    auto next = framer_.next();
    if (!next) {
      out.events.push_back(make("error", {{"code", "line_too_long"}, {"text", "the server sent a line over 512 bytes"}}));
      out.events.push_back(make("disconnected", {{"reason", "the server's lines cannot be read any more"}}));
      finish(out);
      break;
    }
    if (!*next) break;
    handle((*next)->text, now, out);
  }
  settle(now, out);
}

void agent::handle(std::string_view text, time_point now, agent_output& out) {
  // PC-LIST-01: the block is contiguous, so every line inside it is a name, even one spelt like a command.
  if (users_) {
    if (text == "ENDUSERS") {
      event e = make("users");
      e.list = std::move(*users_);
      users_.reset();
      out.events.push_back(std::move(e));
    } else if (text != options_.name && users_->size() < 100000) {  // PC-CLI-02: our own name is not shown
      users_->emplace_back(text);
    }
    return;
  }
  auto line = parse_server_line(text);  // PC-CLI-01: the exact first word decides
  switch (line.command) {
    case server_command::hello:
      if (hello_answered_) return;
      hello_answered_ = true;
      server_v2_ = !options_.v1 && line.text == version2;
      out.events.push_back(make("hello", {{"version", server_v2_ ? "peerchat/2" : "peerchat/1"}}));
      register_sent_ = true;
      // PC-KEY-02: a key only to a server that said peerchat/2.
      if (key_registered())
        send_line(client(client_command::register_user, options_.name, format_public_key(options_.me->public_key_bytes())), out);
      else
        send_line(client(client_command::register_user, options_.name), out);
      return;
    case server_command::registered:  // PC-CLI-02: REGISTERED and the seed's REGISTER
      if (registered_ || line.text != options_.name) return;
      if (options_.fault == client_fault::registered_only && !text.starts_with("REGISTERED ")) return;
      registered_ = true;
      out.events.push_back(make("registered", {{"name", options_.name}, {"secure", key_registered() ? "true" : "false"}}));
      while (!queued_.empty() && !finished_) {
        std::string command = std::move(queued_.front());
        queued_.pop_front();
        run_command(command, now, out);
      }
      return;
    case server_command::start_users:
      users_.emplace();
      return;
    case server_command::port:
      return on_port(line.port, now, out);
    case server_command::start_chat:
      return on_start_chat(line, now, out);
    case server_command::error:
      return on_error(line.text, out);
    case server_command::close:
      if (chat_ && !chat_->ended()) chat_->abandon(out);
      out.events.push_back(quitting_ ? make("goodbye") : make("disconnected", {{"reason", "the server sent CLOSE"}}));
      return finish(out);
    case server_command::other:  // PC-CLI-01: ignored, still connected
      if (options_.fault == client_fault::substring_dispatch) return dispatch_on_substring(text, now, out);
      return;
    case server_command::ok:         // CHAT accepted (PC-CHAT-04): the negotiation follows
    case server_command::end_users:  // outside a list
      return;
  }
}

// The substring-dispatch fault: the original client's `line.contains("PORT")`, so XPORT 40001 is a PORT.
void agent::dispatch_on_substring(std::string_view text, time_point now, agent_output& out) {
  auto at = text.find("PORT ");
  if (at == std::string_view::npos) return;
  auto digits = text.substr(at + 5);
  unsigned port = 0;
  for (char c : digits.substr(0, digits.find(' '))) {
    if (c < '0' || c > '9' || port > 65535) return;
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  on_port(port, now, out);
}

// PC-CLI-03: accept only a port we could bind, and keep it bound for its STARTCHAT.
void agent::on_port(unsigned port, time_point now, agent_output& out) {
  if (!valid_chat_port(port) || in_chat()) return answer_port(port, false, out);
  if (held_.contains(port)) {
    held_[port] = now + port_hold;
    return answer_port(port, true, out);
  }
  if (std::find(binding_.begin(), binding_.end(), port) != binding_.end()) return;  // answered when bound
  if (chat_ && chat_->config().port == port) return answer_port(port, false, out);  // still sending Closes
  binding_.push_back(port);
  out.udp.push_back({udp_request::kind::bind, port, {}, 0, {}});
}

void agent::answer_port(unsigned port, bool accepted, agent_output& out) {
  out.events.push_back(make("port", {{"port", std::to_string(port)}, {"accepted", accepted ? "true" : "false"}}));
  if (!accepted) return send_line(client(client_command::refuse_port, std::string(code::port_unavailable)), out);
  if (server_v2_) return send_line(client(client_command::accept_port, {}, {}, port), out);
  // Spec §12 R7: the original server may lose a single OK; a peerchat/1 server gets it twice.
  send_line(client(client_command::accept_port), out);
  if (options_.fault != client_fault::single_ok) send_line(client(client_command::accept_port), out);
}

void agent::on_bind_result(unsigned port, bool ok, time_point now, agent_output& out) {
  if (finished_) {
    if (ok) release(port, out);
    return;
  }
  auto waiting = std::find(binding_.begin(), binding_.end(), port);
  if (waiting != binding_.end()) {
    binding_.erase(waiting);
    if (ok) held_[port] = now + port_hold;
    answer_port(port, ok || options_.fault == client_fault::accept_taken_port, out);
  } else if (pending_start_ && pending_start_->port == port) {
    auto line = std::move(*pending_start_);
    pending_start_.reset();
    if (ok) {
      start_chat(line, now, out);
    } else {
      out.events.push_back(make("error", {{"code", "port"}, {"text", "cannot bind UDP port " + std::to_string(port) + " for the chat with " + line.name}}));
      early_texts_.clear();
    }
  } else if (ok) {
    release(port, out);  // nobody needs it any more
  }
  settle(now, out);
}

void agent::on_start_chat(const server_line& line, time_point now, agent_output& out) {
  chat_requested_ = false;
  if (in_chat() || !valid_name(line.name) || line.name == options_.name || !valid_chat_port(line.port) || line.address.empty()) {
    out.events.push_back(make("error", {{"code", "startchat"}, {"text", "ignored a STARTCHAT for " + line.name + (in_chat() ? " during a chat" : "")}}));
    return;
  }
  release_held(line.port, out);
  if (held_.erase(line.port)) return start_chat(line, now, out);
  // The port was not held (its 15 s passed): bind it again, start when bound.
  pending_start_ = line;
  out.udp.push_back({udp_request::kind::bind, line.port, {}, 0, {}});
}

void agent::start_chat(const server_line& line, time_point now, agent_output& out) {
  if (chat_) release(chat_->config().port, out);  // a chat still sending its Closes gives way
  chat_.reset();
  chat_config config;
  config.me = options_.name;
  config.peer = line.name;
  config.address = line.address;
  config.port = line.port;
  // PC-TRUST-03: a known contact is never spoken to in plain text, key in STARTCHAT or not. Otherwise the
  // peer's key makes the chat peerchat/2 only if we registered ours: the peer then has our key too and
  // runs peerchat/2 as well. Without ours (--v1, or a peerchat/1 server) the peer got no key for us and
  // speaks peerchat/1, so we do too (spec §12 R20).
  bool known = options_.contacts.find(line.name).has_value();
  config.secure = known || (line.key.has_value() && key_registered());
  if (options_.fault == client_fault::version_from_startchat) config.secure = line.key.has_value() && options_.me;
  config.start_key = line.key;
  config.me_key = options_.me;
  config.accept_new_key = options_.accept_new_key;
  config.keepalive = options_.keepalive;
  config.peer_timeout = options_.peer_timeout;
  config.connect_timeout = options_.connect_timeout;
  config.fault = options_.fault;
  out.events.push_back(make("chat_started", {{"peer", line.name}, {"address", line.address}, {"port", std::to_string(line.port)}, {"secure", config.secure ? "true" : "false"}}));
  if (config.secure && !options_.me) {
    out.events.push_back(make("error", {{"code", "identity"}, {"text", "peerchat/2 is needed with " + line.name + " but no identity key is loaded"}}));
    out.events.push_back(make("chat_ended", {{"peer", line.name}, {"reason", "handshake_failed"}}));
    early_texts_.clear();
    return release(line.port, out);
  }
  chat_ = std::make_unique<chat>(std::move(config), options_.contacts, now, out);
  while (!early_texts_.empty()) {
    chat_->send_text(early_texts_.front(), now, out);
    early_texts_.pop_front();
  }
}

void agent::on_error(const std::string& code, agent_output& out) {
  out.events.push_back(make("error", {{"code", code}}));
  if (register_sent_ && !registered_) {  // no name, no service: leave rather than wait forever
    out.events.push_back(make("disconnected", {{"reason", "registration refused: " + code}}));
    return finish(out);
  }
  release_held(std::nullopt, out);  // PC-CLI-03: an ERROR ends the negotiation
  if (chat_requested_ && !early_texts_.empty())
    out.events.push_back(usage(std::to_string(early_texts_.size()) + " line(s) not sent: no chat"));
  chat_requested_ = false;
  early_texts_.clear();
}

void agent::on_command(std::string_view line, time_point now, agent_output& out) {
  if (finished_ || line.empty()) return;
  if (!registered_) {  // /quit too: a script's end must not cut its own registration short
    if (queued_.size() < max_queued) queued_.emplace_back(line);
    return;
  }
  run_command(line, now, out);
  settle(now, out);
}

void agent::run_command(std::string_view line, time_point now, agent_output& out) {
  if (quitting_) return;
  auto [verb, rest] = split_word(line);
  if (verb == "/quit") {
    quitting_ = true;
    quit_deadline_ = now + quit_wait + close_interval * close_count;
    if (chat_) chat_->close(now, out);  // the server's CLOSE waits for the Closes (settle)
    return;
  }
  if (verb == "/help") return out.events.push_back(make("help", {{"text", help_text}}));
  if (verb == "/users") return send_line(client(client_command::list_users), out);
  if (verb == "/chat") {
    if (!valid_name(rest)) return out.events.push_back(usage("/chat NAME"));
    if (rest == options_.name) return out.events.push_back(usage("you cannot chat with yourself"));
    if (in_chat()) return out.events.push_back(usage("already in a chat: /close it first"));
    chat_requested_ = true;
    return send_line(client(client_command::chat, std::string(rest)), out);
  }
  if (verb == "/close") {
    if (!in_chat()) return out.events.push_back(usage("no chat to close"));
    return chat_->close(now, out);
  }
  if (verb == "/whois") {
    if (!valid_name(rest)) return out.events.push_back(usage("/whois NAME"));
    auto key = options_.contacts.find(rest);
    return out.events.push_back(make("whois", {{"peer", std::string(rest)}, {"fingerprint", key ? fingerprint(*key) : ""}}));
  }
  if (verb == "/trust") {
    if (!valid_name(rest)) return out.events.push_back(usage("/trust NAME"));
    // PC-TRUST-02's explicit action: the next key proved by NAME is taken as new.
    if (options_.contacts.erase(rest)) out.contacts_changed = true;
    return out.events.push_back(make("trust", {{"peer", std::string(rest)}}));
  }
  if (verb.starts_with("/")) return out.events.push_back(usage("unknown command; " + std::string(help_text)));
  if (in_chat()) return chat_->send_text(line, now, out);
  if (chat_requested_ || pending_start_) {
    if (early_texts_.size() < max_queued) early_texts_.emplace_back(line);
    return;
  }
  out.events.push_back(usage("no chat: /chat NAME first"));
}

void agent::on_datagram(unsigned local_port, std::string_view from_address, unsigned, std::string_view data,
                        time_point now, agent_output& out) {
  if (finished_ || !chat_ || chat_->config().port != local_port) return;
  chat_->on_datagram(from_address, data, now, out);
  settle(now, out);
}

void agent::on_timer(time_point now, agent_output& out) {
  if (finished_) return;
  for (auto it = held_.begin(); it != held_.end();) {  // PC-CLI-03: 15 s without STARTCHAT
    if (now < it->second) {
      ++it;
      continue;
    }
    out.udp.push_back({udp_request::kind::release, it->first, {}, 0, {}});
    it = held_.erase(it);
  }
  if (chat_) chat_->on_timer(now, out);
  settle(now, out);
  if (quit_deadline_ && now >= *quit_deadline_ && !finished_) {
    out.events.push_back(make("goodbye"));
    finish(out);
  }
}

std::optional<time_point> agent::next_wake() const {
  if (finished_) return std::nullopt;
  std::optional<time_point> wake = quit_deadline_;
  auto consider = [&](time_point t) {
    if (!wake || t < *wake) wake = t;
  };
  for (const auto& [port, expiry] : held_) consider(expiry);
  if (chat_)
    if (auto t = chat_->next_wake()) consider(*t);
  return wake;
}

void agent::on_closed(agent_output& out) {
  if (finished_) return;
  if (chat_ && !chat_->ended()) chat_->abandon(out);
  out.events.push_back(quitting_ ? make("goodbye") : make("disconnected", {{"reason", "the server closed the connection"}}));
  finished_ = true;
}

// After every input: a chat that is over gives its port back, and a pending /quit goes on.
void agent::settle(time_point, agent_output& out) {
  if (chat_ && chat_->over()) {
    release(chat_->config().port, out);
    chat_.reset();
  }
  if (quitting_ && !close_sent_ && !chat_ && !finished_) {
    close_sent_ = true;
    send_line(client(client_command::close), out);
  }
}

void agent::release_held(std::optional<unsigned> keep, agent_output& out) {
  for (auto it = held_.begin(); it != held_.end();) {
    if (keep && it->first == *keep) {
      ++it;
      continue;
    }
    out.udp.push_back({udp_request::kind::release, it->first, {}, 0, {}});
    it = held_.erase(it);
  }
}

void agent::release(unsigned port, agent_output& out) { out.udp.push_back({udp_request::kind::release, port, {}, 0, {}}); }

void agent::finish(agent_output& out) {
  finished_ = true;
  out.close = true;
}

}  // namespace parley::peerchat
