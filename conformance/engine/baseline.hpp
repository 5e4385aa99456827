// Baselines: the verdict each rule is expected to have, so that CI fails on changes, not on defects
// already known. A baseline file is small, diff-friendly and edited by hand:
//
//   # parley-conform baseline: itp against './my-server --port {port}'
//   ITP-IDENT-05  FAIL  no JOINED yet, see ticket 12
//   ITP-CONN-02   WARN
//   ITP-BCST-01   PASS
//
// One rule per line: its id, its verdict (PASS FAIL WARN FLAKY NOT-IMPL SKIP BLOCKED ERROR) and an optional
// reason; `#` starts a comment; blank lines are ignored. A rule the file does not list is expected to PASS.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "conformance/engine/rule_verdicts.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform {

struct baseline_entry {
  verdict expected = verdict::pass;
  std::string reason;
};
using baseline = std::map<std::string, baseline_entry>;

// Throws std::runtime_error naming the file and line of a malformed line or an unknown verdict.
baseline parse_baseline(const std::string& text, const std::string& origin);

// The file --write-baseline writes: every selected, testable rule with its verdict. Reasons of `previous`
// are kept for rules whose verdict did not change.
std::string format_baseline(const std::vector<rule_verdict>& verdicts, const baseline& previous,
                            const std::string& header);

// Each selected, testable rule's verdict compared with the baseline's. `strict`: a WARN fails runs.
std::vector<baseline_change> compare_with_baseline(const std::vector<rule_verdict>& verdicts, const baseline& expected,
                                                   bool strict);

// Whether a verdict fails a run by itself (FAIL, FLAKY, ERROR; WARN under --strict).
bool fails_run(verdict v, bool strict);

// "ITP-IDENT-05 now passes: update the baseline", "ITP-BCST-02 FAIL (baseline: PASS)", ...
std::string describe(const baseline_change& c);

}  // namespace parley::conform
