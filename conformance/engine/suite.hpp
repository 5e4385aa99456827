// A whole run: the preflight that checks the target speaks the protocol, the cases in parallel, and the
// target's health throughout: a target that stops serving is restarted (--launch) or reported once, and a
// target that resets connections opened close together is paced and reported once.
#pragma once

#include <vector>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/case.hpp"
#include "conformance/engine/rules.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/verdict.hpp"

namespace parley::conform {

// Runs every case (settings.repeat times, with `jobs` workers) and returns the report with the results in
// the cases' order, run by run. report.protocol and report.target are left for the caller.
run_report run_suite(const adapter& a, const std::vector<test_case>& cases, const rule_book& rules,
                     const run_settings& settings, int jobs);

}  // namespace parley::conform
