#include "conformance/engine/case.hpp"

#include <gtest/gtest.h>

namespace parley::conform {
namespace {

TEST(CaseLoader, ParsesShorthandsAndMaps) {
  auto cases = load_cases(R"(
id: x
rules: [ITP-CONN-01]
steps:
  - connect: a
  - expect: "^INIT "
  - send: {conn: a, text: "IDENT ${alice}", split_at: [3, 7]}
  - expect_close: {conn: a, kind: fin, within: "pong + 500"}
  - itp.login: {conn: b, name: "${bob}"}
)", "t.yaml");
  ASSERT_EQ(cases.size(), 1u);
  const auto& steps = cases[0].steps;
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[1].matches, std::vector<std::string>{"^INIT "});
  EXPECT_EQ(steps[2].split_at, (std::vector<std::size_t>{3, 7}));
  EXPECT_EQ(steps[3].close_kind, "fin");
  EXPECT_EQ(steps[4].conn, "b");
  EXPECT_EQ(evaluate(steps[3].within, {{"pong", 300}}, 0), 800);
}

TEST(CaseLoader, RejectsTyposWithFileAndLine) {
  auto load = [](const char* text) { return load_cases(text, "bad.yaml"); };
  EXPECT_THROW(load("id: x\nrules: [R]\nsteps:\n  - expcet: foo\n"), case_error);
  EXPECT_THROW(load("id: x\nrules: [R]\nsteps:\n  - expect: {conn: a, mtach: foo}\n"), case_error);
  EXPECT_THROW(load("id: x\nrules: []\nsteps:\n  - connect: a\n"), case_error);
  EXPECT_THROW(load("id: x\nsteps:\n  - connect: a\n"), case_error);
  EXPECT_THROW(load("id: x\nrules: [R]\nsteps:\n  - expect_close: {kind: maybe}\n"), case_error);
  try {
    load("id: x\nrules: [R]\nsteps:\n  - connect: a\n  - bogus: 1\n");
    FAIL();
  } catch (const case_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:5"), std::string::npos) << e.what();
  }
}

TEST(Durations, EvaluateSumsAndProducts) {
  std::map<std::string, double> vars{{"ping", 300}, {"pong", 200}};
  EXPECT_EQ(evaluate({"1.5*ping + pong + 100"}, vars, 0), 750);
  EXPECT_EQ(evaluate({}, vars, 42), 42);
  EXPECT_THROW(evaluate({"ping + nope"}, vars, 0), case_error);
}

}  // namespace
}  // namespace parley::conform
