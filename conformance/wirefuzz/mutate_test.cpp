#include "conformance/wirefuzz/mutate.hpp"

#include <gtest/gtest.h>

#include "conformance/engine/suite_files.hpp"

namespace parley::wirefuzz {
namespace {

conform::test_case login_case() {
  return conform::load_cases(R"(
id: seed
rules: [ITP-IDENT-01]
steps:
  - itp.login: {conn: a, name: "${alice}"}
  - send: {conn: a, text: "BCST hello ${bob} there"}
  - expect: "^OK BCST"
)", "seed.yaml")
      .front();
}

TEST(WireFuzzMutate, TokensKeepVariablesWhole) {
  EXPECT_EQ(tokens_of("PM ${bob} hi there"), (std::vector<std::string>{"PM", "${bob}", "hi", "there"}));
  EXPECT_EQ(tokens_of("${alice}x"), (std::vector<std::string>{"${alice}x"}));
  EXPECT_EQ(tokens_of(""), (std::vector<std::string>{""}));
}

TEST(WireFuzzMutate, ACopyOwnsItsArgumentsOnceDetached) {
  conform::test_case seed = login_case();
  conform::test_case copy = seed;
  detach(copy);
  copy.steps[0].args["name"] = "mallory";
  EXPECT_EQ(seed.steps[0].args["name"].as<std::string>(), "${alice}");
  EXPECT_EQ(copy.steps[0].args["name"].as<std::string>(), "mallory");
}

TEST(WireFuzzMutate, TheSameSeedMutatesTheSameWay) {
  auto adapter = conform::adapters().at("itp")();
  mutator m(*adapter, model_for(*adapter));
  for (std::uint64_t seed = 1; seed < 200; ++seed) {
    conform::test_case a = login_case(), b = login_case();
    fuzz_random ra(seed), rb(seed);
    auto what_a = m.mutate(a, ra);
    EXPECT_EQ(what_a, m.mutate(b, rb));
    EXPECT_EQ(conform::to_yaml(a), conform::to_yaml(b));
    EXPECT_FALSE(what_a.empty());
    // Whatever was done, the case still loads back from what parley-fuzz would write, and the seed's
    // own steps are untouched.
    EXPECT_NO_THROW(conform::load_cases(conform::to_yaml(a), "mutated.yaml")) << conform::to_yaml(a);
    EXPECT_EQ(login_case().steps[0].args["name"].as<std::string>(), "${alice}");
    // A login's name is only ever changed, never lost.
    for (const auto& s : a.steps)
      if (s.op == "itp.login") {
        EXPECT_TRUE(s.args["name"]) << conform::to_yaml(a);
      }
  }
}

}  // namespace
}  // namespace parley::wirefuzz
