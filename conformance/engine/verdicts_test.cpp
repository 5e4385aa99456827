// Attribution (one failed step, one FAIL; what it kept from being checked is BLOCKED) and the run's rule
// verdicts (BLOCKED only when nothing evaluated a rule, FLAKY across --repeat runs).
#include <gtest/gtest.h>

#include "conformance/engine/case_run.hpp"
#include "conformance/engine/rule_verdicts.hpp"

namespace parley::conform {
namespace {

rule_book book() {
  rule_book b;
  b.protocol = "t";
  for (const auto& [id, level] : std::vector<std::pair<std::string, std::string>>{
           {"R-LOGIN", "MUST"}, {"R-RELAY", "MUST"}, {"R-ORDER", "SHOULD"}, {"R-EXTRA", "MAY"}, {"R-FORM", "MUST"}})
    b.rules.push_back({id, level, id + " summary", "", true, ""});
  return b;
}

test_case three_steps() {
  // login (R-LOGIN), relay (R-RELAY, the case's first rule), order (R-ORDER)
  auto cases = load_cases(R"(
id: c
rules: [R-RELAY, R-ORDER]
steps:
  - expect: {match: x, rule: R-LOGIN}
  - expect: x
  - expect: {match: x, rule: R-ORDER}
)", "t.yaml");
  return cases.front();
}

std::vector<std::string> rules_of(const test_case& c) {
  std::vector<std::string> out;
  for (const auto& s : c.steps) out.push_back(s.rule.empty() ? c.rules.front() : s.rule);
  return out;
}

const rule_result& result(const case_result& r, const std::string& rule) {
  for (const auto& rr : r.results)
    if (rr.rule == rule) return rr;
  throw std::runtime_error("no result for " + rule);
}

TEST(Attribution, AFailedPreconditionBlocksTheRulesAfterIt) {
  auto c = three_steps();
  case_result r;
  attribute(r, c, rules_of(c), {"no login answer", "R-LOGIN", 0, 3}, {}, book(), false);
  EXPECT_EQ(result(r, "R-LOGIN").outcome, verdict::fail);
  EXPECT_EQ(result(r, "R-RELAY").outcome, verdict::blocked);
  EXPECT_EQ(result(r, "R-RELAY").blocked_by, "R-LOGIN");
  EXPECT_EQ(result(r, "R-ORDER").outcome, verdict::blocked);
  EXPECT_EQ(r.outcome, verdict::fail);
}

TEST(Attribution, RulesWhoseStepsAllRanPassAndShouldFailuresWarn) {
  auto c = three_steps();
  case_result r;
  attribute(r, c, rules_of(c), {"out of order", "R-ORDER", 2, 5}, {}, book(), false);
  EXPECT_EQ(result(r, "R-LOGIN").outcome, verdict::pass);
  EXPECT_EQ(result(r, "R-RELAY").outcome, verdict::pass);
  EXPECT_EQ(result(r, "R-ORDER").outcome, verdict::warn);
  case_result strict;
  attribute(strict, c, rules_of(c), {"out of order", "R-ORDER", 2, 5}, {}, book(), true);
  EXPECT_EQ(result(strict, "R-ORDER").outcome, verdict::fail);
}

TEST(Attribution, FindingsBreakTheirRuleWithoutStoppingTheCaseAndMayIsNotImplemented) {
  auto c = three_steps();
  case_result r;
  attribute(r, c, rules_of(c), {}, {{"R-FORM", "CR LF"}, {"R-EXTRA", "no synonym"}}, book(), false);
  EXPECT_EQ(result(r, "R-RELAY").outcome, verdict::pass);
  EXPECT_EQ(result(r, "R-FORM").outcome, verdict::fail);
  EXPECT_EQ(result(r, "R-EXTRA").outcome, verdict::not_implemented);
}

TEST(Attribution, AHarnessErrorIsAnErrorOfEveryRuleNeverAFail) {
  auto c = three_steps();
  case_result r;
  steps_outcome o{"unknown variable ${x}", "", -1, 0, true, false};
  attribute(r, c, rules_of(c), o, {}, book(), false);
  for (const auto& rr : r.results) EXPECT_EQ(rr.outcome, verdict::error) << rr.rule;
}

case_result evidence(const std::string& id, int run, std::vector<rule_result> results) {
  case_result r;
  r.id = id;
  r.run = run;
  r.results = std::move(results);
  return r;
}

verdict of(const std::vector<rule_verdict>& all, const std::string& id) {
  for (const auto& v : all)
    if (v.spec->id == id) return v.outcome;
  return verdict::skip;
}

TEST(RuleVerdicts, OneFullEvaluationPassesARuleAnotherCaseBlocked) {
  auto b = book();
  std::vector<case_result> cases{
      evidence("a", 0, {{"R-LOGIN", verdict::fail, "x", "", 1}, {"R-RELAY", verdict::blocked, "", "R-LOGIN", 1}}),
      evidence("b", 0, {{"R-RELAY", verdict::pass, "", "", 0}, {"R-ORDER", verdict::blocked, "", "R-LOGIN", 0}})};
  auto all = rule_verdicts(b, cases, 1);
  EXPECT_EQ(of(all, "R-LOGIN"), verdict::fail);
  EXPECT_EQ(of(all, "R-RELAY"), verdict::pass);
  EXPECT_EQ(of(all, "R-ORDER"), verdict::blocked);
  for (const auto& v : all) {
    if (v.spec->id == "R-ORDER") {
      EXPECT_EQ(v.detail, "BLOCKED by R-LOGIN");
    }
  }
}

TEST(RuleVerdicts, AVerdictThatDiffersBetweenRunsIsFlakyWithItsCounts) {
  auto b = book();
  std::vector<case_result> cases;
  for (int run = 0; run < 5; ++run)
    cases.push_back(evidence("a", run, {{"R-ORDER", run % 2 ? verdict::warn : verdict::pass, "", "", 0}}));
  auto all = rule_verdicts(b, cases, 5);
  for (const auto& v : all) {
    if (v.spec->id != "R-ORDER") continue;
    EXPECT_EQ(v.outcome, verdict::flaky);
    EXPECT_EQ(v.runs.at(verdict::warn), 2);
    EXPECT_EQ(v.runs.at(verdict::pass), 3);
    EXPECT_EQ(v.detail, "WARN in 2 of 5 runs, PASS in 3 of 5 runs");
  }
}

}  // namespace
}  // namespace parley::conform
