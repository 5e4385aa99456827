// Runs cases against a target and turns each into per-rule verdicts with its wire log.
#pragma once

#include <any>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/verdict.hpp"
#include "impl/net/stream.hpp"

namespace parley::cli {
class process;
}  // namespace parley::cli

namespace parley::conform {

enum class target_kind { builtin, address, launch };

struct run_settings {
  target_kind kind = target_kind::builtin;
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string launch_command;  // with {port} and optional timing placeholders such as {ping}
  bool fresh = false;          // a new launched instance per case
  bool real_time = false;      // the spec's own timings everywhere
  bool strict = false;         // SHOULD failures are FAIL, not WARN
  double time_scale = 1.0;     // stretches every deadline
  bool test_servers = true;    // run server-role cases
  bool test_clients = true;    // run client-role cases
  std::string client_command;  // client under test, with {port} and {name}; empty: the reference client
  std::string bin_dir;         // where parley-conform lives (to find parley-client)
  std::string record_dir;      // when set, the bytes of every case are written there as fuzz seeds
  std::string log_dir;         // where launched processes write their output
  std::string keys_dir;        // --keys: private keys of the users the target knows (securechat)
  std::vector<std::string> accounts;  // --user NAME:PASSWORD, repeatable: accounts the target knows (sslmessager)
  int repeat = 1;              // --repeat: every case this many times; rules whose verdicts differ are FLAKY
  std::string profile;         // --profile: the profile the target offers (else detected by the preflight)
  std::string ready_regex;     // --ready: a launched target is ready when its output matches
  double ready_delay_ms = -1;  // --ready-delay: ... or after this long; else when it accepts a connection
  const std::atomic<bool>* interrupted = nullptr;  // set by SIGINT/SIGTERM: finish no further step
  double type_delay_ms = 50;   // --type-delay: typed input waits until the client has been quiet this long
  bool no_events = false;      // --no-events: the client under test prints no JSON events
  net::traffic_tap* tap = nullptr;  // --pcap, --keylog: sees every socket the cases open, accept or bind
};

// One named connection of a case.
struct connection {
  std::unique_ptr<net::stream> stream;
  std::unique_ptr<message_framer> framer;
  std::deque<std::pair<time_point, std::string>> inbox;  // framed messages not yet expected
  net::read_status end = net::read_status::data;          // data while open; closed/reset/error once ended
  std::string framing_error;
  int index = 0;           // creation order, for the recorded fuzz seeds
  int serial = 0;          // unique in the case even when a name is reused: the session watcher's key
  time_point opened;       // when the connect completed
  std::size_t received = 0;  // bytes received
  time_point last_activity;  // the last bytes sent or received
  // Where a server's timer can have started, for `not_before`: no earlier than the last bytes we sent (or
  // the start of our connect), and no earlier than the arrival of the message the case last waited for.
  time_point last_sent;
  time_point last_matched;   // arrival of the message the last expect (any caller's) matched
  time_point case_matched;   // ... the last expect step of the case itself matched
  bool ours = false;       // the engine opened it (server-role): it ends it politely at the end of the case
  std::string write_error;  // why a write failed: later writes fail at once (the socket is broken)
};

// Why a failed step's connection was lost, for the runner's health checks.
struct transport_trouble {
  bool lost = false;   // the step failed because a connection could not be made or was ended by the peer
  bool fresh = false;  // ... a connection that had delivered no byte and was under a second old
  std::string conn;
};

// What a step sees: the case's connections, variables and timing. Adapter steps use the same methods.
class case_context {
public:
  case_context(const adapter& a, const run_settings& s, const timing& t, std::string host, unsigned short port);
  ~case_context();

  // ${name} -> value. With regex = true the values are escaped so they match literally.
  std::string substitute(const std::string& text, bool regex = false) const;
  void set(const std::string& name, std::string value) { vars_[name] = std::move(value); }
  // The 4 characters that make the case's user names unique (${alice} = alice_SUFFIX); random by default,
  // chosen by parley-fuzz so that a run is the same from the same seed.
  void use_suffix(const std::string& suffix);
  std::string get(const std::string& name) const;
  double ms(const duration_expr& d, double fallback) const;     // evaluated, not scaled
  time_point deadline(const duration_expr& d, double fallback_ms) const;  // scaled, from now

  // Each returns "" on success, else the failure text.
  // `from`: a local address to bind first (loopback aliases make one machine look like several hosts).
  std::string connect(const std::string& name, time_point deadline, const std::string& from = {});
  std::string send(const std::string& name, std::string_view bytes, const std::vector<std::size_t>& split_at = {},
                   millis gap = millis(0));
  // `bytes` written under the connection's message layer (net::stream::write_below): a frame built by hand.
  // `carried` is the message it carries, for the log and the session watcher.
  std::string send_below(const std::string& name, std::string_view bytes, std::string_view carried);
  // The next message on the connection must match one of `patterns` (already substituted regexes).
  std::string expect(const std::string& name, const std::vector<std::string>& patterns, time_point deadline,
                     const std::vector<std::string>& capture = {}, bool icase = false,
                     std::optional<time_point> not_before = std::nullopt, const std::vector<std::string>& skip = {});
  // The earliest time a timer the peer runs on `name` can have started (see connection::last_sent), and,
  // after an expect step of the case, the message it matched as the start of the next one.
  time_point timer_origin(const std::string& name);
  void timer_restarts_at_last_match(const std::string& name);
  // The next `count` messages must all match `pattern` (for floods of identical answers).
  std::string expect_count(const std::string& name, const std::string& pattern, std::size_t count, time_point deadline);
  // Whether `name` is one of the user names this case made (${alice} ... ${erin}, ${name3}, ...).
  bool is_case_user(std::string_view name) const;
  std::string expect_silence(const std::string& name, time_point until);
  // No message matching one of `patterns` arrives until `until` (those already waiting count too); other
  // messages stay for later steps. For "the sender gets no copy", which does not forbid the sender its OK.
  std::string expect_none(const std::string& name, const std::vector<std::string>& patterns, time_point until,
                          bool icase = false);
  // The connection ends (kind fin, rst or any); messages matching `skip` may come first (an optional
  // goodbye), anything else fails.
  std::string expect_close(const std::string& name, const std::string& kind, time_point deadline,
                           const std::vector<std::string>& skip = {});
  // Whether a connection of that name was opened or accepted and has not ended.
  bool is_open(const std::string& name) const {
    auto it = conns_.find(name);
    return it != conns_.end() && it->second.end == net::read_status::data;
  }
  // The engine ends the connection: orderly (FIN) or abortive (RST). Its name stays known.
  std::string close(const std::string& name, bool reset);
  // Reads whatever the open connections still hold until the deadline, so a failed case's wire log shows
  // what every connection received, not only the one the failing step read.
  void drain(time_point deadline);
  // Ends every connection still open (the end of a case), so a shared target sees its users leave:
  // politely (the adapter's farewell, then a graceful close of the transport) when `polite`.
  void end_sessions(bool polite);

  // Attribution. The runner sets the running step's rule; a step may name another rule for its failure
  // (itp.login's missing INIT breaks ITP-CONN-01): `return ctx.blame(rule, failure);`.
  void begin_step(const std::string& rule, bool keepalives_visible);
  std::string blame(const std::string& rule, std::string failure);
  std::string take_blame();
  // A broken rule that does not stop the case (recorded once per rule).
  void finding(const std::string& rule, const std::string& message);
  std::vector<conform::finding> take_findings();
  // From now on the adapter's session watcher sees the case's traffic; its verdicts become findings when
  // the session ends (take_watch_findings).
  void watch_sessions() { watcher_ = adapter_.make_watcher(); }
  // An adapter step tells the watcher what it sealed before sending it on `name` (see session_watcher).
  void watch_sealed(const std::string& name, const std::string& message) {
    if (watcher_) watcher_->sent_sealed(watch_key(name, conn(name)), message);
  }
  void take_watch_findings();
  bool interrupted() const;  // SIGINT/SIGTERM: steps give up at once
  // The case cannot tell anything about its rules this time (a user the target still holds from an
  // earlier case): the runner runs it once more, with `why` in the report.
  void retry(std::string why) { retry_ = std::move(why); }
  const std::string& retry_reason() const { return retry_; }
  // Set when the last failed step failed for want of a connection.
  const transport_trouble& trouble() const { return trouble_; }

  void note(const std::string& conn, char direction, std::string_view printable_text);
  message_framer* framer_of(const std::string& name) { return conn(name).framer.get(); }
  std::map<std::string, std::any>& objects() { return objects_; }  // adapter-private state (keys, ...)

  // Client-role plumbing.
  std::string listen();
  std::string accept(const std::string& name, time_point deadline);
  std::string launch_client(const std::string& user);
  cli::process* client() { return client_.get(); }
  // The tail of what the launched client wrote to stderr.
  std::string client_output_tail(std::size_t max = 4000) const;
  // Types a line as a person would: once the client has read all the engine sent it and nothing has
  // moved on its connections (or its output) for `delay` ms, at most a few seconds. A zero delay types at
  // once (for rules about races).
  std::string type_line(const std::string& line, millis delay);
  // The client under test prints no JSON events (detected once per run, or --no-events): event checks are
  // skipped and the rules only they could show are SKIP.
  bool events_off = false;
  std::vector<wire_entry> take_wire() { return std::move(wire_); }
  const std::vector<wire_entry>& wire() const { return wire_; }
  std::string take_record();  // the case's bytes in the hub fuzzer's record format

  const adapter& protocol() const { return adapter_; }
  // Where the server under test listens (server-role cases), for steps that open connections of their own.
  const std::string& target_host() const { return host_; }
  unsigned short target_port() const { return port_; }
  // Only a server under test is shared with other cases, so only then is foreign traffic filtered.
  bool filter_noise = true;
  const run_settings& settings() const { return settings_; }
  // Called before every connection the case opens (the runner paces connects to a target that resets
  // connections opened close together).
  std::function<void()> before_connect;

private:
  connection& conn(const std::string& name);
  // The session watcher's name for a connection: a name a case reuses for a new connection is another
  // connection to the watcher, told apart by its serial ("a#0", "a#2").
  static std::string watch_key(const std::string& name, const connection& c) {
    return name + "#" + std::to_string(c.serial);
  }
  bool read_more(connection& c, const std::string& name, time_point deadline);
  std::string next_message(connection& c, const std::string& name, time_point deadline, const std::string& wanted,
                           std::pair<time_point, std::string>& out);
  // Frames what one read returned (or records how the connection ended) into the connection's inbox.
  void absorb(connection& c, const std::string& name, net::read_result got);
  // Reads what is already waiting on the open connections but `except`, so messages are logged when they
  // came.
  void sweep(const connection* except);
  // A keep-alive that the running step is not about: answered and passed over. True when it was one.
  bool pass_over_keepalive(connection& c, const std::string& name, const std::string& message);
  std::string lost(const std::string& name, std::string failure);
  std::string write_on(const std::string& name, connection& c, std::string_view bytes, bool below);
  static std::string shown(std::string_view bytes);
  void record(int op, int conn_index, std::string_view data);

  const adapter& adapter_;
  const run_settings& settings_;
  timing timing_;
  std::string host_;
  unsigned short port_;
  time_point started_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, connection> conns_;
  int connections_made_ = 0;
  std::map<std::string, std::any> objects_;
  std::vector<wire_entry> wire_;
  std::unique_ptr<net::listener> listener_;
  std::unique_ptr<cli::process> client_;
  std::string client_log_;
  time_point last_typed_{};
  std::string record_;
  time_point last_record_;
  std::string step_rule_;
  bool keepalives_visible_ = false;
  std::string blame_;
  std::vector<conform::finding> findings_;
  std::unique_ptr<session_watcher> watcher_;
  transport_trouble trouble_;
  std::string retry_;
};

}  // namespace parley::conform
