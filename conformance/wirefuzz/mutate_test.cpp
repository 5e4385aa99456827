#include "conformance/wirefuzz/mutate.hpp"

#include <gtest/gtest.h>

#include "conformance/engine/suite_files.hpp"
#include "impl/core/encoding.hpp"

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

// multiparty's payloads are mutated as bytes behind the tag: a payload becomes payload_hex that decodes to
// any bytes, len is set at its bounds, and a payload that names a ${var} keeps its text.
TEST(WireFuzzMutate, SealedPayloadsBecomeBytes) {
  auto adapter = conform::adapters().at("multiparty")();
  mutator m(*adapter, model_for(*adapter));
  auto seed = [] {
    return conform::load_cases(R"(
id: seed
rules: [MP-STATUS-02]
steps:
  - multiparty.login: {conn: a, user: "${alice}"}
  - multiparty.send: {conn: a, type: status_req, payload: "0000000000000000"}
  - multiparty.send: {conn: a, type: status_req, payload: "${bob_uid}"}
)", "seed.yaml")
        .front();
  };
  int as_bytes = 0, lengths = 0;
  for (std::uint64_t s = 1; s < 400; ++s) {
    conform::test_case c = seed();
    fuzz_random r(s);
    m.mutate(c, r);
    for (const auto& step : c.steps) {  // other mutations may have moved, doubled or dropped steps
      const YAML::Node& args = step.args;
      if (step.op != "multiparty.send" || !args.IsMap()) continue;
      if (args["len"]) ++lengths;
      if (!args["payload_hex"]) continue;
      ++as_bytes;
      EXPECT_FALSE(args["payload"]) << conform::to_yaml(c);
      auto bytes = core::from_hex(args["payload_hex"].as<std::string>());
      ASSERT_TRUE(bytes) << conform::to_yaml(c);
      EXPECT_EQ(as_chars(*bytes).find("${"), std::string_view::npos) << conform::to_yaml(c);
    }
    auto loaded = conform::load_cases(conform::to_yaml(c), "mutated.yaml");
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(conform::to_yaml(loaded[0]), conform::to_yaml(c));
  }
  EXPECT_GT(as_bytes, 10);
  EXPECT_GT(lengths, 2);
}

}  // namespace
}  // namespace parley::wirefuzz
