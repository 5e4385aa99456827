// The securechat client as a pure state machine: user commands and received WebSocket messages in;
// messages to send and display events out. It signs the join, keeps the user list with its keys,
// encrypts and decrypts private texts (spec/securechat/spec.md §10, SC-CLIENT-*). The I/O driver is
// impl/client/securechat_main.cpp.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "impl/client/common/event.hpp"
#include "impl/client/securechat/faults.hpp"
#include "impl/core/crypto/pkey.hpp"

namespace parley::securechat {

using event = client::event;

struct agent_output {
  std::vector<std::string> sends;  // whole messages (one WebSocket text message each), in order
  std::vector<event> events;
  bool close = false;  // the session is over: close the connection after sending
};

struct agent_options {
  std::string name;
  core::pkey key;                        // the user's private RSA key; the server has its public half
  std::function<std::string()> make_id;  // default: new_message_id()
  client_fault fault = client_fault::none;  // a planted bug, for the client-role conformance cases
};

class agent {
public:
  explicit agent(agent_options options);

  // The connection is open: the JoinMessage goes out first (SC-CLIENT-01).
  void on_open(agent_output& out);
  void on_message(std::string_view text, agent_output& out);
  // One line the user typed: text is public; /pm NAME TEXT, /users, /keys, /raw JSON, /quit, /help.
  // Commands typed before the Welcome wait for it, in order (SC-CLIENT-01).
  void on_command(std::string_view line, agent_output& out);
  void on_closed(agent_output& out);

  bool welcomed() const noexcept { return welcomed_; }
  bool finished() const noexcept { return finished_; }

private:
  struct known_user {
    core::pkey key;
    std::string pem;
  };

  void run_command(std::string_view line, agent_output& out);
  void send_private(const std::string& to, std::string_view text, agent_output& out);
  void learn(const std::string& name, const std::string& pem, bool announce, agent_output& out);
  void send(std::string text, agent_output& out) { out.sends.push_back(std::move(text)); }
  std::optional<std::string> join_signature() const;
  bool faulty(client_fault f) const noexcept { return options_.fault == f; }
  std::string id() const { return options_.make_id(); }

  agent_options options_;
  bool welcomed_ = false;
  bool finished_ = false;
  std::deque<std::string> queued_commands_;
  std::map<std::string, known_user> users_;
};

}  // namespace parley::securechat
