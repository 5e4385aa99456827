// Reports of a run: a console report organised by rule, JSON, JUnit XML and a Markdown summary (the HTML
// page is report_html.hpp). All carry the same rule verdicts (BLOCKED and FLAKY included) and, with
// --baseline, the same comparison; failures carry what was expected, what arrived, and the failing case's
// wire log (every connection of the case, in time order).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "conformance/engine/case.hpp"
#include "conformance/engine/rule_verdicts.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform {

struct coverage {
  std::vector<std::string> uncovered;  // testable MUST/SHOULD rules no case names
  std::vector<std::string> unknown;    // rule ids named by cases (or their steps) but absent from rules.json
};
coverage check_coverage(const rule_book& rules, const std::vector<test_case>& cases);

// The exit code a run earns: 0 when no rule FAILs or is FLAKY and no case had an ERROR (with a baseline:
// when no rule is worse than the baseline says); 1 otherwise; 3 when the target could not be tested
// (unreachable, another protocol, down and not restartable); 130 when the run was interrupted. The same
// for every report option.
int exit_code(const rule_book& rules, const run_report& report);

void print_console(std::ostream& out, const rule_book& rules, const run_report& report, bool color);
std::string to_json(const rule_book& rules, const run_report& report);
std::string to_junit(const rule_book& rules, const run_report& report);
// A short summary for a CI job page: counts, the failing rules with one line of evidence each, and the
// changes against the baseline.
std::string to_markdown(const rule_book& rules, const run_report& report);

// Shared by the reports: the evidence of one rule in one case, and a case's name in a --repeat run.
const rule_result* result_for(const case_result& c, const std::string& rule);
std::string case_name(const case_result& r, int repeat);
// The baseline comparison of one rule, or nullptr without --baseline.
const baseline_change* baseline_of(const run_report& report, const std::string& rule);
struct baseline_counts {
  int regressions = 0, known = 0, improvements = 0, changed = 0;
};
baseline_counts count_baseline(const run_report& report);

}  // namespace parley::conform
