// Reports of a suite run: a console report organised by rule, JSON and JUnit XML. All three show the
// same verdicts; failing cases carry what was expected, what arrived, and the case's wire log.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "conformance/engine/case.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform {

struct coverage {
  std::vector<std::string> uncovered;  // testable MUST/SHOULD rules no case names
  std::vector<std::string> unknown;    // rule ids named by cases but absent from rules.json
};
coverage check_coverage(const rule_book& rules, const std::vector<test_case>& cases);

struct totals {
  int passed = 0, failed = 0, warned = 0, skipped = 0, errors = 0;
};
totals count(const std::vector<case_result>& results);

void print_console(std::ostream& out, const std::string& target, const rule_book& rules,
                   const std::vector<case_result>& results, double seconds, bool color);
std::string to_json(const std::string& target, const rule_book& rules, const std::vector<case_result>& results);
std::string to_junit(const std::string& protocol, const std::vector<case_result>& results);

}  // namespace parley::conform
