// The peerchat client as a pure state machine (spec §6-§8): server bytes, typed lines, datagrams and time
// in; lines for the server, UDP requests and display events out (output.hpp). On the TCP side it says HELLO
// (peerchat/2 unless told otherwise), registers (with its Ed25519 key when the server speaks peerchat/2),
// lists users, asks to chat and answers PORT; each STARTCHAT starts one UDP chat (chat.hpp).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "impl/client/peerchat/chat.hpp"
#include "impl/client/peerchat/contacts.hpp"
#include "impl/client/peerchat/faults.hpp"
#include "impl/client/peerchat/output.hpp"
#include "impl/core/clock.hpp"
#include "impl/core/line_framer.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"
#include "impl/proto/peerchat/secure.hpp"

namespace parley::peerchat {

inline constexpr millis port_hold{15000};   // PC-CLI-03: a bound port waits this long for its STARTCHAT
inline constexpr millis quit_wait{2000};    // /quit: how long to wait for the server's CLOSE

struct agent_options {
  std::string name;
  bool v1 = false;                        // say plain HELLO: never peerchat/2 towards the server
  std::shared_ptr<const identity> me;     // the long-term key; without it no peerchat/2 chat can start
  contact_list contacts;
  bool accept_new_key = false;            // a changed key replaces the contact (PC-TRUST-02's explicit action)
  millis keepalive{5000}, peer_timeout{20000}, connect_timeout{30000};
  client_fault fault = client_fault::none;
};

class agent {
public:
  explicit agent(agent_options options);
  ~agent();

  void on_open(agent_output& out);  // HELLO first: its answer decides the version (PC-HELLO-02)
  void on_data(std::string_view bytes, time_point now, agent_output& out);
  // TEXT (to the chat), /users, /chat NAME, /close, /whois NAME, /trust NAME, /quit, /help.
  // Until the registration succeeds, commands wait.
  void on_command(std::string_view line, time_point now, agent_output& out);
  // The driver's answer to udp_request::kind::bind.
  void on_bind_result(unsigned port, bool ok, time_point now, agent_output& out);
  // A datagram that arrived on the socket of `local_port` from from_address:from_port.
  void on_datagram(unsigned local_port, std::string_view from_address, unsigned from_port, std::string_view data,
                   time_point now, agent_output& out);
  void on_timer(time_point now, agent_output& out);
  void on_closed(agent_output& out);
  std::optional<time_point> next_wake() const;

  bool registered() const noexcept { return registered_; }
  bool server_v2() const noexcept { return server_v2_; }
  bool finished() const noexcept { return finished_; }
  bool in_chat() const noexcept { return chat_ && !chat_->ended(); }
  const contact_list& contacts() const noexcept { return options_.contacts; }

private:
  void handle(std::string_view line, time_point now, agent_output& out);
  void on_port(unsigned port, time_point now, agent_output& out);
  void dispatch_on_substring(std::string_view text, time_point now, agent_output& out);
  void answer_port(unsigned port, bool accepted, agent_output& out);
  void on_start_chat(const server_line& line, time_point now, agent_output& out);
  void start_chat(const server_line& line, time_point now, agent_output& out);
  void on_error(const std::string& code, agent_output& out);
  void run_command(std::string_view line, time_point now, agent_output& out);
  void release_held(std::optional<unsigned> keep, agent_output& out);
  void release(unsigned port, agent_output& out);
  void settle(time_point now, agent_output& out);
  void finish(agent_output& out);
  void send_line(std::string line, agent_output& out) { out.sends.push_back(std::move(line)); }
  // Whether REGISTER carried our key (PC-KEY-02): only then do peers get it in their STARTCHAT.
  bool key_registered() const noexcept { return server_v2_ && options_.me; }

  agent_options options_;
  core::line_framer framer_;
  bool hello_answered_ = false, server_v2_ = false;
  bool register_sent_ = false, registered_ = false;
  bool finished_ = false;
  std::optional<std::vector<std::string>> users_;  // between STARTUSERS and ENDUSERS
  std::map<unsigned, time_point> held_;             // bound ports awaiting their STARTCHAT, with expiry
  std::vector<unsigned> binding_;                   // PORT answers waiting for on_bind_result
  std::optional<server_line> pending_start_;        // a STARTCHAT whose port must be bound again
  std::unique_ptr<chat> chat_;
  bool chat_requested_ = false;                     // /chat sent: lines typed now go to that chat
  std::deque<std::string> early_texts_;
  std::deque<std::string> queued_;                  // commands typed before the registration
  bool quitting_ = false, close_sent_ = false;
  std::optional<time_point> quit_deadline_;
};

}  // namespace parley::peerchat
