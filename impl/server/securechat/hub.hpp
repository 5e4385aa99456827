// The securechat server as a pure state machine (spec/securechat/spec.md). One WebSocket message in per
// on_data call, JSON messages out; keys come from a lookup function, ids from a generator, so the hub
// does no I/O. The generic host runs it over WebSocket; the fuzzer and unit tests drive it directly.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "impl/core/crypto/pkey.hpp"
#include "impl/core/hub.hpp"
#include "impl/proto/securechat/codec.hpp"
#include "impl/server/securechat/faults.hpp"

namespace parley::securechat {

struct known_key {
  core::pkey key;
  std::string pem;  // what Welcome and AddUser carry: the store's PEM text
};
// The public key of a (valid) user name, or nothing when the store has none (SC-JOIN-06).
using key_lookup = std::function<std::optional<known_key>(std::string_view name)>;

struct hub_options {
  key_lookup keys;
  std::function<std::string()> make_id;  // default: new_message_id()
  fault planted = fault::none;
  millis login_timeout{60000};  // SC-JOIN-10: a connection that has not joined this long after it opened is closed
  // How a join's signature is checked; default verify_join (an RSA verify). Pure: the hub fuzzer memoizes
  // it by its arguments, as a 2048-bit verify per join would be most of an input's cost.
  std::function<bool(const known_key& key, std::string_view name, std::string_view signature_hex)> verify;
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
    auto it = sessions_.find(conn);
    return it != sessions_.end() && !it->second.name.empty();
  }

  // Introspection for tests and the fuzzer's invariants: sessions of open connections (not the ones fault
  // no-remove-on-drop has yet to notice are gone), and the joined names, those included.
  std::size_t session_count() const noexcept;
  std::vector<std::string> joined_names() const;

private:
  struct session {
    std::string name;  // empty until the join succeeds
    known_key key;
    bool gone = false;  // fault no-remove-on-drop: the connection closed and the hub has not noticed yet
    time_point join_deadline{};  // while not joined (SC-JOIN-10)
  };

  void before_join(core::conn_id conn, const decoded& in, core::actions& out);
  void join(core::conn_id conn, const std::string& id, const msg::join& m, core::actions& out);
  void after_join(core::conn_id conn, session& s, const decoded& in, core::actions& out);
  void refuse(core::conn_id conn, std::string text, std::optional<std::string> ref, core::actions& out);
  void quiet_close(core::conn_id conn, core::actions& out);

  void send(core::conn_id conn, message body, core::actions& out);
  void error(core::conn_id conn, std::string text, std::optional<std::string> ref, core::actions& out);
  // To every joined session except `except` (SC-USER-02: never to connections that have not joined).
  void broadcast(const message& body, core::conn_id except, core::actions& out);
  // Ends a session: RemoveUser to the others if it had joined (unless `announce` is false), state removed.
  void end_session(core::conn_id conn, bool announce, core::actions& out);
  // Fault no-remove-on-drop: a write to a session whose connection is gone is when the hub notices, as the
  // original does when a later write fails; the session then ends as a drop would have ended it.
  bool noticed_gone(core::conn_id conn, core::actions& out);
  bool planted(fault f) const noexcept { return options_.planted == f; }

  hub_options options_;
  // Fault hang-on-near-miss-command: the hub is stuck and handles nothing more, from anyone.
  bool stuck_ = false;
  std::map<core::conn_id, session> sessions_;
  std::map<std::string, core::conn_id, std::less<>> by_name_;
  std::vector<core::conn_id> join_order_;  // SC-WELCOME-02: users in join order
  std::set<std::pair<time_point, core::conn_id>> join_deadlines_;  // one per connection not joined
};

}  // namespace parley::securechat
