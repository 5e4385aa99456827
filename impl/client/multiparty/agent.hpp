// The multiparty client as a pure state machine: bytes from the server and user commands in; frames to
// send and display events out. It logs in (spec §6, pinning the server's key), checks every server frame
// (MP-CLIENT-05), answers status_req and forwarded messages, and encrypts one part per recipient
// (spec §13). The I/O driver is impl/client/multiparty_main.cpp.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "impl/client/common/event.hpp"
#include "impl/client/multiparty/faults.hpp"
#include "impl/proto/multiparty/login.hpp"

namespace parley::multiparty {

using event = client::event;

struct agent_output {
  std::vector<std::string> sends;  // whole frames, in order
  std::vector<event> events;
  bool close = false;  // the connection must end after sending
};

struct agent_options {
  std::string name;
  core::pkey key;            // the user's private RSA key
  core::pkey server_public;  // pinned: the login fails unless the server proves it holds the private half
  std::function<std::uint64_t()> unix_ms;  // default: the system clock
  client_fault fault = client_fault::none;  // a planted bug (faults.hpp); none by default
};

class agent {
public:
  explicit agent(agent_options options);

  // The connection is open: the login_req goes out first (MP-CLIENT-01).
  void on_open(agent_output& out);
  void on_data(std::string_view bytes, agent_output& out);
  // /init NAME..., /accept SID, /decline SID, /msg SID TEXT, /close SID, /status [NAME], /users,
  // /sessions, /quit, /help. Commands typed before the login finishes wait for it, in order.
  void on_command(std::string_view line, agent_output& out);
  void on_closed(agent_output& out);

  bool logged_in() const noexcept { return logged_in_; }
  bool finished() const noexcept { return finished_; }

private:
  struct session {
    user_id creator = 0;
    std::vector<user_id> recipients;  // whom /msg addresses (the creator: who accepted; others: everyone invited)
    bool closed = false;
  };
  struct unsent {  // the last text sent in a session, kept to resend without a non-member (MP-CLIENT-11)
    std::string text;
    std::vector<user_id> to;
  };

  void on_login_res(const bytes& frame, agent_output& out);
  void on_frame(const bytes& frame, agent_output& out);
  void on_forwarded_msg(const opened_frame& f, agent_output& out);
  void on_msg_res(const opened_frame& f, agent_output& out);
  void run_command(std::string_view line, agent_output& out);
  void send_text(session_id sid, std::string_view text, std::vector<user_id> to, agent_output& out);
  void send_frame(msg_type type, session_id sid, std::string_view payload, agent_output& out);
  void fail(std::string code, std::string text, agent_output& out);  // closes the connection
  void refuse_frame(std::string text, agent_output& out);  // a server frame that closes the connection (MP-CLIENT-05)
  bool has(client_fault f) const noexcept { return options_.fault == f; }
  void error(std::string code, std::string text, agent_output& out);  // a local error; nothing is sent

  std::string name_of(user_id uid) const;
  std::optional<user_id> uid_named(std::string_view name) const;
  const directory_entry* entry_of(user_id uid) const;

  agent_options options_;
  user_id own_uid_;
  frame_reader reader_;
  login_secrets login_;
  session_keys keys_;
  sequence in_, out_;
  bool logged_in_ = false;
  bool finished_ = false;
  std::vector<directory_entry> directory_;
  std::deque<std::string> queued_commands_;
  std::map<session_id, session> sessions_;
  std::set<session_id> invitations_;  // invite_req received, not answered yet
  std::map<session_id, unsent> last_sent_;
};

}  // namespace parley::multiparty
