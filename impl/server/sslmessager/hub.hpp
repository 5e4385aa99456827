// The sslmessager server as a pure state machine (spec/sslmessager/spec.md): messages in, lines out, time
// passed in. It logs users in against the scrypt users file, relays MSG to its target under the sender's
// real name, answers CNT for offline targets, and writes CHECK to every online connection so that dead
// ones are found. The generic host runs it over TLS; the fuzzer and unit tests drive it directly.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "impl/core/hub.hpp"
#include "impl/proto/sslmessager/message.hpp"
#include "impl/proto/sslmessager/users.hpp"
#include "impl/server/sslmessager/faults.hpp"

namespace parley::sslmessager {

struct hub_options {
  std::map<std::string, user_entry> users;
  millis check_interval{60000};   // SSLM-CHECK-01
  millis login_timeout{120000};   // SSLM-CONN-06
  millis fragment{fragment_timeout};
  fault planted = fault::none;
  // How a password is checked; default verify_password (scrypt). The hub fuzzer replaces it with a cheap
  // comparison: the KDF has its own tests, and 50 ms per AUTH would starve the fuzzer.
  std::function<bool(const user_entry&, std::string_view)> verify;
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
    return it != conns_.end() && !it->second.name.empty();
  }

  std::size_t connection_count() const noexcept { return conns_.size(); }
  std::size_t online_count() const noexcept { return online_.size(); }

private:
  struct connection {
    message_reader reader;
    std::string name;  // set once online
    time_point opened{};
    time_point next_check{};
  };

  void handle(core::conn_id conn, connection& c, const std::string& content, time_point now, core::actions& out);
  void login(core::conn_id conn, connection& c, const client_msg::auth& a, time_point now, core::actions& out);
  void relay(core::conn_id conn, connection& c, const client_msg::msg& m, core::actions& out);
  void send(core::conn_id conn, std::string_view content, core::actions& out);
  // Writes `end_line` and closes; the user, if any, is offline at once (SSLM-CONN-04).
  void end(core::conn_id conn, std::string_view end_line, std::string why, core::actions& out);
  void go_offline(core::conn_id conn, connection& c);
  // Closes without a further line and forgets the connection.
  void forget(core::conn_id conn, std::string why, core::actions& out);
  void process(core::conn_id conn, std::vector<std::string>& messages, time_point now, core::actions& out);
  // The no-framing fault: one read is one message.
  void take_whole_read(core::conn_id conn, connection& c, std::string_view data, time_point now, core::actions& out);
  bool planted(fault f) const noexcept { return options_.planted == f; }

  hub_options options_;
  user_entry dummy_;  // checked against when the name is unknown, so every refusal costs the same (SSLM-AUTH-06)
  std::map<core::conn_id, connection> conns_;
  std::map<std::string, core::conn_id> online_;
};

}  // namespace parley::sslmessager
