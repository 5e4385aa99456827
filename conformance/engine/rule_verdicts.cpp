#include "conformance/engine/rule_verdicts.hpp"

#include <algorithm>
#include <set>

namespace parley::conform {
namespace {

// Within one run the evidence of all cases combines: a broken step anywhere breaks the rule; otherwise one
// full evaluation is enough to pass it; a rule nobody could evaluate is ERROR, BLOCKED or SKIP.
verdict combine(const std::vector<const rule_result*>& evidence) {
  auto any = [&](verdict v) {
    return std::any_of(evidence.begin(), evidence.end(), [v](const rule_result* r) { return r->outcome == v; });
  };
  for (verdict v : {verdict::fail, verdict::warn, verdict::not_implemented, verdict::pass, verdict::error,
                    verdict::blocked})
    if (any(v)) return v;
  return verdict::skip;
}

std::string plural(int n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

std::string_view name_of(verdict v) {
  switch (v) {
    case verdict::pass: return "PASS";
    case verdict::warn: return "WARN";
    case verdict::not_implemented: return "NOT-IMPL";
    case verdict::skip: return "SKIP";
    case verdict::blocked: return "BLOCKED";
    case verdict::fail: return "FAIL";
    case verdict::error: return "ERROR";
    case verdict::flaky: return "FLAKY";
  }
  return "?";
}

int severity(verdict v) {
  switch (v) {
    case verdict::skip: return 0;
    case verdict::pass: return 1;
    case verdict::not_implemented: return 2;
    case verdict::blocked: return 3;
    case verdict::warn: return 4;
    case verdict::error: return 5;
    case verdict::fail: return 6;
    case verdict::flaky: return 7;
  }
  return 0;
}

std::vector<rule_verdict> rule_verdicts(const rule_book& rules, const std::vector<case_result>& results, int repeat) {
  std::vector<rule_verdict> out;
  for (const auto& rule : rules.rules) {
    rule_verdict rv;
    rv.spec = &rule;
    std::vector<std::vector<const rule_result*>> per_run(static_cast<std::size_t>(std::max(1, repeat)));
    std::set<std::string> named;
    for (const auto& c : results) {
      for (const auto& r : c.results) {
        if (r.rule != rule.id) continue;
        rv.selected = true;
        if (named.insert(c.id).second) rv.cases.push_back(c.id);
        auto run = static_cast<std::size_t>(std::clamp(c.run, 0, static_cast<int>(per_run.size()) - 1));
        per_run[run].push_back(&r);
        bool broken = r.outcome == verdict::fail || r.outcome == verdict::warn || r.outcome == verdict::not_implemented;
        if (broken && std::find(rv.failed.begin(), rv.failed.end(), &c) == rv.failed.end()) rv.failed.push_back(&c);
      }
    }
    if (!rule.testable || !rv.selected) {
      out.push_back(std::move(rv));
      continue;
    }
    for (const auto& evidence : per_run)
      if (!evidence.empty()) ++rv.runs[combine(evidence)];
    if (rv.runs.size() > 1) {
      rv.outcome = verdict::flaky;
      std::vector<std::pair<verdict, int>> counts(rv.runs.begin(), rv.runs.end());
      std::sort(counts.begin(), counts.end(), [](auto& a, auto& b) { return severity(a.first) > severity(b.first); });
      for (const auto& [v, n] : counts)
        rv.detail += (rv.detail.empty() ? "" : ", ") + std::string(name_of(v)) + " in " + std::to_string(n) + " of " +
                     plural(static_cast<int>(per_run.size()), "run");
    } else {
      rv.outcome = rv.runs.begin()->first;
    }
    // The reason shown beside the verdict: who blocked it, why it was skipped or could not run.
    std::set<std::string> blockers, reasons;
    for (const auto& evidence : per_run)
      for (const rule_result* r : evidence) {
        if (r->outcome == verdict::blocked && !r->blocked_by.empty()) blockers.insert(r->blocked_by);
        if ((r->outcome == verdict::skip || r->outcome == verdict::error) && !r->message.empty()) reasons.insert(r->message);
      }
    rv.blocked_by.assign(blockers.begin(), blockers.end());
    if (rv.outcome == verdict::blocked) {
      for (const auto& b : rv.blocked_by) rv.detail += (rv.detail.empty() ? "BLOCKED by " : ", ") + b;
    } else if (rv.outcome == verdict::not_implemented) {
      rv.detail = "not implemented (MAY)";
    } else if ((rv.outcome == verdict::skip || rv.outcome == verdict::error) && !reasons.empty()) {
      rv.detail = *reasons.begin();
    }
    out.push_back(std::move(rv));
  }
  return out;
}

rule_totals count_rules(const std::vector<rule_verdict>& verdicts) {
  rule_totals t;
  for (const auto& v : verdicts) {
    if (!v.spec->testable) {
      ++t.untestable;
      continue;
    }
    if (!v.selected) {
      ++t.unselected;
      continue;
    }
    switch (v.outcome) {
      case verdict::pass: ++t.passed; break;
      case verdict::fail: ++t.failed; break;
      case verdict::warn: ++t.warned; break;
      case verdict::not_implemented: ++t.not_implemented; break;
      case verdict::blocked: ++t.blocked; break;
      case verdict::skip: ++t.skipped; break;
      case verdict::error: ++t.errors; break;
      case verdict::flaky: ++t.flaky; break;
    }
  }
  return t;
}

}  // namespace parley::conform
