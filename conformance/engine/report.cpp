#include "conformance/engine/report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

namespace parley::conform {
namespace {

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

// The case's wire log for reading: long entries cut, and other cases' traffic on a shared target counted
// instead of listed (the JSON report keeps every entry whole).
std::string wire_text(const case_result& r) {
  constexpr std::size_t longest = 240;
  std::ostringstream out;
  int foreign = 0;
  for (const auto& w : r.wire) {
    if (w.direction == '~' && w.text.starts_with("another case's traffic")) {
      ++foreign;
      continue;
    }
    std::string text = w.text.size() > longest ? w.text.substr(0, longest) + "... (" + std::to_string(w.text.size()) + " characters)"
                                               : w.text;
    out << "    " << std::setw(8) << std::fixed << std::setprecision(1) << w.at_ms << " ms  " << std::left
        << std::setw(7) << w.conn << std::right << " " << w.direction << " " << text << "\n";
  }
  if (foreign) out << "    (and " << foreign << " messages of other cases on the shared target, passed over)\n";
  return out.str();
}

std::string case_name(const case_result& r, int repeat) {
  return repeat > 1 ? r.id + " (run " + std::to_string(r.run + 1) + ")" : r.id;
}

// The evidence of one rule in one case.
const rule_result* result_for(const case_result& c, const std::string& rule) {
  for (const auto& r : c.results)
    if (r.rule == rule) return &r;
  return nullptr;
}

bool counts_as_failure(verdict v) { return v == verdict::fail || v == verdict::flaky || v == verdict::error; }

}  // namespace

coverage check_coverage(const rule_book& rules, const std::vector<test_case>& cases) {
  std::set<std::string> named;
  coverage c;
  for (const auto& t : cases) {
    std::vector<std::string> ids = t.rules;
    for (const auto& s : t.steps)
      if (!s.rule.empty()) ids.push_back(s.rule);
    for (const auto& id : ids) {
      if (!named.insert(id).second) continue;
      if (!rules.find(id)) c.unknown.push_back(t.id + " names " + id);
    }
  }
  for (const auto& r : rules.rules)
    if (r.level != "MAY" && r.testable && !named.contains(r.id)) c.uncovered.push_back(r.id);
  return c;
}

int exit_code(const rule_book& rules, const run_report& report) {
  if (report.interrupted) return 130;
  if (!report.target_error.empty() || report.target_down) return 3;
  for (const auto& v : rule_verdicts(rules, report.cases, report.repeat))
    if (v.selected && v.spec->testable && counts_as_failure(v.outcome)) return 1;
  for (const auto& c : report.cases)
    if (c.outcome == verdict::error) return 1;
  return 0;
}

void print_console(std::ostream& out, const rule_book& rules, const run_report& report, bool color) {
  auto paint = [&](verdict v) {
    std::string name(name_of(v));
    if (!color) return name;
    const char* code = v == verdict::pass ? "32" : v == verdict::skip || v == verdict::not_implemented ? "36"
                       : v == verdict::warn || v == verdict::blocked                                  ? "33"
                                                                                                      : "31";
    return "\033[" + std::string(code) + "m" + name + "\033[0m";
  };
  int pad = color ? 9 + 9 : 9;  // the escape codes take no room on screen
  out << rules.protocol << " conformance against " << report.target;
  if (!report.profiles.empty()) out << " (offers " << report.profiles.back() << ")";
  if (report.repeat > 1) out << ", every case " << report.repeat << " times";
  out << "\n\n";
  if (!report.target_error.empty()) {
    out << paint(verdict::error) << " the target cannot be tested: " << report.target_error << "\n";
    for (const auto& n : report.notes) {
      std::string indented = n;  // a note may carry a process's output: keep all of it under the heading
      for (auto at = indented.find('\n'); at != std::string::npos && at + 1 < indented.size(); at = indented.find('\n', at + 1))
        indented.insert(at + 1, "    ");
      out << "  " << indented << (indented.ends_with('\n') ? "" : "\n");
    }
    out << "\nno case ran.\nconformance: ERROR, the target could not be tested\n";
    return;
  }

  auto verdicts = rule_verdicts(rules, report.cases, report.repeat);
  rule_totals t = count_rules(verdicts);
  auto headline = [&] {
    std::ostringstream h;
    h << (t.passed + t.failed + t.warned + t.not_implemented + t.blocked + t.skipped + t.errors + t.flaky)
      << " rules: " << t.passed << " passed, " << t.failed << " failed, " << t.warned << " warned, " << t.flaky
      << " flaky, " << t.blocked << " blocked, " << t.not_implemented << " not implemented (MAY), " << t.skipped
      << " skipped, " << t.errors << " errors; " << t.untestable << " untestable";
    if (t.unselected) h << ", " << t.unselected << " not selected";
    return h.str();
  };
  out << headline() << "\n\n";
  out << "rule            level   verdict  cases\n";
  // Rules of the other role (a client's rules when the target is a server) are counted, not listed.
  int other_role = 0;
  std::string other_role_reason;
  for (const auto& v : verdicts) {
    if (v.selected && v.outcome == verdict::skip &&
        (v.detail.starts_with("client-role case") || v.detail.starts_with("server-role case"))) {
      ++other_role;
      other_role_reason = v.detail.substr(v.detail.find("; ") + 2);
      continue;
    }
    std::string text, detail;
    if (!v.spec->testable) {
      text = "-";
      detail = "untestable: " + v.spec->untestable_reason;
    } else if (!v.selected) {
      text = "-";
      detail = "(no case selected)";
    } else {
      text = paint(v.outcome);
      detail = v.detail.empty() ? "" : v.detail + ": ";
      for (std::size_t i = 0; i < v.cases.size(); ++i) detail += (i ? " " : "") + v.cases[i];
    }
    out << std::left << std::setw(16) << v.spec->id << std::setw(8) << v.spec->level << std::setw(text == "-" ? 9 : pad)
        << text << std::right << detail << "\n";
  }
  if (other_role)
    out << "(" << other_role << " rules of the other role not run, SKIP: " << other_role_reason << ")\n";

  if (!report.notes.empty()) {
    out << "\ntarget health and what the engine did:\n";
    for (const auto& n : report.notes) out << "  - " << n << "\n";
  }

  // One section per broken rule, with the first case that broke it and that case's wire log.
  for (const auto& v : verdicts) {
    if (!v.selected || !v.spec->testable) continue;
    if (v.outcome != verdict::fail && v.outcome != verdict::warn && v.outcome != verdict::flaky &&
        v.outcome != verdict::not_implemented)
      continue;
    out << "\n" << paint(v.outcome) << " " << v.spec->id << " [" << v.spec->level << "] " << v.spec->summary << "\n";
    if (!v.detail.empty()) out << "  " << v.detail << "\n";
    if (v.failed.empty()) continue;
    out << "  broken in:";
    for (const auto* c : v.failed) out << " " << case_name(*c, report.repeat);
    out << "\n";
    const case_result& first = *v.failed.front();
    const rule_result* rr = result_for(first, v.spec->id);
    out << "  " << case_name(first, report.repeat) << ": " << (rr ? rr->message : first.message) << "\n";
    if (rr && rr->line) out << "  at " << first.file << ":" << rr->line << "\n";
    for (const auto& n : first.notes) out << "  note: " << n << "\n";
    if (v.outcome == verdict::not_implemented) continue;
    if (!first.wire.empty()) out << "  wire log of " << first.id << ":\n" << wire_text(first);
    if (!first.target_output.empty())
      out << "  output of the implementation under test (tail):\n" << first.target_output << "\n";
  }
  for (const auto& c : report.cases) {
    if (c.outcome != verdict::error) continue;
    out << "\n" << paint(verdict::error) << " " << case_name(c, report.repeat) << ": " << c.message << "\n";
    if (!c.target_output.empty()) out << "  output of the implementation under test (tail):\n" << c.target_output << "\n";
  }

  int cases_passed = 0;
  for (const auto& c : report.cases) cases_passed += c.outcome == verdict::pass;
  out << "\n" << headline() << "\n" << report.cases.size() << " case runs in " << std::fixed << std::setprecision(2) << report.seconds << " s, "
      << cases_passed << " passed";
  if (report.interrupted) out << " -- INTERRUPTED: a partial report";
  if (report.target_down) out << " -- the target went down: later cases are ERROR";
  out << "\n";
  // The plain closing line CI readers look for, counting rules.
  out << "conformance: " << t.passed << " passed, " << t.failed + t.flaky + t.errors << " failed\n";
}

std::string to_json(const rule_book& rules, const run_report& report) {
  nlohmann::ordered_json doc;
  doc["protocol"] = rules.protocol;
  doc["target"] = report.target;
  doc["repeat"] = report.repeat;
  doc["strict"] = report.strict;
  doc["seconds"] = report.seconds;
  doc["exit_code"] = exit_code(rules, report);
  doc["interrupted"] = report.interrupted;
  doc["target_error"] = report.target_error;
  doc["target_down"] = report.target_down;
  doc["profiles"] = report.profiles;
  doc["notes"] = report.notes;
  auto verdicts = rule_verdicts(rules, report.cases, report.repeat);
  rule_totals t = count_rules(verdicts);
  doc["totals"] = {{"passed", t.passed},   {"failed", t.failed},   {"warned", t.warned},
                   {"flaky", t.flaky},     {"blocked", t.blocked}, {"not_implemented", t.not_implemented},
                   {"skipped", t.skipped}, {"errors", t.errors},   {"untestable", t.untestable}};
  auto& rule_list = doc["rules"] = nlohmann::ordered_json::array();
  for (const auto& v : verdicts) {
    nlohmann::ordered_json entry{{"id", v.spec->id}, {"level", v.spec->level}, {"testable", v.spec->testable}};
    entry["verdict"] = !v.spec->testable ? "UNTESTABLE" : !v.selected ? "NOT-SELECTED" : std::string(name_of(v.outcome));
    entry["detail"] = v.detail;
    entry["cases"] = v.cases;
    std::vector<std::string> failed;
    for (const auto* c : v.failed) failed.push_back(case_name(*c, report.repeat));
    entry["failed_in"] = failed;
    entry["blocked_by"] = v.blocked_by;
    if (report.repeat > 1) {
      nlohmann::ordered_json runs = nlohmann::ordered_json::object();
      for (const auto& [verdict_seen, n] : v.runs) runs[std::string(name_of(verdict_seen))] = n;
      entry["runs"] = runs;
    }
    rule_list.push_back(std::move(entry));
  }
  auto& cases = doc["cases"] = nlohmann::ordered_json::array();
  for (const auto& r : report.cases) {
    nlohmann::ordered_json c{{"id", r.id},         {"run", r.run + 1},     {"rules", r.rules},
                             {"level", r.level},   {"verdict", name_of(r.outcome)},
                             {"message", r.message}, {"failed_rule", r.failed_rule}, {"ms", r.ms},
                             {"faults", r.faults}, {"notes", r.notes}};
    auto& results = c["results"] = nlohmann::ordered_json::array();
    for (const auto& rr : r.results)
      results.push_back({{"rule", rr.rule}, {"verdict", name_of(rr.outcome)}, {"message", rr.message},
                         {"blocked_by", rr.blocked_by}});
    if (r.outcome != verdict::pass) {
      auto& wire = c["wire"] = nlohmann::ordered_json::array();
      for (const auto& w : r.wire)
        wire.push_back({{"ms", w.at_ms}, {"conn", w.conn}, {"dir", std::string(1, w.direction)}, {"text", w.text}});
      if (!r.target_output.empty()) c["target_output"] = r.target_output;
    }
    cases.push_back(std::move(c));
  }
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string to_junit(const rule_book& rules, const run_report& report) {
  auto verdicts = rule_verdicts(rules, report.cases, report.repeat);
  std::ostringstream rule_cases;
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  // A testcase element: failure/error/skipped by verdict; a WARN (without --strict) is a pass with a message.
  auto testcase = [&](std::ostringstream& out, const std::string& classname, const std::string& name, double seconds,
                      verdict v, const std::string& message, const std::string& body) {
    ++tests;
    out << "    <testcase classname=\"" << xml_escape(classname) << "\" name=\"" << xml_escape(name) << "\" time=\""
        << seconds << "\"";
    if (v == verdict::pass) {
      out << "/>\n";
      return;
    }
    out << ">\n";
    std::string tag = v == verdict::fail || v == verdict::flaky ? "failure" : v == verdict::error ? "error"
                      : v == verdict::warn                        ? "system-out"
                                                                  : "skipped";
    failures += tag == "failure";
    errors += tag == "error";
    skipped += tag == "skipped";
    std::string text = std::string(name_of(v)) + ": " + message;
    if (tag == "system-out")
      out << "      <system-out>" << xml_escape(text + "\n" + body) << "</system-out>\n";
    else
      out << "      <" << tag << " message=\"" << xml_escape(text) << "\">" << xml_escape(body) << "</" << tag << ">\n";
    out << "    </testcase>\n";
  };

  for (const auto& v : verdicts) {
    if (!v.selected || !v.spec->testable) continue;
    std::string message = v.detail;
    std::string body;
    if (!v.failed.empty()) {
      const case_result& first = *v.failed.front();
      const rule_result* rr = result_for(first, v.spec->id);
      message += (message.empty() ? "" : "; ") + case_name(first, report.repeat) + ": " + (rr ? rr->message : first.message);
      body = wire_text(first);
    }
    if (message.empty()) message = v.spec->summary;
    testcase(rule_cases, rules.protocol + ".rules", v.spec->id, 0, v.outcome, message, body);
  }
  int rule_tests = tests, rule_failures = failures, rule_errors = errors, rule_skipped = skipped;
  tests = failures = errors = skipped = 0;
  std::ostringstream case_cases;
  double total_ms = 0;
  for (const auto& r : report.cases) {
    total_ms += r.ms;
    std::string names;
    for (const auto& id : r.rules) names += (names.empty() ? "" : " ") + id;
    testcase(case_cases, rules.protocol + ".cases." + names, case_name(r, report.repeat), r.ms / 1000, r.outcome,
             r.message, wire_text(r));
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"parley-conform " << xml_escape(rules.protocol)
      << "\">\n";
  out << "  <testsuite name=\"parley-conform " << xml_escape(rules.protocol) << " rules\" tests=\"" << rule_tests
      << "\" failures=\"" << rule_failures << "\" errors=\"" << rule_errors << "\" skipped=\"" << rule_skipped
      << "\" time=\"" << report.seconds << "\">\n"
      << rule_cases.str() << "  </testsuite>\n";
  out << "  <testsuite name=\"parley-conform " << xml_escape(rules.protocol) << " cases\" tests=\"" << tests
      << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\""
      << total_ms / 1000 << "\">\n"
      << case_cases.str() << "  </testsuite>\n</testsuites>\n";
  if (!report.target_error.empty())
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"parley-conform " + xml_escape(rules.protocol) +
           "\">\n  <testsuite name=\"parley-conform " + xml_escape(rules.protocol) +
           " target\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase classname=\"" +
           xml_escape(rules.protocol) + ".target\" name=\"preflight\">\n      <error message=\"" +
           xml_escape("ERROR: " + report.target_error) + "\"/>\n    </testcase>\n  </testsuite>\n</testsuites>\n";
  return out.str();
}

}  // namespace parley::conform
