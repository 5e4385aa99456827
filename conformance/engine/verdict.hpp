// Verdicts, per-rule evidence and case results: what the runner produces and the reports print.
//
// A verdict belongs to a rule, not to a case: every checking step of a case is attributed to one rule, a
// failed step fails only that rule, and the case's rules that the failure kept from being evaluated are
// BLOCKED by it. A case's own outcome is only a summary (its worst rule result).
#pragma once

#include <string>
#include <vector>

namespace parley::conform {

enum class verdict {
  pass,             // evaluated and never broken
  warn,             // a SHOULD broken (FAIL with --strict)
  not_implemented,  // a MAY the target does not do: information, never a warning
  skip,             // not applicable here (with the reason): a profile the target lacks, no --real-time, ...
  blocked,          // never evaluated: a rule it depends on failed first (named)
  fail,             // a MUST broken, by a step attributed to that rule
  error,            // not evaluated because of the harness, the setup or the target's health
  flaky,            // differs between --repeat runs
};
std::string_view name_of(verdict v);

struct wire_entry {
  double at_ms;      // since the case started
  std::string conn;  // connection name, or "client" for the client's output
  char direction;    // '>' engine sent, '<' engine received, '*' an event (close, launch, note), '~' passed over
  std::string text;  // printable
};

// What one case found about one rule.
struct rule_result {
  std::string rule;
  verdict outcome = verdict::pass;
  std::string message;     // why it did not pass: the failure, the skip reason, or for BLOCKED the blocker's failure
  std::string blocked_by;  // BLOCKED: the rule whose failure stopped the case
  int line = 0;            // the case file line of the step that decided it (0: the case as a whole)
};

struct case_result {
  std::string id;
  std::vector<std::string> rules;   // every rule the case evaluates: its list, then rules its steps name
  std::vector<std::string> faults;  // reference-server faults this case is meant to catch
  std::string description;
  std::string level;                // strongest level among the rules: MUST, SHOULD or MAY
  verdict outcome = verdict::pass;  // the worst of `results` (SKIP or ERROR for the case as a whole)
  std::string message;              // the first failure, or why the case was skipped or could not run
  std::string failed_rule;          // the rule of the step that stopped the case
  int failed_step = 0;              // line in the case file
  std::string file;
  double ms = 0;
  int run = 0;                      // which --repeat run (0-based)
  std::vector<rule_result> results;
  std::vector<wire_entry> wire;
  std::string target_output;        // the tail of a launched implementation's output, when it failed
  std::vector<std::string> notes;   // what the engine did about the target around this case
};

// How a rule's verdict compares with the one a baseline file (--baseline) expects of it.
enum class baseline_kind {
  same,         // as expected, and nothing to act on (PASS as before, a known WARN)
  known,        // a known failure: it fails as the baseline says, so it does not fail the run
  regression,   // worse than the baseline, and bad enough to fail a run: the run fails
  improvement,  // better than the baseline: "now passes: update the baseline"
  changed,      // different, neither: not judged this time (BLOCKED, SKIP), or a new WARN without --strict
};

struct baseline_change {
  std::string rule;
  verdict was = verdict::pass;  // the baseline's verdict (PASS for a rule the baseline does not list)
  verdict now = verdict::pass;
  baseline_kind kind = baseline_kind::same;
  std::string reason;  // the baseline line's reason, if any
};

// A whole run: every case result (of every --repeat run) and what the engine learned about the target.
struct run_report {
  std::string protocol;
  std::string target;                // how the report names the implementation under test
  std::vector<case_result> cases;    // in the cases' order, run by run
  int repeat = 1;
  bool strict = false;
  double seconds = 0;
  std::string target_error;          // the preflight found the target unusable: no case ran
  bool target_down = false;          // it stopped serving during the run and could not be restarted
  bool interrupted = false;          // SIGINT/SIGTERM: a partial report
  std::vector<std::string> profiles; // the profiles the target offers (empty: the protocol has none)
  std::vector<std::string> notes;    // target health and what the engine did about it
  std::string baseline_file;         // --baseline: the file the verdicts were compared with ("" without)
  std::vector<baseline_change> baseline;  // one entry per selected, testable rule, in the book's order
};

// Orders verdicts by how much they demand attention in a summary: FLAKY and FAIL first, SKIP last.
int severity(verdict v);

}  // namespace parley::conform
