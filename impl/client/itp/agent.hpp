// The itp client as a pure state machine: user commands and received bytes in; bytes to send and display
// events out. It does the key exchange and the end-to-end encryption of private messages
// (spec/itp/spec.md, ITP-CLIENT-* and ITP-CRYPTO-*). The I/O driver is impl/client/main.cpp.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "impl/client/common/event.hpp"
#include "impl/client/itp/faults.hpp"
#include "impl/core/crypto/pkey.hpp"
#include "impl/core/line_framer.hpp"
#include "impl/proto/itp/codec.hpp"
#include "impl/proto/itp/pm_crypto.hpp"

namespace parley::itp {

using event = client::event;  // what the user is shown (impl/client/common/event.hpp)

struct agent_output {
  std::vector<std::string> sends;  // complete lines, in order
  std::vector<event> events;
  bool close = false;  // the session is over: close the connection after sending
};

struct agent_options {
  std::string name;
  core::pkey key;  // the user's RSA key pair; PM_PUBKEY announces its public half
  std::size_t max_line = default_max_line;  // ITP-CLIENT-08: longest line sent, terminator excluded
  client_fault fault = client_fault::none;  // a planted bug (faults.hpp), for the client-role cases
};

class agent {
public:
  explicit agent(agent_options options);

  // The connection is up. Nothing is sent before the server's INIT (ITP-CLIENT-01).
  void on_open(agent_output& out);
  void on_data(std::string_view bytes, agent_output& out);
  // One line the user typed: text broadcasts, as typed (an empty line sends nothing); /users,
  // /pm NAME TEXT, /raw LINE, /keys, /quit, /help. Commands typed before the login completes (/quit too)
  // wait for it, in order. A command whose line would pass max_line is refused with an error event.
  void on_command(std::string_view line, agent_output& out);
  void on_closed(agent_output& out);

  bool logged_in() const noexcept { return logged_in_; }
  bool finished() const noexcept { return finished_; }

private:
  void handle_line(std::string_view line, agent_output& out);
  void run_command(std::string_view line, agent_output& out);
  void send_pm(const std::string& to, std::string_view text, agent_output& out);
  void forget_user(const std::string& name);
  // False, with an error event, when `line` (terminator included) is longer than the server takes.
  bool fits(const std::string& line, agent_output& out) const;
  void send(const client_message& message, agent_output& out);
  bool has(client_fault f) const noexcept { return options_.fault == f; }

  agent_options options_;
  core::line_framer framer_;
  bool greeted_ = false;
  bool ident_sent_ = false;
  bool logged_in_ = false;
  bool finished_ = false;
  bool quit_sent_ = false;
  std::deque<std::string> queued_commands_;
  std::map<std::string, core::pkey> public_keys_;
  std::map<std::string, session_key> sending_keys_;    // mine, per recipient (R13: keys are directional)
  std::map<std::string, session_key> receiving_keys_;  // theirs, per sender
  std::string last_pm_target_;
};

}  // namespace parley::itp
