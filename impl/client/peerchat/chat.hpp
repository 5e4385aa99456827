// One peer chat over UDP, from STARTCHAT to its end: peerchat/1 (spec §7: Connect, Msg, KeepAliveToken,
// Close) or peerchat/2 (§8.3-8.5: the signed handshake, sealed records, the contact list). Pure: datagrams,
// texts and time in, datagrams to send and events out, through agent_output.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "impl/client/peerchat/contacts.hpp"
#include "impl/client/peerchat/faults.hpp"
#include "impl/client/peerchat/output.hpp"
#include "impl/core/clock.hpp"
#include "impl/proto/peerchat/secure.hpp"

namespace parley::peerchat {

inline constexpr millis connect_interval{250};  // Connect / HELLO pace (PC-UDP-05, PC-HS-07)
inline constexpr millis close_interval{100};    // between the three Closes (PC-CLOSE-03)
inline constexpr int close_count = 3;

struct chat_config {
  std::string me, peer;   // registered names; datagrams carry them
  std::string address;    // STARTCHAT's address: datagrams go there, and only its datagrams count
  unsigned port = 0;      // local and remote port (PC-UDP-01)
  bool secure = false;    // peerchat/2
  std::optional<public_key> start_key;  // STARTCHAT's fifth field
  std::shared_ptr<const identity> me_key;  // required when secure
  bool accept_new_key = false;
  millis keepalive{5000}, peer_timeout{20000}, connect_timeout{30000};
  client_fault fault = client_fault::none;
};

class chat {
public:
  // Sends the first Connect or HELLO.
  chat(chat_config config, contact_list& contacts, time_point now, agent_output& out);
  ~chat();

  void on_datagram(std::string_view from_address, std::string_view data, time_point now, agent_output& out);
  void on_timer(time_point now, agent_output& out);
  // The user's line: sent at once when connected, otherwise held until then.
  void send_text(std::string_view text, time_point now, agent_output& out);
  // The user's /close: three Closes 100 ms apart, chat_ended{closed}.
  void close(time_point now, agent_output& out);
  // The program is going away: one Close if connected, chat_ended{closed}.
  void abandon(agent_output& out);

  std::optional<time_point> next_wake() const;
  bool ended() const noexcept { return phase_ == phase::closing || phase_ == phase::over; }
  bool over() const noexcept { return phase_ == phase::over; }  // the port can be released
  const chat_config& config() const noexcept { return config_; }

private:
  enum class phase { connecting, connected, closing, over };

  void send(std::string data, time_point now, agent_output& out);
  void send_connect(time_point now, agent_output& out, std::string text = {});
  void send_handshake(time_point now, agent_output& out);
  bool may_answer(time_point now);
  void on_plain(std::string_view data, time_point now, agent_output& out);
  void on_secure(std::string_view data, time_point now, agent_output& out);
  void handle_secure(const secure_event& e, std::string_view data, time_point now, agent_output& out);
  void on_proved(const public_key& key, time_point now, agent_output& out);
  void become_connected(time_point now, agent_output& out);
  void flush_texts(time_point now, agent_output& out);
  bool ready_for_text() const;
  std::optional<std::string> seal(record_type type, std::string_view body, agent_output& out);
  void end(std::string_view reason, agent_output& out);
  void drop(std::string why, agent_output& out);
  millis pace() const;

  chat_config config_;
  contact_list& contacts_;
  phase phase_ = phase::connecting;
  time_point started_, last_sent_, last_heard_, next_send_, last_answer_, next_close_;
  std::unique_ptr<secure_session> session_;
  std::deque<std::string> texts_;       // typed before the chat could carry them
  std::deque<std::string> closes_;      // Close datagrams still to send
  std::deque<std::string> connect_texts_;  // the texts of our recent Connects, to recognise answers
  std::map<std::string, secure_event> replay_cache_;  // only with the no-replay-window fault
};

}  // namespace parley::peerchat
