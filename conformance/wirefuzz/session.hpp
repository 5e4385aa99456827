// One fuzz session: a (mutated) case's steps run against the target the way a case written by parley-fuzz
// runs them under parley-conform: every step lenient (a step that does not go as the seed case expected is
// logged and the session goes on), with short deadlines for what the target may never send.
#pragma once

#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/case.hpp"
#include "conformance/engine/client_health.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::wirefuzz {

struct session_outcome {
  std::vector<conform::finding> findings;  // rules the target's own messages broke (their form, their framing)
  std::vector<conform::wire_entry> wire;   // the session's wire log
  std::string record;                      // its bytes, in the hub fuzzers' record format
  std::string stalled;                     // why a new user was not served while the session's connections
                                           // were still open ("" when it was): a server one session can block
  // Client role: how the launched client crashed (conform::client_crash), and the tail of what it wrote to
  // stderr.
  conform::client_crash_report client_crash;
  std::string client_log;
  int failed_steps = 0;                    // steps that did not go as in the seed case
  int unrunnable_steps = 0;                // steps a mutation made meaningless (a connection never opened)
};

// Runs `c` against host:port; a client-role case listens instead and launches its client (host and port
// unused). `suffix` makes the session's user names (${alice} = alice_SUFFIX).
session_outcome run_session(const conform::adapter& a, const conform::run_settings& s, const conform::test_case& c,
                            const std::string& host, unsigned short port, const std::string& suffix);

// Whether the target serves a new user (the adapter's probe): "" or why not.
std::string probe(const conform::adapter& a, const conform::run_settings& s, const std::string& host,
                  unsigned short port, const std::string& suffix);

// The step as a session runs it: deadlines for replies and silences capped, so a mutation the target
// rightly ignores costs a tenth of a second, not the seed case's two.
conform::step session_step(const conform::step& s, double cap_ms);

}  // namespace parley::wirefuzz
