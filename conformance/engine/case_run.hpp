// One case's steps run in a case context, and what they prove about each rule.
//
// Every step that can fail belongs to one rule: the rule it names (`rule:`), else the adapter's rule for
// the step (a login step's failure breaks the login rule, whatever the case is about), else the case's
// first rule. The first failing step stops the case and breaks its own rule only; the case's other rules
// are PASS when all their steps had run, else BLOCKED by the failed rule. Findings (a broken rule noticed
// on the way, e.g. a line's form) break their rule without stopping the case.
#pragma once

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform {

// Runs one step; "" on success, else the failure text. Throws case_error for a malformed step.
std::string execute_step(const step& s, case_context& ctx);

// Whether the target still serves a new user (the adapter's probe_steps, else its preflight): "" or why not.
std::string probe_target(case_context& ctx);

// The rule each step of `c` is attributed to.
std::vector<std::string> step_rules(const test_case& c, const adapter& a);

// How the steps went.
struct steps_outcome {
  std::string failure;      // "" when every step passed
  std::string failed_rule;  // the rule the failure breaks
  int failed_index = -1;    // which step failed (index into the case's steps)
  int failed_line = 0;
  bool harness_error = false;  // a malformed case or a setup problem: ERROR, not a verdict on any rule
  bool interrupted = false;
  std::set<int> skipped_steps;  // event checks not run: the client prints no events
};

// Runs the steps until one fails, the case ends, or `interrupted` is set.
steps_outcome run_steps(const test_case& c, const std::vector<std::string>& rules_of_steps, case_context& ctx,
                        const std::atomic<bool>* interrupted);

// Fills r.rules, r.results, r.outcome and r.message from what the steps did and what was found on the way.
// `a`: the adapter, which says which of its steps only act (nullptr: all of them check).
void attribute(case_result& r, const test_case& c, const std::vector<std::string>& rules_of_steps,
               const steps_outcome& o, const std::vector<finding>& findings, const rule_book& rules, bool strict,
               const adapter* a = nullptr);

// A rule's failure verdict by its level: MUST (and unknown rules) FAIL, SHOULD WARN (FAIL when strict),
// MAY "not implemented".
verdict broken(const rule_book& rules, const std::string& rule, bool strict);

}  // namespace parley::conform
