// The Markdown summary (--markdown): short enough for a CI job page ($GITHUB_STEP_SUMMARY, a merge request
// note). The HTML and console reports carry the wire logs; this says what broke and what changed.
#include <sstream>

#include "conformance/engine/baseline.hpp"
#include "conformance/engine/report.hpp"

namespace parley::conform {
namespace {

// Table cells are one line, and a pipe would end the cell.
std::string cell(std::string text, std::size_t longest = 160) {
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  if (text.size() > longest) text = text.substr(0, longest) + "…";
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

bool broken(verdict v) {
  return v == verdict::fail || v == verdict::flaky || v == verdict::error || v == verdict::warn;
}

}  // namespace

std::string to_markdown(const rule_book& rules, const run_report& report) {
  std::ostringstream out;
  int code = exit_code(rules, report);
  out << "## parley-conform " << rules.protocol << ": " << (code == 0 ? "passed" : code == 1 ? "failed" : code == 3 ? "target not testable" : "interrupted")
      << "\n\nTarget: `" << cell(report.target) << "`";
  if (!report.profiles.empty()) out << " (offers " << report.profiles.back() << ")";
  out << ", exit code " << code << ".\n\n";
  if (!report.target_error.empty()) {
    out << "**ERROR**: the target cannot be tested: " << cell(report.target_error, 400) << "\n";
    return out.str();
  }
  auto verdicts = rule_verdicts(rules, report.cases, report.repeat);
  rule_totals t = count_rules(verdicts);
  out << "| PASS | FAIL | WARN | FLAKY | BLOCKED | NOT-IMPL | SKIP | ERROR |\n|---|---|---|---|---|---|---|---|\n"
      << "| " << t.passed << " | " << t.failed << " | " << t.warned << " | " << t.flaky << " | " << t.blocked << " | "
      << t.not_implemented << " | " << t.skipped << " | " << t.errors << " |\n\n";

  std::ostringstream rows;
  for (const auto& v : verdicts) {
    if (!v.selected || !v.spec->testable || !broken(v.outcome)) continue;
    const baseline_change* b = baseline_of(report, v.spec->id);
    std::string evidence = v.detail;
    if (!v.failed.empty()) {
      const rule_result* rr = result_for(*v.failed.front(), v.spec->id);
      evidence += (evidence.empty() ? "" : "; ") + case_name(*v.failed.front(), report.repeat) + ": " +
                  (rr ? rr->message : v.failed.front()->message);
    }
    std::string status = !b                                     ? ""
                         : b->kind == baseline_kind::known      ? "known"
                         : b->kind == baseline_kind::regression ? "**new**"
                                                                : "";
    rows << "| " << name_of(v.outcome) << " | `" << v.spec->id << "` | " << v.spec->level << " | " << status << " | "
         << cell(evidence) << " |\n";
  }
  if (!rows.str().empty())
    out << "| verdict | rule | level | baseline | evidence |\n|---|---|---|---|---|\n" << rows.str() << "\n";

  if (!report.baseline_file.empty()) {
    baseline_counts b = count_baseline(report);
    out << "Baseline `" << cell(report.baseline_file) << "`: " << b.regressions << " regressions, " << b.known
        << " known failures, " << b.improvements << " improvements.\n";
    for (const auto& c : report.baseline)
      if (c.kind == baseline_kind::regression || c.kind == baseline_kind::improvement || c.kind == baseline_kind::changed)
        out << "- " << cell(describe(c), 300) << "\n";
    out << "\n";
  }
  for (const auto& n : report.notes) out << "> " << cell(n, 300) << "\n";
  return out.str();
}

}  // namespace parley::conform
