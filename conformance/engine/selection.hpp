// Which rules a run is about: --rule GLOB[,GLOB], --level must|should|may, --section NUMBER. A run checks
// the cases that name a selected rule, and its reports and exit code speak of the selected rules only.
#pragma once

#include <string>
#include <vector>

#include "conformance/engine/case.hpp"
#include "conformance/engine/rules.hpp"

namespace parley::conform {

struct rule_selection {
  std::vector<std::string> rule_globs;  // fnmatch patterns on rule ids
  std::vector<std::string> levels;      // MUST, SHOULD, MAY (any case on input)
  std::vector<std::string> sections;    // "6.2" selects 6.2 and 6.2.x, not 6.20
  bool empty() const { return rule_globs.empty() && levels.empty() && sections.empty(); }
};

// A rule is selected when it matches every kind of selector given (and, within one kind, any of them).
bool selects(const rule_selection& s, const rule& r);

// The book with only the selected rules, in the book's order.
rule_book selected_rules(const rule_book& rules, const rule_selection& s);

// The cases whose own rule list names a selected rule (a case that only logs in on the way does not
// check the login rule in the sense a selection means).
std::vector<test_case> cases_checking(const std::vector<test_case>& cases, const rule_book& selected);

}  // namespace parley::conform
