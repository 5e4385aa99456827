// Every MUST and SHOULD rule of every protocol is exercised by a case or marked untestable with a reason
// (ARCHITECTURE: rule coverage), and every case names only rules that exist.
#include <gtest/gtest.h>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/report.hpp"
#include "conformance/engine/suite_files.hpp"

namespace parley::conform {
namespace {

TEST(RuleCoverage, EveryMustAndShouldRuleIsCoveredOrUntestable) {
  for (const auto& [protocol, make] : adapters()) {
    rule_book rules = rules_for(protocol);
    auto cases = cases_for(protocol);
    ASSERT_FALSE(cases.empty()) << protocol;
    coverage c = check_coverage(rules, cases);
    EXPECT_TRUE(c.uncovered.empty()) << protocol << ": " << ::testing::PrintToString(c.uncovered);
    EXPECT_TRUE(c.unknown.empty()) << protocol << ": " << ::testing::PrintToString(c.unknown);
    for (const auto& r : rules.rules) {
      if (r.testable) continue;
      EXPECT_FALSE(r.untestable_reason.empty()) << r.id << " is untestable without a reason";
    }
  }
}

TEST(RuleCoverage, CaseIdsAreUniqueAndFaultsAreNamed) {
  for (const auto& [protocol, make] : adapters()) {
    std::set<std::string> ids;
    for (const auto& c : cases_for(protocol)) EXPECT_TRUE(ids.insert(c.id).second) << "duplicate case id " << c.id;
  }
}

}  // namespace
}  // namespace parley::conform
