#include "conformance/engine/report.hpp"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <map>
#include <set>
#include <sstream>

namespace parley::conform {
namespace {

int severity(verdict v) {
  switch (v) {
    case verdict::pass: return 0;
    case verdict::skip: return 1;
    case verdict::warn: return 2;
    case verdict::fail: return 3;
    case verdict::error: return 4;
  }
  return 0;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string wire_text(const case_result& r) {
  std::ostringstream out;
  for (const auto& w : r.wire)
    out << "    " << std::setw(8) << std::fixed << std::setprecision(1) << w.at_ms << " ms  " << std::left
        << std::setw(7) << w.conn << std::right << " " << w.direction << " " << w.text << "\n";
  return out.str();
}

}  // namespace

coverage check_coverage(const rule_book& rules, const std::vector<test_case>& cases) {
  std::set<std::string> named;
  coverage c;
  for (const auto& t : cases)
    for (const auto& id : t.rules) {
      named.insert(id);
      if (!rules.find(id)) c.unknown.push_back(t.id + " names " + id);
    }
  for (const auto& r : rules.rules)
    if (r.level != "MAY" && r.testable && !named.contains(r.id)) c.uncovered.push_back(r.id);
  return c;
}

totals count(const std::vector<case_result>& results) {
  totals t;
  for (const auto& r : results) {
    switch (r.outcome) {
      case verdict::pass: ++t.passed; break;
      case verdict::fail: ++t.failed; break;
      case verdict::warn: ++t.warned; break;
      case verdict::skip: ++t.skipped; break;
      case verdict::error: ++t.errors; break;
    }
  }
  return t;
}

void print_console(std::ostream& out, const std::string& target, const rule_book& rules,
                   const std::vector<case_result>& results, double seconds, bool color) {
  auto paint = [&](verdict v) {
    std::string name(name_of(v));
    if (!color) return name;
    const char* code = v == verdict::pass ? "32" : v == verdict::skip ? "36" : v == verdict::warn ? "33" : "31";
    return "\033[" + std::string(code) + "m" + name + "\033[0m";
  };
  std::map<std::string, std::vector<const case_result*>> by_rule;
  for (const auto& r : results)
    for (const auto& id : r.rules) by_rule[id].push_back(&r);

  out << rules.protocol << " conformance against " << target << "\n\n";
  out << "rule            level   verdict  cases\n";
  for (const auto& rule : rules.rules) {
    auto it = by_rule.find(rule.id);
    std::string verdict_text;
    std::string cases;
    if (!rule.testable) {
      verdict_text = "-";
      cases = "untestable: " + rule.untestable_reason;
    } else if (it == by_rule.end()) {
      verdict_text = "-";
      cases = "(no case selected)";
    } else {
      verdict worst = verdict::pass;
      bool all_skipped = true;
      for (const auto* r : it->second) {
        if (r->outcome != verdict::skip) all_skipped = false;
        if (severity(r->outcome) > severity(worst)) worst = r->outcome;
        cases += (cases.empty() ? "" : " ") + r->id;
      }
      if (all_skipped) worst = verdict::skip;
      else if (worst == verdict::skip) worst = verdict::pass;
      verdict_text = paint(worst);
    }
    out << std::left << std::setw(16) << rule.id << std::setw(8) << rule.level << std::setw(color ? 18 : 9)
        << verdict_text << std::right << cases << "\n";
  }

  bool any_detail = false;
  for (const auto& r : results) {
    if (r.outcome == verdict::pass) continue;
    if (!any_detail) out << "\n";
    any_detail = true;
    out << paint(r.outcome) << " " << r.id << " [";
    for (std::size_t i = 0; i < r.rules.size(); ++i) out << (i ? " " : "") << r.rules[i];
    out << "] " << r.description << "\n  " << r.message;
    if (r.failed_step) out << "\n  at " << r.file << ":" << r.failed_step;
    out << "\n";
    if (r.outcome == verdict::fail || r.outcome == verdict::error || r.outcome == verdict::warn) {
      if (!r.wire.empty()) out << "  wire log:\n" << wire_text(r);
      if (!r.target_output.empty()) out << "  output of the implementation under test (tail):\n" << r.target_output << "\n";
    }
  }
  totals t = count(results);
  out << "\n" << results.size() << " cases in " << std::fixed << std::setprecision(2) << seconds << " s: " << t.passed
      << " passed, " << t.failed << " failed, " << t.warned << " warned, " << t.skipped << " skipped, " << t.errors
      << " errors\n";
  // The plain closing line CI readers look for.
  out << "conformance: " << t.passed << " passed, " << t.failed + t.errors << " failed\n";
}

std::string to_json(const std::string& target, const rule_book& rules, const std::vector<case_result>& results) {
  nlohmann::ordered_json doc;
  doc["protocol"] = rules.protocol;
  doc["target"] = target;
  totals t = count(results);
  doc["totals"] = {{"passed", t.passed}, {"failed", t.failed}, {"warned", t.warned}, {"skipped", t.skipped},
                   {"errors", t.errors}};
  auto& cases = doc["cases"] = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json c{{"id", r.id},          {"rules", r.rules},     {"level", r.level},
                             {"verdict", name_of(r.outcome)}, {"message", r.message}, {"ms", r.ms},
                             {"faults", r.faults}};
    if (r.outcome != verdict::pass) {
      auto& wire = c["wire"] = nlohmann::ordered_json::array();
      for (const auto& w : r.wire)
        wire.push_back({{"ms", w.at_ms}, {"conn", w.conn}, {"dir", std::string(1, w.direction)}, {"text", w.text}});
      if (!r.target_output.empty()) c["target_output"] = r.target_output;
    }
    cases.push_back(std::move(c));
  }
  auto& rule_list = doc["rules"] = nlohmann::ordered_json::array();
  for (const auto& rule : rules.rules) {
    nlohmann::ordered_json entry{{"id", rule.id}, {"level", rule.level}, {"testable", rule.testable}};
    std::vector<std::string> ids;
    for (const auto& r : results)
      for (const auto& id : r.rules)
        if (id == rule.id) ids.push_back(r.id);
    entry["cases"] = ids;
    rule_list.push_back(std::move(entry));
  }
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string to_junit(const std::string& protocol, const std::vector<case_result>& results) {
  totals t = count(results);
  std::ostringstream out;
  double total_ms = 0;
  for (const auto& r : results) total_ms += r.ms;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"parley-conform " << xml_escape(protocol)
      << "\" tests=\"" << results.size() << "\" failures=\"" << t.failed + t.warned << "\" errors=\"" << t.errors
      << "\" skipped=\"" << t.skipped << "\" time=\"" << total_ms / 1000 << "\">\n";
  for (const auto& r : results) {
    std::string rules;
    for (const auto& id : r.rules) rules += (rules.empty() ? "" : " ") + id;
    out << "  <testcase classname=\"" << xml_escape(protocol + "." + rules) << "\" name=\"" << xml_escape(r.id)
        << "\" time=\"" << r.ms / 1000 << "\"";
    if (r.outcome == verdict::pass) {
      out << "/>\n";
      continue;
    }
    out << ">\n";
    std::string tag = r.outcome == verdict::skip ? "skipped" : r.outcome == verdict::error ? "error" : "failure";
    out << "    <" << tag << " message=\"" << xml_escape(std::string(name_of(r.outcome)) + ": " + r.message) << "\">"
        << xml_escape(wire_text(r)) << "</" << tag << ">\n  </testcase>\n";
  }
  out << "</testsuite>\n";
  return out.str();
}

}  // namespace parley::conform
