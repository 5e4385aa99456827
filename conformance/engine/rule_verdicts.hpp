// A rule's verdict over a whole run: the evidence of every case (and every --repeat run) that evaluated it.
//   FAIL / WARN / NOT-IMPL  some step attributed to the rule failed (by the rule's level)
//   PASS                    evaluated, never broken
//   ERROR                   never evaluated because of the harness or the target's health
//   BLOCKED                 never evaluated: another rule failed first in every case that checks it
//   SKIP                    not applicable (the reason says why)
//   FLAKY                   the per-run verdicts differ between --repeat runs (counts kept)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "conformance/engine/rules.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform {

struct rule_verdict {
  const rule* spec = nullptr;
  verdict outcome = verdict::skip;
  bool selected = false;                  // some case of the run names the rule
  std::string detail;                     // "BLOCKED by X", the skip reason, "FAIL in 2 of 5 runs, PASS in 3", ...
  std::vector<std::string> blocked_by;    // BLOCKED: the rules that blocked it
  std::vector<std::string> cases;         // the cases that name the rule (once each)
  std::vector<const case_result*> failed; // the cases whose steps broke it, in case order, first run first
  std::map<verdict, int> runs;            // FLAKY: how many runs gave each verdict
};

// One entry per rule of `rules`, in the book's order. `repeat` is the number of --repeat runs in `results`.
std::vector<rule_verdict> rule_verdicts(const rule_book& rules, const std::vector<case_result>& results, int repeat);

struct rule_totals {
  int passed = 0, failed = 0, warned = 0, not_implemented = 0, blocked = 0, skipped = 0, errors = 0, flaky = 0;
  int untestable = 0, unselected = 0;
};
rule_totals count_rules(const std::vector<rule_verdict>& verdicts);

}  // namespace parley::conform
