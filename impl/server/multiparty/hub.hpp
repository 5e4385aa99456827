// The multiparty server as a pure state machine (spec/multiparty/spec.md): MTP frames in, frames out,
// time passed in. It routes end-to-end message parts it cannot read, keeps sessions, invites and
// memberships, and checks that silent clients are still there (status_req). The generic host runs it over
// TCP; the fuzzer and unit tests drive it directly.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "impl/core/hub.hpp"
#include "impl/proto/multiparty/login.hpp"
#include "impl/proto/multiparty/payload.hpp"
#include "impl/server/multiparty/faults.hpp"

namespace parley::multiparty {

inline constexpr std::size_t max_open_sessions = 64;  // per creator (MP-INIT-05)

struct hub_options {
  core::pkey server_key;                       // private; clients know its public half
  std::vector<directory_entry> users;          // who may log in, in directory order
  millis status_interval{30000};               // a client silent this long gets a status_req
  millis status_timeout{3000};                 // ... and is closed when it does not answer in time
  // A connection that has not logged in within status_interval + status_timeout is closed (MP-LOGIN-16).
  millis tk_memory{240000};                    // how long an accepted login's tk is refused again (MP-LOGIN-12)
  std::function<std::uint64_t()> unix_ms;      // wall clock for login timestamps; default: the system clock
  std::function<bytes(std::size_t)> random;    // default: core::random_bytes
  fault planted = fault::none;
  // How a login_req is opened (default open_login_req with server_key: an RSA-OAEP decrypt) and its
  // signature checked (default verify_login: an RSA verify). Both are pure; the hub fuzzer memoizes them,
  // as a 2048-bit private operation per login would leave it a few hundred inputs a second.
  std::function<result<login_request>(byte_view frame)> open_login;
  std::function<bool(const directory_entry& user, const login_request& request)> verify_login;
};

class hub final : public core::hub {
public:
  explicit hub(hub_options options);

  void on_connect(core::conn_id conn, std::string_view peer, time_point now, core::actions& out) override;
  void on_data(core::conn_id conn, std::string_view data, time_point now, core::actions& out) override;
  void on_timer(time_point now, core::actions& out) override;
  void on_close(core::conn_id conn, time_point now, core::actions& out) override;
  std::optional<time_point> next_wake() const override;
  bool signed_in(core::conn_id conn) const override {
    auto it = conns_.find(conn);
    return it != conns_.end() && it->second.user != nullptr;
  }

  // Introspection for tests and the fuzzer's invariants.
  std::size_t connection_count() const noexcept { return conns_.size(); }
  std::size_t online_count() const noexcept { return online_.size(); }
  std::vector<user_id> members(session_id sid) const;

private:
  struct connection {
    frame_reader reader;
    const directory_entry* user = nullptr;  // set by a successful login
    session_keys keys;
    sequence in, out;
    time_point opened{};
    time_point last_heard{};                 // the last complete, accepted frame (or the login)
    std::optional<time_point> status_sent;   // our status_req that no status_res has answered yet
  };
  struct session {
    user_id creator = 0;
    std::vector<user_id> invited;     // in init_req order
    std::set<user_id> members;        // the creator and those who accepted
    std::set<user_id> pending;        // invited, online, not yet answered
    std::set<user_id> answered;       // invitees whose answer (or disconnect) has been counted
    bool closed = false;
  };

  void handle_frame(core::conn_id conn, connection& c, const bytes& frame, time_point now, core::actions& out);
  void login(core::conn_id conn, connection& c, const bytes& frame, time_point now, core::actions& out);
  void on_init(connection& c, const opened_frame& f, core::actions& out);
  void on_invite_res(connection& c, const opened_frame& f, core::actions& out);
  void on_msg_req(connection& c, const opened_frame& f, core::actions& out);
  bool claims_member(const header& h) const;
  void on_msg_res(connection& c, const opened_frame& f, core::actions& out);
  void on_close_req(connection& c, const opened_frame& f, core::actions& out);
  void on_status_req(connection& c, const opened_frame& f, core::actions& out);

  // Seals and queues one frame to a logged-in user's connection; false when it is not online.
  bool send_to(user_id uid, msg_type type, session_id sid, user_id from, std::string_view payload, core::actions& out);
  void reply(connection& c, msg_type type, session_id sid, std::string_view payload, core::actions& out);
  void drop(core::conn_id conn, std::string reason, core::actions& out);
  void forget(core::conn_id conn, core::actions& out);
  session_id new_sid();
  std::size_t open_sessions_created_by(user_id uid) const;
  const directory_entry* find_user(user_id uid) const;
  bool planted(fault f) const noexcept { return options_.planted == f; }
  millis login_timeout() const noexcept { return options_.status_interval + options_.status_timeout; }
  // Whether tk was used by a login accepted within tk_memory; remembers it if not.
  bool tk_seen_before(const bytes& tk, time_point now);

  hub_options options_;
  std::string directory_lines_;  // of every login_res: the users never change
  std::map<core::conn_id, connection> conns_;
  std::map<user_id, core::conn_id> online_;
  std::map<session_id, session> sessions_;  // closed ones stay, so a sid is never handed out twice
  // Forwarded msg_req not yet answered, per (session, recipient): whom the next msg_res goes back to.
  std::map<std::pair<session_id, user_id>, std::deque<user_id>> awaiting_;
  // SHA-256 of each accepted login's tk and when it was accepted, oldest first (MP-LOGIN-12).
  std::deque<std::pair<time_point, bytes>> used_tks_;
  std::set<bytes> used_tk_set_;
};

}  // namespace parley::multiparty
