#include "conformance/engine/baseline.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace parley::conform {
namespace {

rule_book book() {
  rule_book b;
  b.protocol = "itp";
  for (const char* id : {"R-1", "R-2", "R-3", "R-4"}) b.rules.push_back({id, "MUST", "s", "", true, "", "1 Overview"});
  return b;
}

std::vector<rule_verdict> verdicts(const rule_book& b, std::vector<verdict> outcomes) {
  std::vector<rule_verdict> out;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    rule_verdict v;
    v.spec = &b.rules[i];
    v.outcome = outcomes[i];
    v.selected = true;
    out.push_back(v);
  }
  return out;
}

TEST(Baseline, ParsesRulesVerdictsReasonsAndComments) {
  auto b = parse_baseline("# header\n\nR-1  FAIL   no JOINED yet  \nR-2 WARN # a comment\n", "b.txt");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b["R-1"].expected, verdict::fail);
  EXPECT_EQ(b["R-1"].reason, "no JOINED yet");
  EXPECT_EQ(b["R-2"].expected, verdict::warn);
  EXPECT_EQ(b["R-2"].reason, "");
}

TEST(Baseline, NamesTheLineOfAMistake) {
  try {
    parse_baseline("R-1 PASS\nR-2 FIAL\n", "b.txt");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("b.txt:2: 'FIAL' is not a verdict"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_baseline("R-1\n", "b.txt"), std::runtime_error);
  EXPECT_THROW(parse_baseline("R-1 PASS\nR-1 FAIL\n", "b.txt"), std::runtime_error);
}

TEST(Baseline, OnlyAWorseFailingVerdictIsARegression) {
  auto b = book();
  auto expected = parse_baseline("R-1 FAIL\nR-2 PASS\nR-3 FAIL\n", "b");
  // R-4 is not listed: expected to PASS.
  auto changes = compare_with_baseline(verdicts(b, {verdict::fail, verdict::fail, verdict::pass, verdict::warn}), expected, false);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].kind, baseline_kind::known);
  EXPECT_EQ(changes[1].kind, baseline_kind::regression);
  EXPECT_EQ(changes[2].kind, baseline_kind::improvement);
  EXPECT_EQ(describe(changes[2]), "R-3 now passes: update the baseline");
  EXPECT_EQ(changes[3].kind, baseline_kind::changed);  // a new WARN does not fail a run without --strict
  EXPECT_EQ(compare_with_baseline(verdicts(b, {verdict::fail, verdict::pass, verdict::pass, verdict::warn}), expected, true)[3].kind,
            baseline_kind::regression);
}

TEST(Baseline, AFlakyRuleMayPassOrFailAndABlockedOneIsNoImprovement) {
  auto b = book();
  auto expected = parse_baseline("R-1 FLAKY\nR-2 FLAKY\nR-3 FAIL\n", "b");
  auto changes = compare_with_baseline(verdicts(b, {verdict::fail, verdict::pass, verdict::blocked, verdict::pass}), expected, false);
  EXPECT_EQ(changes[0].kind, baseline_kind::known);
  EXPECT_EQ(changes[1].kind, baseline_kind::known);
  EXPECT_EQ(changes[2].kind, baseline_kind::changed);
  EXPECT_EQ(changes[3].kind, baseline_kind::same);
}

TEST(Baseline, WritingKeepsTheReasonsOfUnchangedVerdicts) {
  auto b = book();
  auto previous = parse_baseline("R-1 FAIL ticket 12\nR-2 FAIL ticket 13\n", "b");
  std::string text = format_baseline(verdicts(b, {verdict::fail, verdict::pass, verdict::pass, verdict::warn}), previous, "hdr");
  EXPECT_NE(text.find("R-1              FAIL     ticket 12\n"), std::string::npos) << text;
  EXPECT_NE(text.find("R-2              PASS\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("ticket 13"), std::string::npos) << text;
  auto again = parse_baseline(text, "b");
  EXPECT_EQ(again.size(), 4u);
  EXPECT_EQ(again["R-4"].expected, verdict::warn);
}

}  // namespace
}  // namespace parley::conform
