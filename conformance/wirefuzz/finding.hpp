// A finding, and how it is written: a conformance case under OUT/cases/ that `parley-conform PROTOCOL
// --cases OUT/cases` replays (every step lenient, then the check that shows the defect), and beside it the
// details (.json), the session's bytes in the hub fuzzers' record format (.record) and its wire log (.log).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/case.hpp"
#include "conformance/engine/verdict.hpp"
#include "conformance/wirefuzz/oracle.hpp"

namespace parley::wirefuzz {

struct fuzz_finding {
  judgement what;
  conform::test_case session;            // the mutated case that showed it (minimized once written)
  std::string seed_case;                 // the conformance case it was mutated from
  std::vector<std::string> mutations;
  std::uint64_t session_seed = 0;
  std::size_t execution = 0;             // which session of the run
  double at_seconds = 0;                 // when in the run
  std::vector<conform::wire_entry> wire;
  std::string record;
  std::string target_output;             // the tail of what the target wrote
  int duplicates = 0;                    // later sessions that showed the same key
  // Filled when written:
  std::string id;
  std::string case_file;
  std::size_t steps_before = 0;
  int minimize_trials = 0;
  std::string replay;                    // "reproduced", or why not / "not checked"
};

// The case a finding becomes: the session's steps, all lenient, and the check that shows the finding.
conform::test_case finding_case(const fuzz_finding& f, const conform::adapter& a);

// A stable 8-hex-digit name for a finding key.
std::string key_hash(const finding_key& k);

// Writes the finding's files under `out_dir` and returns the path of its case file.
std::string write_finding(fuzz_finding& f, const conform::adapter& a, const std::string& out_dir,
                          const std::string& replay_command);

// The JSON of one finding, for --report-json and the .json beside the case.
std::string finding_json(const fuzz_finding& f, int indent = 2);

}  // namespace parley::wirefuzz
