// What the generic engine needs to know about one protocol: how its bytes become messages, how a case's
// `send` text becomes bytes, its timing variables, its built-in reference server and client, and the
// protocol's own steps (signing, encrypting, corrupting). One adapter per conformance/adapters/<p>/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/engine/case.hpp"
#include "impl/net/stream.hpp"

namespace parley::conform {

class case_context;  // runner.hpp
struct run_settings;  // runner.hpp

// A rule broken by something the engine noticed on the way, without stopping the case: a line whose
// terminator has the wrong form, a target that resets connections opened close together.
struct finding {
  std::string rule;
  std::string message;
};

// Splits one connection's byte stream into messages. A framing error ends the connection's stream.
class message_framer {
public:
  virtual ~message_framer() = default;
  virtual void feed(std::string_view bytes) = 0;
  // The next whole message as text to match against; nullopt when more bytes are needed.
  // Throws nothing: a framing error is returned as an error string in `error`.
  virtual std::optional<std::string> next(std::string& error) = 0;
  // Form defects seen since the last call (each rule once is enough). A framer that hands cases the
  // content of a message, as the spec's receiver reads it, reports the form here, so that one defect of
  // form is one finding against the framing rule instead of a failure of every case that reads a line.
  virtual std::vector<finding> take_findings() { return {}; }
  // Whether next() returns text already escaped for printing (core::printable), so logs do not escape twice.
  virtual bool renders_printable() const { return false; }
};

// Watches what a session's connections say to each other, for what no single connection shows: a message
// relayed under a sender that did not send it. Fed every write the engine makes and every message it
// receives; judges once the session is over, when every connection's answers are in (a login's answer
// may still be unread on its connection when another connection's relay arrives). parley-fuzz's sessions
// use one, since their lenient steps expect nothing of a mutated exchange. Connections are named "a#0":
// the case's name for it and its place among the case's connections (a name may be reused).
class session_watcher {
public:
  virtual ~session_watcher() = default;
  virtual void sent(const std::string& conn, std::string_view bytes) = 0;
  // What an adapter step sealed before it went out (multiparty: a frame's plaintext, as the protocol's
  // framer renders what it receives), since sealed bytes tell a watcher nothing. Called before sent().
  virtual void sent_sealed(const std::string& /*conn*/, const std::string& /*message*/) {}
  virtual void received(const std::string& conn, const std::string& message) = 0;
  virtual std::vector<finding> verdicts() = 0;
};

// What the preflight learned about a target before the first case.
struct identity {
  std::string problem;                // "" when the target speaks the protocol, else what it did instead
  std::vector<std::string> profiles;  // the profiles it offers (empty: the protocol has none)
  std::string note;                   // for the report, e.g. "offers peerchat/1 only"
};

// A reference server running inside the engine (no arguments needed: `parley-conform itp`).
class builtin_server {
public:
  virtual ~builtin_server() = default;
  virtual unsigned short port() const = 0;
};

struct timing {
  std::map<std::string, double> vars;  // e.g. ping, pong: milliseconds
};

class adapter {
public:
  virtual ~adapter() = default;
  virtual std::string protocol() const = 0;
  virtual unsigned short default_port() const = 0;
  virtual std::unique_ptr<message_framer> make_framer() const = 0;
  // The framer of one connection, told whose bytes it reads: `from_target_server` when the engine opened
  // the connection to a server under test (the server's form rules apply to them), false when a client
  // under test connected to the engine. By default the same framer either way.
  virtual std::unique_ptr<message_framer> make_framer_for(bool /*from_target_server*/) const { return make_framer(); }
  // The protocol's session watcher (nullptr: none yet).
  virtual std::unique_ptr<session_watcher> make_watcher() const { return nullptr; }
  // A case's `send` text to wire bytes (itp: append "\n").
  virtual std::string encode(const std::string& text) const = 0;
  // The spec's timings, and the short ones used where the engine controls the server.
  virtual timing real_timing() const = 0;
  virtual timing fast_timing() const = 0;
  // Starts the reference server with the given timing; the returned object stops it when destroyed.
  virtual std::unique_ptr<builtin_server> start_builtin(const timing& t) const = 0;
  // The reference client's command, with {port} and {name} placeholders, given the engine's own folder.
  virtual std::string reference_client_command(const std::string& bin_dir) const = 0;
  // The reference server's arguments after `parley-server PROTOCOL`, with {port}, the timing and the
  // adapter's placeholders: how parley-fuzz launches it when given no target.
  virtual std::string reference_server_arguments() const { return "--port {port}"; }
  // Runs a protocol step ("itp.login"). Returns an empty string on success, else what went wrong; a
  // failure may name the rule it breaks with case_context::blame. Throws case_error for a malformed step.
  virtual std::string run_step(const step& s, case_context& ctx) const = 0;
  // The rule a protocol step's failure breaks when the step does not name one: a login step's failure
  // breaks the login rule, whatever the case is about ("" : the case's first rule).
  virtual std::string step_rule(const step&) const { return {}; }
  // A protocol step that only prepares or acts (makes a key, encrypts a text, writes a frame) and so
  // checks nothing of the target: like a send, it serves the check after it and takes its rule.
  virtual bool acts_only(const step&) const { return false; }
  // The rule a client under test breaks when it never connects (an `accept` step without a rule of its
  // own); "" : the rule of the check the accept serves.
  virtual std::string client_connect_rule() const { return {}; }
  // True for a message that belongs to another case sharing the same target (a broadcast about a user
  // this case did not create). Such messages are logged and never matched.
  virtual bool is_noise(const std::string& message, const case_context& ctx) const = 0;

  // The transport: TCP unless the protocol says otherwise (securechat: WebSocket). `tap` (may be null) is
  // given to the socket, or to the listener for every connection it accepts (run_settings::tap).
  virtual result<std::unique_ptr<net::stream>> connect(const std::string& host, unsigned short port,
                                                       time_point deadline, net::traffic_tap* tap) const {
    return net::connect_tcp(host, port, deadline, {}, tap);
  }
  // The same from a given local address (the `from` of a connect step). Plain TCP by default; a protocol
  // on another transport that needs it overrides this.
  virtual result<std::unique_ptr<net::stream>> connect_from(const std::string& host, unsigned short port,
                                                            const std::string& local, time_point deadline,
                                                            net::traffic_tap* tap) const {
    return net::connect_tcp(host, port, deadline, local, tap);
  }
  virtual result<std::unique_ptr<net::listener>> listen(const std::string& host, net::traffic_tap* tap) const {
    return net::listen_tcp(host, 0, tap);
  }

  // Once per run, before any case: e.g. make or load the users' keys. Returns "" or why the run cannot go on.
  virtual std::string prepare(const run_settings&) { return {}; }
  // Cases run at once when -j is not given. Suites whose cases mostly wait on peers' timers (peerchat's
  // UDP chats) can run more of them side by side than CPU-bound ones.
  virtual int default_jobs() const { return 4; }
  // The timing variables a client under test runs on (peerchat: keepalive, peer_timeout, connect_timeout):
  // a client-role case marked `timers` needs them as placeholders in the client's command, else it is
  // skipped (unless --real-time).
  virtual std::vector<std::string> client_timing() const { return {}; }
  // Extra placeholders for --launch commands and client commands, e.g. {keys}.
  virtual std::map<std::string, std::string> placeholders() const { return {}; }
  // Around each case: e.g. lease the user names a case may use on a shared target. `shared` is true when
  // other cases use the same server at the same time. begin_case returns "" or why the case cannot run.
  virtual std::string begin_case(case_context&, bool /*shared*/) const { return {}; }
  virtual void end_case(case_context&) const {}

  // Target health and manners.
  // Before the first case: does the target at ctx's address speak this protocol at all, and which
  // profiles does it offer? Must be polite (a fragile server must survive it) and end its session.
  virtual identity identify(case_context& ctx) const;
  // The profiles a target of this protocol may offer, the fullest last (peerchat: peerchat/1, peerchat/2);
  // empty when the protocol has none. --profile takes a name or its short form (v1 for peerchat/1).
  virtual std::vector<std::string> profiles() const { return {}; }
  // Whether the target still serves users after what a case did to it (expect_alive, parley-fuzz's
  // liveness oracle): steps in a case's YAML form that log a new user in on connection `alive` and make one
  // round trip, then leave. ${probe} is a user name unique to the case. "" : the preflight (identify) is
  // the probe.
  virtual std::string probe_steps() const { return {}; }
  // The rule that sessions are served independently: what a target breaks when it resets connections
  // opened close together, or dies because of one session's input.
  virtual std::string independence_rule() const { return {}; }
  // The rule a client breaks when something a server sent makes it crash (a signal, an uncaught exception,
  // a sanitizer report): what parley-fuzz --role client charges, and client-role expect_alive checks.
  virtual std::string client_robustness_rule() const { return {}; }
  // What the engine writes to end a session politely at the end of a case (itp: QUIT), given what the
  // connection's framer saw; "" for nothing. The transport is then closed gracefully.
  virtual std::string farewell(message_framer&) const { return {}; }
  // A keep-alive the server may send at any time (itp: PING): the answer to write back ("" for none), or
  // nullopt for an ordinary message. Outside the cases of keepalive_rules() the engine answers it and
  // passes over it, so a case never fails for a keep-alive it was not about.
  // `framer` is the connection's own, for an answer that depends on the connection (multiparty's is sealed
  // under the connection's key with its next sequence number).
  virtual std::optional<std::string> keepalive_answer(message_framer& /*framer*/, const std::string& /*message*/) const {
    return std::nullopt;
  }
  // Rule ids, or prefixes ending in '-', whose steps see keep-alives as ordinary messages.
  virtual std::vector<std::string> keepalive_rules() const { return {}; }
};

// Every adapter the engine knows, by protocol name.
const std::map<std::string, std::function<std::unique_ptr<adapter>()>>& adapters();

}  // namespace parley::conform
