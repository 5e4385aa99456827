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
  // A suffix makes user names: characters some protocols refuse in a name would fail the wrong rule.
  EXPECT_THROW(load("id: x\nrules: [R]\nsuffix: \"a b\"\nsteps:\n  - connect: a\n"), case_error);
  EXPECT_THROW(load("id: x\nrules: [R]\nsuffix: abcdefghj\nsteps:\n  - connect: a\n"), case_error);
  try {
    load("id: x\nrules: [R]\nsteps:\n  - connect: a\n  - bogus: 1\n");
    FAIL();
  } catch (const case_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml:5"), std::string::npos) << e.what();
  }
}

// parley-fuzz writes its findings with to_yaml: what it wrote must load back as the same steps, whatever
// bytes a mutation left in them.
TEST(CaseWriter, RoundTripsEveryKindOfStep) {
  std::string binary = std::string("IDENT \x00\xff\r", 10) + "\n~";
  auto cases = load_cases(R"Y(
id: fuzz-crash-1
rules: [ITP-CONN-04]
description: "found by parley-fuzz: crash"
fresh: true
suffix: k3f9
watch: true
steps:
  - itp.login: {conn: b, name: "${bob}", lenient: true}
  - send: {conn: b, text: "no", split_at: [1], gap: "5", lenient: true}
  - send: {conn: b, text: "~"}
  - expect: {conn: b, any_of: ["^OK", "^FAIL(0[0-9])"], capture: [code], skip: ["^JOINED "], within: "ping + 1"}
  - expect_close: {conn: b, kind: rst}
  - wait: 20
  - send_raw: {conn: a, bytes: "12", repeat: 3}
  - itp.seal: {conn: a, tamper: true, text: "true"}
  - expect_alive: {rule: ITP-CONN-04, while_open: true}
)Y", "t.yaml");
  ASSERT_EQ(cases.size(), 1u);
  test_case c = cases[0];
  step raw;
  raw.op = "send_raw";
  raw.conn = "a";
  raw.text = binary;
  raw.lenient = true;
  c.steps.push_back(raw);

  std::string written = to_yaml(c);
  auto back = load_cases(written, "written.yaml");
  ASSERT_EQ(back.size(), 1u) << written;
  const test_case& b = back[0];
  EXPECT_EQ(b.id, c.id);
  EXPECT_EQ(b.rules, c.rules);
  EXPECT_EQ(b.description, c.description);
  EXPECT_TRUE(b.fresh);
  EXPECT_EQ(b.suffix, "k3f9");
  EXPECT_TRUE(b.watch);
  ASSERT_EQ(b.steps.size(), c.steps.size()) << written;
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const step &x = c.steps[i], &y = b.steps[i];
    EXPECT_EQ(x.op, y.op) << i;
    EXPECT_EQ(x.conn, y.conn) << i;
    EXPECT_EQ(x.text, y.text) << i << "\n" << written;
    EXPECT_EQ(x.matches, y.matches) << i;
    EXPECT_EQ(x.capture, y.capture) << i;
    EXPECT_EQ(x.skip, y.skip) << i;
    EXPECT_EQ(x.split_at, y.split_at) << i;
    EXPECT_EQ(x.repeat, y.repeat) << i;
    EXPECT_EQ(x.within.text, y.within.text) << i;
    EXPECT_EQ(x.gap.text, y.gap.text) << i;
    EXPECT_EQ(x.close_kind, y.close_kind) << i;
    EXPECT_EQ(x.rule, y.rule) << i;
    EXPECT_EQ(x.lenient, y.lenient) << i;
    EXPECT_EQ(x.while_open, y.while_open) << i;
  }
  EXPECT_TRUE(b.steps[7].args["tamper"].as<bool>());
  EXPECT_EQ(b.steps[7].args["text"].as<std::string>(), "true");
  EXPECT_EQ(b.steps[0].args["name"].as<std::string>(), "${bob}");
  EXPECT_NE(written.find("hex:"), std::string::npos) << written;
}

TEST(Durations, EvaluateSumsAndProducts) {
  std::map<std::string, double> vars{{"ping", 300}, {"pong", 200}};
  EXPECT_EQ(evaluate({"1.5*ping + pong + 100"}, vars, 0), 750);
  EXPECT_EQ(evaluate({}, vars, 42), 42);
  EXPECT_THROW(evaluate({"ping + nope"}, vars, 0), case_error);
}

TEST(StepArguments, HexArgumentsAreTheirBytesOrAnErrorNamingTheStep) {
  step s;
  s.op = "multiparty.send";
  s.line = 7;
  EXPECT_EQ(hex_argument(s, "payload_hex", "00ff0A"), std::string("\x00\xff\x0a", 3));
  EXPECT_EQ(hex_argument(s, "payload_hex", ""), "");
  try {
    hex_argument(s, "payload_hex", "abc");
    FAIL();
  } catch (const case_error& e) {
    EXPECT_STREQ(e.what(), "multiparty.send: 'payload_hex' must be hex digits (line 7)");
  }
}

}  // namespace
}  // namespace parley::conform
