// A conformance case: a scripted exchange over named connections that checks one or more spec rules
// (conformance/cases/<protocol>/*.yaml). Loading validates every step, so a typo in a case file is a
// load error with file and line, never a silent PASS.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace parley::conform {

// What a case's user-name suffix is made of: lower case and digits without the look-alikes l, o, 0 and 1,
// so the names are valid in every protocol and read unambiguously in a wire log.
inline constexpr char user_suffix_alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

struct case_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class role { server, client };  // what the implementation under test is

// A duration written in a case: a number of milliseconds, or a sum of terms "[factor*]name|number"
// over the protocol's timing variables, e.g. "ping + pong + 500" or "1.1*ping".
struct duration_expr {
  std::string text;
  bool empty() const { return text.empty(); }
};

// A step's argument map. YAML::Node is a handle whose assignment writes through to the node it refers
// to, so copying, swapping or erasing steps would rewrite the arguments of every step sharing that node;
// this handle's assignment rebinds it instead, as a value would. (Copies still share the map: clone it
// before changing a copy's arguments.)
struct step_args : YAML::Node {
  step_args() = default;
  step_args(const YAML::Node& node) : YAML::Node(node) {}  // NOLINT: implicit, as a YAML::Node
  step_args(const step_args&) = default;
  step_args& operator=(const step_args& other) {
    reset(other);
    return *this;
  }
  step_args& operator=(const YAML::Node& other) {
    reset(other);
    return *this;
  }
};

struct step {
  std::string op;                   // connect, send, send_raw, expect, expect_silence, expect_none,
                                    // expect_close, close, reset, wait, accept, launch_client, client_input,
                                    // close_client_input, expect_event, expect_no_event, expect_alive, or
                                    // "<protocol>.<name>" for adapter steps
  std::string conn;                 // named connection (default "a")
  std::string text;                 // send: message text; send_raw: exact bytes; client_input: command
  std::vector<std::string> matches; // expect: regexes, any may match (any_of)
  std::vector<std::string> capture; // variable names for the regex groups 1..n
  std::vector<std::string> skip;    // expect: messages matching these are passed over (optional acks)
  bool icase = false;
  std::size_t repeat = 1;           // send_raw: the bytes this many times; client_input: the text
  std::string prefix;               // client_input: typed once before the repeated text ("/pm bob " + x*N)
  std::vector<std::size_t> split_at;// send/send_raw: write in pieces cut at these offsets
  duration_expr within;             // deadline for the step, from its start
  duration_expr not_before;         // expect: fail if the message came sooner than this after the last
                                    // bytes sent on the connection (or its connect), or after the message the
                                    // case's previous expect on it matched, whichever is later
  duration_expr gap;                // pause between split pieces
  duration_expr delay;              // client_input: how long the client must have been quiet (default
                                    // --type-delay; 0 types at once, for rules about races)
  std::string close_kind = "any";   // expect_close: fin, rst or any
  std::string from;                 // connect: the local address to connect from (e.g. 127.0.0.2)
  std::string rule;                 // the rule a failure of this step breaks (default: the adapter's rule for
                                    // the step, else the case's first rule)
  bool while_open = false;          // expect_alive: probe with the case's connections still open (default:
                                    // end them politely first, as a session ends)
  bool lenient = false;             // its failure is logged and the case goes on: the step only brings the
                                    // target to a state a later check is about (cases written by parley-fuzz)
  step_args args;                   // the step's own map, for adapter steps
  int line = 0;
};

struct test_case {
  std::string id;
  std::vector<std::string> rules;
  std::string description;
  conform::role role = conform::role::server;
  bool fresh = false;   // needs a server nobody else is using (counts users, e.g. FAIL06 when alone)
  bool timers = false;  // waits for the protocol's timers: needs controllable or real timings
  // `timers: [login]`: the timing variables it waits for, when not all of them: a launch command must then
  // hold these placeholders (one written before a timer was added lacks it and gets a SKIP, not a FAIL).
  std::vector<std::string> timer_vars;
  bool slow = false;    // takes long without timers (e.g. a flood of frames): started early in a run
  bool events_probe = false;  // client-role: run first, alone, to learn whether the client prints events
  std::vector<std::string> faults;  // faults of the reference server this case must catch
  std::string profile;  // runs only against a target that offers this profile (peerchat/2); else SKIP
  // The characters that make the case's user names unique (${alice} = alice_SUFFIX); empty: random per run.
  // A parley-fuzz finding pins the one it was found with: a target's defect may hang on the exact name.
  std::string suffix;
  // Runs the adapter's session watcher (a relayed message's sender traced to the connection that sent it):
  // parley-fuzz's violation cases found by a watcher need it to replay.
  bool watch = false;
  std::vector<step> steps;
  std::string file;
};

// Parses one YAML document (a case) or a sequence of them. `origin` names the file in errors.
std::vector<test_case> load_cases(const std::string& yaml_text, const std::string& origin);

// The case as one YAML document that load_cases reads back to the same case (line numbers aside).
std::string to_yaml(const test_case& c);

// The bytes a protocol step's argument `key` spells in hex (`payload_hex`, `body_hex`: what YAML text cannot
// carry); `text` is the argument as substituted. Throws case_error naming the step and its line otherwise.
std::string hex_argument(const step& s, const char* key, std::string_view text);

// Evaluates a duration in milliseconds; throws case_error for unknown names or malformed text.
double evaluate(const duration_expr& d, const std::map<std::string, double>& vars, double fallback);

}  // namespace parley::conform
