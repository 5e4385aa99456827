#include "conformance/engine/case.hpp"

#include <charconv>
#include <set>

#include "impl/core/encoding.hpp"

namespace parley::conform {
namespace {

const std::set<std::string> engine_ops = {
    "connect", "send", "send_raw", "expect", "expect_silence", "expect_close", "close", "reset", "wait",
    "accept", "launch_client", "client_input", "close_client_input", "expect_event", "expect_no_event",
    "expect_none", "expect_alive"};

const std::set<std::string> step_keys = {"conn", "text", "bytes", "match", "any_of", "capture", "icase", "repeat",
                                         "split_at", "within", "not_before", "gap", "kind", "ms", "command", "skip", "from",
                                         "rule", "delay", "prefix", "hex", "lenient", "while_open"};

[[noreturn]] void fail(const std::string& origin, const YAML::Node& node, const std::string& why) {
  throw case_error(origin + ":" + std::to_string(node.Mark().line + 1) + ": " + why);
}

duration_expr as_duration(const YAML::Node& node) { return {node.as<std::string>()}; }

step parse_step(const YAML::Node& node, const std::string& origin) {
  if (!node.IsMap() || node.size() != 1) fail(origin, node, "a step is a map with exactly one key, the operation");
  auto entry = node.begin();
  step s;
  s.op = entry->first.as<std::string>();
  s.line = node.Mark().line + 1;
  // A copy: yaml-cpp's iterator hands out a temporary proxy, so a reference to its member would dangle.
  const YAML::Node value = entry->second;
  bool adapter_op = s.op.find('.') != std::string::npos;
  if (!adapter_op && !engine_ops.contains(s.op)) fail(origin, node, "unknown operation '" + s.op + "'");
  s.args = value;
  if (adapter_op) {
    if (value.IsMap() && value["conn"]) s.conn = value["conn"].as<std::string>();
    if (value.IsMap() && value["rule"]) s.rule = value["rule"].as<std::string>();
    if (value.IsMap() && value["lenient"]) s.lenient = value["lenient"].as<bool>();
    if (s.conn.empty()) s.conn = "a";
    return s;
  }

  // Scalar shorthands: "connect: a", "close: a", "wait: 100", "send: TEXT", "expect: REGEX", ...
  if (value.IsScalar()) {
    std::string v = value.as<std::string>();
    if (s.op == "connect" || s.op == "close" || s.op == "reset" || s.op == "accept" || s.op == "expect_close")
      s.conn = v;
    else if (s.op == "wait" || s.op == "expect_silence") s.within = {v};
    else if (s.op == "expect" || s.op == "expect_event" || s.op == "expect_no_event" || s.op == "expect_none")
      s.matches = {v};
    else s.text = v;
  } else if (value.IsMap()) {
    for (auto kv : value) {
      auto key = kv.first.as<std::string>();
      if (!step_keys.contains(key)) fail(origin, kv.first, "unknown key '" + key + "' in " + s.op);
    }
    if (value["conn"]) s.conn = value["conn"].as<std::string>();
    if (value["text"]) s.text = value["text"].as<std::string>();
    if (value["command"]) s.text = value["command"].as<std::string>();
    if (value["bytes"]) s.text = value["bytes"].as<std::string>();
    if (value["hex"]) {
      if (s.op != "send_raw") fail(origin, value["hex"], "hex is for send_raw");
      auto decoded = core::from_hex(value["hex"].as<std::string>());
      if (!decoded) fail(origin, value["hex"], "hex is not an even number of hex digits");
      s.text.assign(decoded->begin(), decoded->end());
    }
    if (value["lenient"]) s.lenient = value["lenient"].as<bool>();
    if (value["while_open"]) s.while_open = value["while_open"].as<bool>();
    if (value["match"]) s.matches = {value["match"].as<std::string>()};
    if (value["any_of"]) s.matches = value["any_of"].as<std::vector<std::string>>();
    if (value["capture"]) s.capture = value["capture"].as<std::vector<std::string>>();
    if (value["skip"]) s.skip = value["skip"].as<std::vector<std::string>>();
    if (value["icase"]) s.icase = value["icase"].as<bool>();
    if (value["repeat"]) s.repeat = value["repeat"].as<std::size_t>();
    if (value["split_at"]) s.split_at = value["split_at"].as<std::vector<std::size_t>>();
    if (value["within"]) s.within = as_duration(value["within"]);
    if (value["ms"]) s.within = as_duration(value["ms"]);
    if (value["not_before"]) s.not_before = as_duration(value["not_before"]);
    if (value["gap"]) s.gap = as_duration(value["gap"]);
    if (value["delay"]) s.delay = as_duration(value["delay"]);
    if (value["prefix"]) s.prefix = value["prefix"].as<std::string>();
    if (value["kind"]) s.close_kind = value["kind"].as<std::string>();
    if (value["from"]) s.from = value["from"].as<std::string>();
    if (value["rule"]) s.rule = value["rule"].as<std::string>();
  } else if (!value.IsNull()) {
    fail(origin, node, s.op + " takes a value or a map");
  }
  if (s.conn.empty()) s.conn = "a";
  if ((s.op == "expect" || s.op == "expect_event" || s.op == "expect_no_event" || s.op == "expect_none") &&
      s.matches.empty())
    fail(origin, node, s.op + " needs match or any_of");
  // An empty client_input types an empty line (an edge input a client must survive).
  if (s.op == "send" && s.text.empty()) fail(origin, node, s.op + " needs text");
  if (s.op == "expect_close" && s.close_kind != "fin" && s.close_kind != "rst" && s.close_kind != "any")
    fail(origin, node, "expect_close kind must be fin, rst or any");
  if ((s.op == "wait" || s.op == "expect_silence") && s.within.empty()) fail(origin, node, s.op + " needs ms");
  if (!s.split_at.empty()) {
    for (std::size_t i = 1; i < s.split_at.size(); ++i)
      if (s.split_at[i] <= s.split_at[i - 1]) fail(origin, node, "split_at offsets must increase");
  }
  return s;
}

test_case parse_case(const YAML::Node& doc, const std::string& origin) {
  static const std::set<std::string> keys = {"id", "rules", "description", "role", "fresh", "timers", "slow", "faults",
                                             "steps", "profile", "events_probe", "suffix", "watch"};
  if (!doc.IsMap()) fail(origin, doc, "a case is a map");
  for (auto kv : doc)
    if (!keys.contains(kv.first.as<std::string>()))
      fail(origin, kv.first, "unknown case key '" + kv.first.as<std::string>() + "'");
  test_case c;
  c.file = origin;
  if (!doc["id"] || !doc["rules"] || !doc["steps"]) fail(origin, doc, "a case needs id, rules and steps");
  c.id = doc["id"].as<std::string>();
  c.rules = doc["rules"].as<std::vector<std::string>>();
  if (c.rules.empty()) fail(origin, doc["rules"], "a case names at least one rule");
  if (doc["description"]) c.description = doc["description"].as<std::string>();
  if (doc["role"]) {
    auto r = doc["role"].as<std::string>();
    if (r != "server" && r != "client") fail(origin, doc["role"], "role is server or client");
    c.role = r == "server" ? role::server : role::client;
  }
  if (doc["fresh"]) c.fresh = doc["fresh"].as<bool>();
  if (doc["timers"] && doc["timers"].IsSequence()) {
    c.timers = true;
    for (const auto& name : doc["timers"]) c.timer_vars.push_back(name.as<std::string>());
  } else if (doc["timers"]) {
    c.timers = doc["timers"].as<bool>();
  }
  if (doc["slow"]) c.slow = doc["slow"].as<bool>();
  if (doc["events_probe"]) c.events_probe = doc["events_probe"].as<bool>();
  if (doc["watch"]) c.watch = doc["watch"].as<bool>();
  if (doc["faults"]) c.faults = doc["faults"].as<std::vector<std::string>>();
  if (doc["profile"]) c.profile = doc["profile"].as<std::string>();
  if (doc["suffix"]) {
    c.suffix = doc["suffix"].as<std::string>();
    if (c.suffix.empty() || c.suffix.size() > 8 ||
        c.suffix.find_first_not_of(user_suffix_alphabet) != std::string::npos)
      fail(origin, doc["suffix"], std::string("suffix is 1 to 8 of the characters ") + user_suffix_alphabet);
  }
  for (const auto& node : doc["steps"]) c.steps.push_back(parse_step(node, origin));
  if (c.steps.empty()) fail(origin, doc, "a case has at least one step");
  return c;
}

}  // namespace

std::vector<test_case> load_cases(const std::string& yaml_text, const std::string& origin) {
  std::vector<test_case> cases;
  try {
    for (const auto& doc : YAML::LoadAll(yaml_text)) {
      if (doc.IsNull()) continue;
      if (doc.IsSequence())
        for (const auto& item : doc) cases.push_back(parse_case(item, origin));
      else
        cases.push_back(parse_case(doc, origin));
    }
  } catch (const YAML::Exception& e) {
    throw case_error(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return cases;
}

double evaluate(const duration_expr& d, const std::map<std::string, double>& vars, double fallback) {
  if (d.empty()) return fallback;
  double total = 0;
  std::string_view rest = d.text;
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  auto value_of = [&](std::string_view token) -> double {
    token = trim(token);
    double number = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), number);
    if (ec == std::errc{} && end == token.data() + token.size()) return number;
    auto it = vars.find(std::string(token));
    if (it == vars.end()) throw case_error("unknown duration term '" + std::string(token) + "' in '" + d.text + "'");
    return it->second;
  };
  while (!rest.empty()) {
    auto plus = rest.find('+');
    std::string_view term = rest.substr(0, plus);
    auto star = term.find('*');
    total += star == std::string_view::npos ? value_of(term) : value_of(term.substr(0, star)) * value_of(term.substr(star + 1));
    if (plus == std::string_view::npos) break;
    rest.remove_prefix(plus + 1);
  }
  return total;
}

std::string hex_argument(const step& s, const char* key, std::string_view text) {
  auto decoded = core::from_hex(text);
  if (!decoded) throw case_error(s.op + ": '" + key + "' must be hex digits (line " + std::to_string(s.line) + ")");
  return std::string(decoded->begin(), decoded->end());
}

}  // namespace parley::conform
