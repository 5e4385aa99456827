// The peerchat rendezvous server as a pure state machine (spec/peerchat/spec.md §3-§5, §8.2): lines in,
// lines out, time passed in. It registers names (with an optional Ed25519 key), lists the other users,
// and negotiates a UDP port between two users in rounds before introducing them with STARTCHAT. It never
// carries chat text. The generic host runs it over TCP or TLS; the fuzzer and unit tests drive it directly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "impl/core/hub.hpp"
#include "impl/core/line_framer.hpp"
#include "impl/proto/peerchat/rendezvous.hpp"
#include "impl/server/peerchat/faults.hpp"

namespace parley::peerchat {

struct hub_options {
  millis port_timeout{10000};          // how long an answer to PORT may take (PC-PORT-05)
  millis register_timeout{60000};      // how long a connection may stay unregistered (PC-CONN-04)
  std::size_t max_connections = 1024;  // beyond this a connection gets ERROR Server_full (PC-LIMIT-01)
  fault planted = fault::none;
  // 32 uniformly random bits per call, from which ports are drawn. Default: OpenSSL's RAND_bytes, a
  // CSPRNG (PC-PORT-07). Tests and the fuzzer pass a deterministic source; one that repeats itself
  // still never yields a port twice in a negotiation.
  std::function<std::uint32_t()> random;
};

class hub final : public core::hub {
public:
  explicit hub(hub_options options);

  // `peer` is the host's "address:port" of the remote end; its address goes into STARTCHAT (PC-START-02).
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
  std::size_t registered_count() const noexcept { return names_.size(); }
  std::size_t negotiation_count() const noexcept { return talks_.size(); }

private:
  struct connection {
    core::line_framer framer;
    std::string address;  // the remote IP as STARTCHAT writes it
    std::string name;     // set once registered
    std::optional<public_key> key;
    time_point opened{};
    std::uint64_t talk = 0;  // the negotiation this user is part of; 0: none
  };

  // One CHAT being negotiated. `asked` is the connection whose answer is pending; `second` says whether
  // it is the second user asked this round (the first one has accepted).
  struct negotiation {
    core::conn_id requester = 0;
    core::conn_id target = 0;
    std::set<unsigned> offered;
    unsigned port = 0;
    int round = 0;
    core::conn_id asked = 0;
    bool second = false;
    std::optional<time_point> deadline;
  };

  void handle(core::conn_id conn, const std::string& text, time_point now, core::actions& out);
  void register_user(core::conn_id conn, connection& c, const client_line& line, core::actions& out);
  void list_users(core::conn_id conn, core::actions& out);
  void chat(core::conn_id conn, connection& c, const std::string& name, time_point now, core::actions& out);
  void answer(core::conn_id conn, connection& c, const client_line& line, time_point now, core::actions& out);

  void start_round(std::uint64_t talk, time_point now, core::actions& out);
  void ask(negotiation& n, core::conn_id conn, time_point now, core::actions& out);
  void start_chat(std::uint64_t talk, core::actions& out);
  // Ends a negotiation with ERROR Chat_aborted to each of its users still connected.
  void abort(std::uint64_t talk, core::actions& out);
  void end_talk(std::uint64_t talk);
  unsigned draw_port(const std::set<unsigned>& offered);

  void send(core::conn_id conn, std::string line, core::actions& out);
  // The line as written on the wire: the codec's LF, or the crlf-lines fault's CR LF.
  std::string terminated(std::string line) const;
  // The connection has ended or is being closed: its name is free (PC-REG-05) and its negotiation aborted.
  void forget(core::conn_id conn, core::actions& out);
  // Forgets the connection and asks the host to close it; the host does not report that close back.
  void close(core::conn_id conn, std::string why, core::actions& out);
  bool planted(fault f) const noexcept { return options_.planted == f; }
  // The hello-v1-only fault: a whole peerchat/1 server, a legitimate profile rather than a bug.
  bool v1_only() const noexcept { return planted(fault::hello_v1_only); }

  hub_options options_;
  std::map<core::conn_id, connection> conns_;
  std::map<std::string, core::conn_id> names_;
  std::vector<core::conn_id> registration_order_;  // LISTUSERS order (PC-LIST-01)
  std::set<std::string> ghosts_;                   // fault keep-name-after-close only
  std::map<std::uint64_t, negotiation> talks_;
  std::uint64_t last_talk_ = 0;
};

}  // namespace parley::peerchat
