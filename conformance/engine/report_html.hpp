// The HTML report of a run (parley-conform --html FILE): one self-contained page, no network and no
// external assets. It carries the same rule verdicts and counts as the console and JSON reports
// (rule_verdicts), rendered in C++ so that it reads completely without JavaScript; a few lines of inline
// JavaScript only filter rows by verdict and level and toggle other cases' traffic.
#pragma once

#include <string>

#include "conformance/engine/rules.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform {

// The whole page. Holds, for a run whose target could be tested: the headline counts, target, protocol,
// profiles and target-health notes; one row per rule (id, level, section, verdict, sentence, cases; an
// untestable rule with its reason); one section per FAIL, WARN, NOT-IMPL, BLOCKED, FLAKY and ERROR rule
// with the cases that gave that verdict (messages, case file and line, blocked_by, notes, the launched
// implementation's output tail, and the wire log as a timeline with one column per connection); and every
// case, a passing one's wire log collapsed. For a run whose target could not be tested (target_error): a
// page saying so, with the notes. Throws nothing but std::bad_alloc.
std::string to_html(const rule_book& rules, const run_report& report);

}  // namespace parley::conform
