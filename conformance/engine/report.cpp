#include "conformance/engine/report.hpp"

#include <nlohmann/json.hpp>

#include "conformance/engine/baseline.hpp"

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
      default:
        // XML 1.0 cannot carry other control characters at all, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += "?";
        else out += c;
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

std::string baseline_kind_name(baseline_kind k) {
  switch (k) {
    case baseline_kind::same: return "same";
    case baseline_kind::known: return "known";
    case baseline_kind::regression: return "regression";
    case baseline_kind::improvement: return "improvement";
    case baseline_kind::changed: return "changed";
  }
  return "?";
}

// The rule table's mark of a rule compared with the baseline: only what needs a reader's eye.
std::string baseline_mark(const baseline_change* c) {
  if (!c) return {};
  if (c->kind == baseline_kind::known) return "(known" + (c->reason.empty() ? "" : ": " + c->reason) + ") ";
  if (c->kind == baseline_kind::regression) return "(REGRESSION: baseline " + std::string(name_of(c->was)) + ") ";
  if (c->kind == baseline_kind::improvement) return "(better than the baseline's " + std::string(name_of(c->was)) + ") ";
  return {};
}

void print_baseline(std::ostream& out, const run_report& report) {
  if (report.baseline_file.empty()) return;
  baseline_counts b = count_baseline(report);
  out << "\nbaseline " << report.baseline_file << ": " << b.regressions << " regressions, " << b.known
      << " known failures, " << b.improvements << " improvements, " << b.changed << " other changes\n";
  for (auto [kind, label] : {std::pair{baseline_kind::regression, "regression"}, {baseline_kind::improvement, "better"},
                             {baseline_kind::changed, "changed"}, {baseline_kind::known, "known"}})
    for (const auto& c : report.baseline)
      if (c.kind == kind) out << "  " << label << ": " << describe(c) << "\n";
}

}  // namespace

baseline_counts count_baseline(const run_report& report) {
  baseline_counts b;
  for (const auto& c : report.baseline) {
    b.regressions += c.kind == baseline_kind::regression;
    b.known += c.kind == baseline_kind::known;
    b.improvements += c.kind == baseline_kind::improvement;
    b.changed += c.kind == baseline_kind::changed;
  }
  return b;
}

std::string case_name(const case_result& r, int repeat) {
  return repeat > 1 ? r.id + " (run " + std::to_string(r.run + 1) + ")" : r.id;
}

const rule_result* result_for(const case_result& c, const std::string& rule) {
  for (const auto& r : c.results)
    if (r.rule == rule) return &r;
  return nullptr;
}

const baseline_change* baseline_of(const run_report& report, const std::string& rule) {
  for (const auto& c : report.baseline)
    if (c.rule == rule) return &c;
  return nullptr;
}

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
  // With a baseline only changes count: a rule worse than expected fails the run, known failures do not.
  if (!report.baseline_file.empty()) {
    bool regressed = std::any_of(report.baseline.begin(), report.baseline.end(),
                                 [](const baseline_change& c) { return c.kind == baseline_kind::regression; });
    return regressed ? 1 : 0;
  }
  for (const auto& v : rule_verdicts(rules, report.cases, report.repeat))
    if (v.selected && v.spec->testable && fails_run(v.outcome, report.strict)) return 1;
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
    if (t.unselected) h << ", " << t.unselected << " checked by no case of this run";
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
      detail = "(no case of this run checks it)";
    } else {
      text = paint(v.outcome);
      detail = baseline_mark(baseline_of(report, v.spec->id));
      detail += v.detail.empty() ? "" : v.detail + ": ";
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
  print_baseline(out, report);

  // One section per broken rule, with the first case that broke it and that case's wire log.
  for (const auto& v : verdicts) {
    if (!v.selected || !v.spec->testable) continue;
    if (v.outcome != verdict::fail && v.outcome != verdict::warn && v.outcome != verdict::flaky &&
        v.outcome != verdict::not_implemented)
      continue;
    const baseline_change* known = baseline_of(report, v.spec->id);
    out << "\n" << paint(v.outcome) << " " << v.spec->id << " [" << v.spec->level << "] " << v.spec->summary
        << (known && known->kind == baseline_kind::known ? " (known: in the baseline)" : "") << "\n";
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
  out << "conformance: " << t.passed << " passed, " << t.failed + t.flaky + t.errors << " failed";
  if (!report.baseline_file.empty()) {
    baseline_counts b = count_baseline(report);
    out << " (" << b.known << " known, " << b.regressions << " regressions against " << report.baseline_file << ")";
  }
  out << "\n";
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
  if (!report.baseline_file.empty()) {
    baseline_counts b = count_baseline(report);
    std::vector<std::string> changes;
    for (const auto& c : report.baseline)
      if (c.kind != baseline_kind::same && c.kind != baseline_kind::known) changes.push_back(describe(c));
    doc["baseline"] = {{"file", report.baseline_file}, {"regressions", b.regressions}, {"known", b.known},
                       {"improvements", b.improvements}, {"changed", b.changed}, {"changes", changes}};
  }
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
    if (const baseline_change* b = baseline_of(report, v.spec->id))
      entry["baseline"] = {{"expected", name_of(b->was)}, {"change", baseline_kind_name(b->kind)}, {"reason", b->reason}};
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

// JUnit as CI plugins read it: one test per rule, classname protocol.section, so a defect is one failed
// test; the evidence (the first failing case's message, notes, wire log) in the test's system-out.
std::string to_junit(const rule_book& rules, const run_report& report) {
  std::string suite_name = "parley-conform " + rules.protocol;
  if (!report.target_error.empty())
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" + xml_escape(suite_name) +
           "\" tests=\"1\" failures=\"0\" errors=\"1\">\n  <testsuite name=\"" + xml_escape(suite_name) +
           " target\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase classname=\"" +
           xml_escape(rules.protocol) + ".target\" name=\"preflight\">\n      <error message=\"" +
           xml_escape("ERROR: the target cannot be tested: " + report.target_error) + "\"/>\n    </testcase>\n  </testsuite>\n</testsuites>\n";

  std::map<std::string, double> seconds;  // a rule's time: its cases' time
  for (const auto& c : report.cases)
    for (const auto& id : c.rules) seconds[id] += c.ms / 1000;
  std::ostringstream tests_xml;
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  for (const auto& v : rule_verdicts(rules, report.cases, report.repeat)) {
    if (!v.selected || !v.spec->testable) continue;
    ++tests;
    std::string evidence = v.detail, log;
    if (!v.failed.empty()) {
      const case_result& first = *v.failed.front();
      const rule_result* rr = result_for(first, v.spec->id);
      evidence += (evidence.empty() ? "" : "; ") + case_name(first, report.repeat) + ": " + (rr ? rr->message : first.message);
      if (rr && rr->line) log += "at " + first.file + ":" + std::to_string(rr->line) + "\n";
      for (const auto& n : first.notes) log += "note: " + n + "\n";
      log += "wire log of " + first.id + ":\n" + wire_text(first);
      if (!first.target_output.empty()) log += "output of the implementation under test (tail):\n" + first.target_output;
    }
    const baseline_change* b = baseline_of(report, v.spec->id);
    bool known = b && b->kind == baseline_kind::known;
    std::string verdict_name(name_of(v.outcome));
    std::string tag = known ? "skipped"
                      : v.outcome == verdict::fail || v.outcome == verdict::flaky ? "failure"
                      : v.outcome == verdict::error                               ? "error"
                      : v.outcome == verdict::blocked || v.outcome == verdict::skip ||
                              v.outcome == verdict::not_implemented
                          ? "skipped"
                          : "";
    std::string message = (known ? "known " + verdict_name + " (baseline" + (b->reason.empty() ? "" : ": " + b->reason) + ")"
                                 : verdict_name) +
                          (evidence.empty() ? "" : ": " + evidence);
    failures += tag == "failure";
    errors += tag == "error";
    skipped += tag == "skipped";
    tests_xml << "    <testcase classname=\"" << xml_escape(rules.protocol + "." + (v.spec->section.empty() ? "rules" : v.spec->section))
              << "\" name=\"" << xml_escape(v.spec->id) << "\" time=\"" << seconds[v.spec->id] << "\">\n";
    if (!tag.empty())
      tests_xml << "      <" << tag << " message=\"" << xml_escape(message) << "\" type=\"" << verdict_name << "\">"
                << xml_escape(v.spec->level + ": " + v.spec->summary) << "</" << tag << ">\n";
    if (v.outcome != verdict::pass)  // a WARN without --strict passes, with its evidence here
      tests_xml << "      <system-out>" << xml_escape(message + "\n" + log) << "</system-out>\n";
    tests_xml << "    </testcase>\n";
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" << xml_escape(suite_name) << "\" tests=\""
      << tests << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" time=\"" << report.seconds << "\">\n"
      << "  <testsuite name=\"" << xml_escape(suite_name) << "\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << report.seconds << "\">\n"
      << tests_xml.str() << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

}  // namespace parley::conform
