#include "conformance/engine/baseline.hpp"

#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace parley::conform {
namespace {

verdict verdict_named(const std::string& name, const std::string& where) {
  for (verdict v : {verdict::pass, verdict::warn, verdict::not_implemented, verdict::skip, verdict::blocked,
                    verdict::fail, verdict::error, verdict::flaky})
    if (name == name_of(v)) return v;
  throw std::runtime_error(where + ": '" + name + "' is not a verdict (PASS FAIL WARN FLAKY NOT-IMPL SKIP BLOCKED ERROR)");
}

// How bad a verdict is for a CI run. Verdicts that say nothing about the rule (SKIP, BLOCKED) and a MAY not
// done are as good as PASS: a baseline is about what fails.
int badness(verdict v, bool strict) {
  switch (v) {
    case verdict::warn: return strict ? 3 : 1;
    case verdict::flaky: return 2;
    case verdict::fail:
    case verdict::error: return 3;
    default: return 0;
  }
}

baseline_kind classify(verdict was, verdict now, bool strict) {
  if (was == now) return fails_run(now, strict) ? baseline_kind::known : baseline_kind::same;
  // A rule known to be flaky may pass or fail on any one run; only a harness error is news.
  if (was == verdict::flaky) return now == verdict::error ? baseline_kind::regression : baseline_kind::known;
  int before = badness(was, strict), after = badness(now, strict);
  if (after > before) return fails_run(now, strict) ? baseline_kind::regression : baseline_kind::changed;
  if (after < before && (now == verdict::pass || now == verdict::not_implemented || now == verdict::warn))
    return baseline_kind::improvement;
  return fails_run(now, strict) ? baseline_kind::known : baseline_kind::changed;
}

}  // namespace

bool fails_run(verdict v, bool strict) {
  return v == verdict::fail || v == verdict::flaky || v == verdict::error || (strict && v == verdict::warn);
}

baseline parse_baseline(const std::string& text, const std::string& origin) {
  baseline out;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string id, name;
    if (!(words >> id)) continue;
    std::string where = origin + ":" + std::to_string(number);
    if (!(words >> name)) throw std::runtime_error(where + ": '" + id + "' has no verdict (RULE VERDICT [reason])");
    baseline_entry entry{verdict_named(name, where), {}};
    std::getline(words >> std::ws, entry.reason);
    while (!entry.reason.empty() && std::isspace(static_cast<unsigned char>(entry.reason.back()))) entry.reason.pop_back();
    if (!out.emplace(id, entry).second) throw std::runtime_error(where + ": " + id + " is listed twice");
  }
  return out;
}

std::string format_baseline(const std::vector<rule_verdict>& verdicts, const baseline& previous,
                            const std::string& header) {
  std::ostringstream out;
  out << "# " << header << "\n"
      << "# One rule per line: RULE VERDICT [reason]. A run with --baseline fails only on a rule worse than\n"
      << "# this; edit verdicts and reasons by hand, or write the file again with --write-baseline.\n";
  for (const auto& v : verdicts) {
    if (!v.selected || !v.spec->testable) continue;
    std::ostringstream line;
    line << std::left << std::setw(16) << v.spec->id << " " << std::setw(8) << name_of(v.outcome);
    auto kept = previous.find(v.spec->id);
    if (kept != previous.end() && kept->second.expected == v.outcome) line << " " << kept->second.reason;
    std::string text = line.str();
    while (text.ends_with(' ')) text.pop_back();  // a hand-edited file stays free of trailing blanks
    out << text << "\n";
  }
  return out.str();
}

std::vector<baseline_change> compare_with_baseline(const std::vector<rule_verdict>& verdicts, const baseline& expected,
                                                   bool strict) {
  std::vector<baseline_change> out;
  for (const auto& v : verdicts) {
    if (!v.selected || !v.spec->testable) continue;
    baseline_change c{v.spec->id, verdict::pass, v.outcome, baseline_kind::same, {}};
    if (auto e = expected.find(v.spec->id); e != expected.end()) {
      c.was = e->second.expected;
      c.reason = e->second.reason;
    }
    c.kind = classify(c.was, c.now, strict);
    out.push_back(std::move(c));
  }
  return out;
}

std::string describe(const baseline_change& c) {
  std::string now(name_of(c.now)), was(name_of(c.was));
  switch (c.kind) {
    case baseline_kind::improvement:
      return c.rule + (c.now == verdict::pass ? " now passes" : " is now " + now + " (baseline: " + was + ")") +
             ": update the baseline";
    case baseline_kind::regression: return c.rule + " " + now + " (baseline: " + was + ")";
    case baseline_kind::known: return c.rule + " " + now + ", known" + (c.reason.empty() ? "" : ": " + c.reason);
    case baseline_kind::changed: return c.rule + " " + now + " (baseline: " + was + ")";
    case baseline_kind::same: break;
  }
  return c.rule + " " + now;
}

}  // namespace parley::conform
