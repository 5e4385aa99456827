// The sslmessager client as a pure state machine: bytes from the server, typed lines and time in; lines to
// send and display events out (spec/sslmessager/spec.md §10). It logs in first, shows RELAY and CNT,
// ignores CHECK, and ends with END and a bounded wait. TLS and its verification are the driver's
// (impl/client/sslmessager_main.cpp).
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "impl/client/common/event.hpp"
#include "impl/client/sslmessager/faults.hpp"
#include "impl/proto/sslmessager/message.hpp"

namespace parley::sslmessager {

using event = client::event;

struct agent_output {
  std::vector<std::string> sends;  // whole lines (content SP CR LF), one write each
  std::vector<event> events;
  bool close = false;
};

struct agent_options {
  std::string name, password;
  client_fault fault = client_fault::none;  // a planted bug, for conformance tests only
};

inline constexpr millis quit_wait{2000};  // SSLM-CLIENT-06

class agent {
public:
  explicit agent(agent_options options) : options_(std::move(options)) {}

  void on_open(agent_output& out);  // AUTH first (SSLM-CLIENT-01)
  void on_data(std::string_view bytes, time_point now, agent_output& out);
  // @NAME TEXT, /msg NAME TEXT, /to NAME then plain TEXT, /quit, /help. Before ACCEPT, commands wait.
  void on_command(std::string_view line, time_point now, agent_output& out);
  void on_timer(time_point now, agent_output& out);
  void on_closed(agent_output& out);
  std::optional<time_point> next_wake() const;

  bool logged_in() const noexcept { return logged_in_; }
  bool finished() const noexcept { return finished_; }
  bool ended_cleanly() const noexcept { return ended_cleanly_; }

private:
  void handle(const std::string& content, time_point now, agent_output& out);
  void run_command(std::string_view line, time_point now, agent_output& out);
  void send_text(const std::string& target, std::string_view text, agent_output& out);
  void close(agent_output& out);
  void send(std::string_view content, agent_output& out);
  bool faulty(client_fault f) const noexcept { return options_.fault == f; }

  agent_options options_;
  message_reader reader_;
  bool logged_in_ = false;
  bool finished_ = false;
  bool ended_cleanly_ = false;  // the session ended with an END line, ours answered or the server's
  std::optional<time_point> quit_deadline_;
  std::string target_;  // for plain lines, set by /to
  std::string last_target_;
  std::deque<std::string> queued_;
  char last_byte_ = 0;  // the crlf-only fault's memory across reads
};

}  // namespace parley::sslmessager
