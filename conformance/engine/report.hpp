// Reports of a run: a console report organised by rule, JSON and JUnit XML. All three carry the same rule
// verdicts (BLOCKED and FLAKY included) and case results; failures carry what was expected, what arrived,
// and the failing case's wire log (every connection of the case, in time order).
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

// The exit code a run earns: 0 when no rule FAILs or is FLAKY and no case had an ERROR; 1 otherwise; 3 when
// the target could not be tested (unreachable, another protocol, down and not restartable); 130 when the
// run was interrupted.
int exit_code(const rule_book& rules, const run_report& report);

void print_console(std::ostream& out, const rule_book& rules, const run_report& report, bool color);
std::string to_json(const rule_book& rules, const run_report& report);
std::string to_junit(const rule_book& rules, const run_report& report);

}  // namespace parley::conform
