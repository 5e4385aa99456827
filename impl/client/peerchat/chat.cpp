#include "impl/client/peerchat/chat.hpp"

#include <algorithm>
#include <cstring>

#include "impl/core/crypto/digest.hpp"
#include "impl/proto/peerchat/datagram.hpp"

namespace parley::peerchat {
namespace {

constexpr std::size_t max_held_texts = 256;
constexpr std::size_t max_replay_cache = 256;
constexpr int tight_burst = 5;  // Connects per wake-up with the tight-connect fault
// Answers come back within a round trip; the last 16 Connects cover four seconds of them.
constexpr std::size_t remembered_connects = 16;

event make(std::string type, std::vector<std::pair<std::string, std::string>> fields = {}) {
  return {std::move(type), std::move(fields), {}};
}

std::string random_decimal() {
  auto r = core::random_bytes(4);
  std::uint32_t value = 0;
  for (auto b : r) value = (value << 8) | b;
  return std::to_string(value % 2147483648u);  // like C's rand(): the original sends such a number
}

constexpr std::uint8_t kind_hello = 0x01;
constexpr std::size_t hello_name_offset = 2 + 32 + 1;  // B2 01 eph(32) name_len(u8) name (spec §8.4)
constexpr std::uint8_t kind_sealed = 0x02;

std::uint8_t kind_of(std::string_view data) {
  return data.size() >= 2 ? static_cast<std::uint8_t>(data[1]) : 0;
}

// The case-sensitive-types fault: the type field exactly as the original spells it, in either layout.
bool spelt_as_original(std::string_view data) {
  std::string_view type;
  if (auto lf = data.find('\n'); lf != std::string_view::npos) {
    type = data.substr(lf + 1);
    type = type.substr(0, type.find('\n'));
    if (type.ends_with('\r')) type.remove_suffix(1);
  } else {
    auto sp = data.find(' ');
    type = sp == std::string_view::npos ? std::string_view{} : data.substr(sp + 1);
    type = type.substr(0, type.find(' '));
  }
  return type == "Connect" || type == "Msg" || type == "Close" || type == "KeepAliveToken";
}

}  // namespace

chat::chat(chat_config config, contact_list& contacts, time_point now, agent_output& out)
    : config_(std::move(config)), contacts_(contacts), started_(now), last_sent_(now), last_heard_(now),
      next_send_(now), last_answer_(now - connect_interval) {
  if (config_.secure) {
    session_ = std::make_unique<secure_session>(*config_.me_key, config_.me, config_.peer);
    send_handshake(now, out);
  } else {
    send_connect(now, out);
  }
  next_send_ = now + pace();
}

chat::~chat() = default;

millis chat::pace() const {
  // The fault's bursts come every few milliseconds: a tight loop in effect, without spinning the driver.
  return config_.fault == client_fault::tight_connect && !config_.secure ? millis(5) : connect_interval;
}

void chat::send(std::string data, time_point now, agent_output& out) {
  out.udp.push_back({udp_request::kind::send, config_.port, config_.address, config_.port, std::move(data)});
  last_sent_ = now;
}

// PC-UDP-05: a random decimal text, as the original; PC-UDP-06: an answer echoes the text it answers.
void chat::send_connect(time_point now, agent_output& out, std::string text) {
  // The fault's tight loop is the connecting one: an answer is still one Connect.
  int count = config_.fault == client_fault::tight_connect && text.empty() ? tight_burst : 1;
  for (int i = 0; i < count; ++i) {
    std::string body = text.empty() ? random_decimal() : text;
    connect_texts_.push_back(body);
    if (connect_texts_.size() > remembered_connects) connect_texts_.pop_front();
    send(format_plain({config_.me, datagram_type::connect, std::move(body)}), now, out);
  }
}

// PC-UDP-06, PC-HS-07: answers to the peer's Connect / repeated HELLO are limited to one per 250 ms of
// their own. The periodic sends do not count: the answer that tells a peer "I hear you now" must not
// wait for the next one, or a peer whose first datagrams were lost hears nothing until then.
bool chat::may_answer(time_point now) {
  if (now - last_answer_ < connect_interval) return false;
  last_answer_ = now;
  return true;
}

// PC-HS-07: our HELLO and, once there are keys, a fresh AUTH (a new seq each time, PC-REC-02).
void chat::send_handshake(time_point now, agent_output& out) {
  std::string hello = session_->hello();
  if (config_.fault == client_fault::hello_wrong_name && hello.size() > hello_name_offset)
    hello[hello_name_offset] = hello[hello_name_offset] == 'x' ? 'y' : 'x';  // another user's name (PC-HS-02)
  send(std::move(hello), now, out);
  if (session_->has_keys())
    if (auto auth = session_->auth()) send(std::move(*auth), now, out);
}

void chat::on_datagram(std::string_view from_address, std::string_view data, time_point now, agent_output& out) {
  if (ended()) return;  // PC-CLOSE-03: after the end, everything is dropped
  // PC-UDP-01 / §7.1: only the STARTCHAT address counts, from any source port (a NAT may rewrite it).
  if (from_address != config_.address) return drop("from " + std::string(from_address) + ", not the peer's address", out);
  if (config_.secure) on_secure(data, now, out);
  else on_plain(data, now, out);
}

// --- peerchat/1 ---------------------------------------------------------------------------------------

void chat::on_plain(std::string_view data, time_point now, agent_output& out) {
  auto parsed = parse_plain(data);
  if (parsed && config_.fault == client_fault::case_sensitive_types && !spelt_as_original(data))
    return drop("type not spelt as the original spells it", out);
  if (!parsed) {
    // PC-UDP-08: no reply, no timer reset. The fault answers, which is what lets it reflect traffic.
    if (config_.fault == client_fault::answer_malformed) send_connect(now, out);
    return drop("malformed datagram: " + parsed.error().message(), out);
  }
  if (parsed->user != config_.peer && config_.fault != client_fault::any_user)
    return drop("datagram from user '" + parsed->user + "', not " + config_.peer, out);
  bool was_connected = phase_ == phase::connected;
  if (!was_connected && parsed->type == datagram_type::msg && config_.fault == client_fault::msg_needs_connect)
    return drop("a Msg before any Connect", out);
  last_heard_ = now;
  if (!was_connected) become_connected(now, out);  // PC-UDP-05, -07: any valid datagram connects
  switch (parsed->type) {
    case datagram_type::connect: {
      // PC-UDP-06: answer so that a peer whose Connects were lost still hears us, at most every 250 ms,
      // but never answer an answer (our own text coming back), or two connected peers whose round trip
      // is over 250 ms would keep answering each other for ever.
      bool is_answer = config_.fault != client_fault::answer_answers &&
                       std::find(connect_texts_.begin(), connect_texts_.end(), parsed->text) != connect_texts_.end();
      if (!is_answer && may_answer(now)) send_connect(now, out, parsed->text);
      break;
    }
    case datagram_type::msg:
      out.events.push_back(make("message", {{"from", config_.peer}, {"text", parsed->text}}));
      break;
    case datagram_type::keepalive:
      break;
    case datagram_type::close:
      if (config_.fault != client_fault::ignore_close) end("peer_closed", out);
      break;
  }
}

// --- peerchat/2 ---------------------------------------------------------------------------------------

void chat::on_secure(std::string_view data, time_point now, agent_output& out) {
  auto received = session_->receive(data);
  if (!received) {
    auto error = received.error();
    if (error == errc::weak_secret) {  // PC-HS-03: the handshake fails
      out.events.push_back(make("dropped", {{"why", error.message()}}));
      return end("handshake_failed", out);
    }
    if (error == errc::replayed && config_.fault == client_fault::no_replay_window) {
      auto it = replay_cache_.find(std::string(data));
      if (it != replay_cache_.end()) return handle_secure(it->second, data, now, out);
    }
    return drop(error.message(), out);  // PC-REPLAY-02: counted and shown, never answered
  }
  if (config_.fault == client_fault::no_replay_window && kind_of(data) == kind_sealed &&
      replay_cache_.size() < max_replay_cache)
    replay_cache_.emplace(std::string(data), *received);
  handle_secure(*received, data, now, out);
}

void chat::handle_secure(const secure_event& e, std::string_view data, time_point now, agent_output& out) {
  // PC-KEEP-03: only records that opened and passed the replay check reset the peer timeout.
  if (kind_of(data) == kind_sealed) last_heard_ = now;
  using kind = secure_event::kind;
  switch (e.what) {
    case kind::nothing:
      // PC-HS-07: the peer repeats its HELLO after we stopped resending: it has not heard us. Answer, at
      // most once per 250 ms.
      if (kind_of(data) == kind_hello && session_->peer_confirmed() && may_answer(now)) send_handshake(now, out);
      break;
    case kind::keys_ready:
      // The peer's first HELLO: it is listening now, but our earlier HELLOs may have reached it before its
      // socket existed. HELLO and AUTH at once (once per chat: keys_ready comes once) spare it a 250 ms wait.
      send_handshake(now, out);
      break;
    case kind::peer_proved:
      on_proved(e.peer_key, now, out);
      break;
    case kind::msg:
      out.events.push_back(make("message", {{"from", config_.peer}, {"text", e.text}}));
      break;
    case kind::close:
      if (config_.fault != client_fault::ignore_close) return end("peer_closed", out);
      break;
    case kind::keepalive:
      break;
  }
  if (phase_ == phase::connected) flush_texts(now, out);  // the peer may have just confirmed us
}

// PC-HS-05, PC-TRUST-02: the key the peer proved must be STARTCHAT's (when given) and the contact's.
void chat::on_proved(const public_key& key, time_point now, agent_output& out) {
  if (session_->connected()) return;
  if (config_.start_key && key != *config_.start_key && config_.fault != client_fault::ignore_announced_key)
    return drop("the key the peer proved is not the one the server announced", out);
  auto known = contacts_.find(config_.peer);
  if (!known) {  // trust on first use, told to the user
    contacts_.set(config_.peer, key);
    out.contacts_changed = true;
    out.events.push_back(make("new_contact", {{"peer", config_.peer}, {"fingerprint", fingerprint(key)}}));
  } else if (*known != key && config_.fault != client_fault::trust_any_key) {
    out.events.push_back(make("key_changed", {{"peer", config_.peer}, {"old", fingerprint(*known)}, {"new", fingerprint(key)}}));
    if (!config_.accept_new_key) return end("key_changed", out);  // nothing stored, no chat
    contacts_.set(config_.peer, key);
    out.contacts_changed = true;
  }
  session_->accept_peer();
  become_connected(now, out);
  // Our AUTH now carries bit 0: the peer learns at once that we accepted it.
  if (auto auth = session_->auth()) send(std::move(*auth), now, out);
}

void chat::become_connected(time_point now, agent_output& out) {
  phase_ = phase::connected;
  last_heard_ = now;
  out.events.push_back(make("connected", {{"peer", config_.peer}, {"secure", config_.secure ? "true" : "false"}}));
  flush_texts(now, out);
}

// --- texts, timers, the end ---------------------------------------------------------------------------

// peerchat/2 holds texts until the peer has accepted us too: before that it would drop our MSGs.
bool chat::ready_for_text() const {
  return phase_ == phase::connected && (!config_.secure || session_->peer_confirmed());
}

void chat::flush_texts(time_point now, agent_output& out) {
  while (!texts_.empty() && ready_for_text()) {
    std::string text = std::move(texts_.front());
    texts_.pop_front();
    send_text(text, now, out);
  }
}

void chat::send_text(std::string_view text, time_point now, agent_output& out) {
  if (ended()) return;
  if (!ready_for_text()) {
    if (texts_.size() >= max_held_texts)
      return out.events.push_back(make("error", {{"code", "usage"}, {"text", "too many lines typed before the chat connected"}}));
    texts_.emplace_back(text);
    return;
  }
  // PC-UDP-04: at most 1000 bytes per Msg, no NUL/CR/LF; the raw-text fault sends the line as typed.
  bool raw = config_.fault == client_fault::raw_text && !config_.secure;
  for (auto& piece : raw ? std::vector<std::string>{std::string(text)} : split_text(text)) {
    if (!config_.secure && config_.fault == client_fault::seed_layout_msg) {
      send(config_.me + " MSG " + piece, now, out);
    } else if (!config_.secure) {
      send(format_plain({config_.me, datagram_type::msg, piece}), now, out);
    } else if (auto record = seal(record_type::msg, piece, out)) {
      send(std::move(*record), now, out);
    } else {
      return;
    }
  }
}

std::optional<std::string> chat::seal(record_type type, std::string_view body, agent_output& out) {
  auto record = session_->seal(type, body);
  if (record) return std::move(*record);
  // Only errc::exhausted is possible here (PC-REC-02): the chat must end before seq wraps.
  out.events.push_back(make("error", {{"code", "seal"}, {"text", record.error().message()}}));
  end("closed", out);
  return std::nullopt;
}

void chat::on_timer(time_point now, agent_output& out) {
  if (phase_ == phase::over) return;
  if (phase_ == phase::closing) {
    while (!closes_.empty() && now >= next_close_) {
      send(std::move(closes_.front()), now, out);
      closes_.pop_front();
      next_close_ += close_interval;
    }
    if (closes_.empty()) phase_ = phase::over;
    return;
  }
  if (phase_ == phase::connecting) {
    if (now - started_ >= config_.connect_timeout && config_.fault != client_fault::never_give_up)  // PC-UDP-05, PC-HS-07
      return end(config_.secure ? "handshake_failed" : "unreachable", out);
    if (now >= next_send_) {
      if (config_.secure) send_handshake(now, out);
      else send_connect(now, out);
      next_send_ = now + pace();
    }
    return;
  }
  if (now - last_heard_ >= config_.peer_timeout && config_.fault != client_fault::no_peer_timeout)
    return end("timeout", out);  // PC-KEEP-02, -03
  if (config_.secure && !session_->peer_confirmed() && now >= next_send_) {
    send_handshake(now, out);  // PC-HS-07: until the peer shows it accepted us
    next_send_ = now + connect_interval;
  }
  if (config_.fault != client_fault::no_keepalive && now - last_sent_ >= config_.keepalive) {  // PC-KEEP-01
    if (!config_.secure) send(format_plain({config_.me, datagram_type::keepalive, {}}), now, out);
    else if (auto record = seal(record_type::keepalive, {}, out)) send(std::move(*record), now, out);
  }
}

std::optional<time_point> chat::next_wake() const {
  switch (phase_) {
    case phase::over:
      return std::nullopt;
    case phase::closing:
      return next_close_;
    case phase::connecting:
      if (config_.fault == client_fault::never_give_up) return next_send_;
      return std::min(next_send_, started_ + config_.connect_timeout);
    case phase::connected:
      break;
  }
  // With the no-peer-timeout fault a silent peer's deadline never comes; a day stands for never.
  time_point wake = config_.fault == client_fault::no_peer_timeout ? last_heard_ + std::chrono::hours(24)
                                                                    : last_heard_ + config_.peer_timeout;
  if (config_.fault != client_fault::no_keepalive) wake = std::min(wake, last_sent_ + config_.keepalive);
  if (config_.secure && !session_->peer_confirmed()) wake = std::min(wake, next_send_);
  return wake;
}

void chat::close(time_point now, agent_output& out) {
  if (ended()) return;
  // PC-CLOSE-03: three Closes 100 ms apart. Sealed ones are made now, each with its own seq, so that the
  // keys can go at once (PC-REC-04).
  if (phase_ == phase::connected) {
    int closes = config_.fault == client_fault::one_close ? 1 : close_count;
    for (int i = 0; i < closes; ++i) {
      if (!config_.secure) closes_.push_back(format_plain({config_.me, datagram_type::close, {}}));
      else if (auto r = session_->seal(record_type::close)) closes_.push_back(std::move(*r));
    }
  }
  out.events.push_back(make("chat_ended", {{"peer", config_.peer}, {"reason", "closed"}}));
  session_.reset();
  texts_.clear();
  if (closes_.empty()) {
    phase_ = phase::over;
    return;
  }
  send(std::move(closes_.front()), now, out);
  closes_.pop_front();
  next_close_ = now + close_interval;
  phase_ = phase::closing;
}

void chat::abandon(agent_output& out) {
  if (ended()) return;
  if (phase_ == phase::connected) {
    std::optional<std::string> bye;
    if (!config_.secure) bye = format_plain({config_.me, datagram_type::close, {}});
    else if (auto r = session_->seal(record_type::close)) bye = std::move(*r);
    if (bye) out.udp.push_back({udp_request::kind::send, config_.port, config_.address, config_.port, std::move(*bye)});
  }
  end("closed", out);
}

void chat::end(std::string_view reason, agent_output& out) {
  out.events.push_back(make("chat_ended", {{"peer", config_.peer}, {"reason", std::string(reason)}}));
  phase_ = phase::over;
  session_.reset();  // PC-REC-04: the ephemeral key and both record keys go with the session
  texts_.clear();
  closes_.clear();
  replay_cache_.clear();
}

void chat::drop(std::string why, agent_output& out) { out.events.push_back(make("dropped", {{"why", std::move(why)}})); }

}  // namespace parley::peerchat
