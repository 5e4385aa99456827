#include "conformance/engine/report_html.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>
#include <vector>

#include "conformance/engine/report.hpp"
#include "conformance/engine/report_html_assets.hpp"
#include "conformance/engine/rule_verdicts.hpp"

namespace parley::conform {
namespace {

// Text for element content and attribute values alike. Wire text is already printable; a launched
// program's output is not, so its control characters (colour escapes, CR) are shown as \xNN.
std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", u);
          out += hex;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// A rule's sentence: the spec writes wire text in backticks, shown as code.
std::string with_code(std::string_view text) {
  std::string out;
  for (;;) {
    auto open = text.find('`');
    auto close = open == std::string_view::npos ? open : text.find('`', open + 1);
    if (close == std::string_view::npos) return out + esc(text);
    out += esc(text.substr(0, open)) + "<code>" + esc(text.substr(open + 1, close - open - 1)) + "</code>";
    text.remove_prefix(close + 1);
  }
}

// An id attribute (and #fragment) from a rule or case name: only characters that need no escaping.
std::string anchor(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  for (char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    out += plain ? c : '_';
  }
  return out;
}

std::string case_anchor(const case_result& c) { return anchor("case-", c.id + "-" + std::to_string(c.run + 1)); }
std::string rule_anchor(const std::string& id) { return anchor("rule-", id); }
std::string detail_anchor(const std::string& id) { return anchor("detail-", id); }

std::string millis(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", ms);
  return text;
}

// The verdict a rule is shown with, as the JSON report names it.
std::string state_of(const rule_verdict& v) {
  if (!v.spec->testable) return "UNTESTABLE";
  if (!v.selected) return "NOT-SELECTED";
  return std::string(name_of(v.outcome));
}

std::string spaced(const std::string& html) { return html.empty() ? html : html + " "; }

std::string badge(const std::string& state) {
  std::string css = "v-";
  for (char c : state) css += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return "<span class=\"verdict " + css + "\">" + esc(state) + "</span>";
}

// The rules that get a section of their own: what a reader must look at (the console's broken rules, and
// BLOCKED and ERROR, whose cause is in their cases).
bool needs_section(const rule_verdict& v) {
  if (!v.selected || !v.spec->testable) return false;
  switch (v.outcome) {
    case verdict::pass:
    case verdict::skip: return false;
    default: return true;
  }
}

// The cases behind a rule's section: those that broke it, as the console names them; for BLOCKED, ERROR
// and FLAKY every case where it did not simply pass.
std::vector<const case_result*> evidence(const rule_verdict& v, const run_report& report) {
  if (v.outcome == verdict::fail || v.outcome == verdict::warn || v.outcome == verdict::not_implemented) return v.failed;
  std::vector<const case_result*> out;
  for (const auto& c : report.cases)
    if (auto* r = result_for(c, v.spec->id); r && r->outcome != verdict::pass && r->outcome != verdict::skip)
      out.push_back(&c);
  return out;
}



class page {
public:
  page(const rule_book& rules, const run_report& report)
      : rules_(rules), report_(report), verdicts_(rule_verdicts(rules, report.cases, report.repeat)) {}

  std::string render() {
    open_document();
    header();
    if (report_.target_error.empty()) {
      filters();
      rule_table();
      rule_sections();
      case_list();
    }
    out_ += "<script>" + std::string(html_assets::script) + "</script>\n</body>\n</html>\n";
    return std::move(out_);
  }

private:
  std::string protocol() const { return rules_.protocol.empty() ? report_.protocol : rules_.protocol; }

  void open_document() {
    int code = exit_code(rules_, report_);
    out_ += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>parley-conform " +
            esc(protocol()) + ": " + esc(outcome_word(code)) + "</title>\n<style>" + html_assets::style + "</style>\n</head>\n<body>\n";
  }

  static std::string outcome_word(int code) {
    return code == 0 ? "PASS" : code == 1 ? "FAIL" : code == 130 ? "INTERRUPTED" : "ERROR";
  }

  std::string outcome_text(int code) const {
    if (!report_.target_error.empty()) return "ERROR: the target could not be tested, no case ran (exit code 3)";
    if (report_.interrupted) return "INTERRUPTED: a partial report of what ran (exit code 130)";
    if (report_.target_down) return "ERROR: the target went down during the run; later cases are ERROR (exit code 3)";
    // With --baseline the exit code speaks of changes only (report.hpp: exit_code).
    if (!report_.baseline_file.empty())
      return code == 0 ? "PASS: no rule is worse than the baseline says (exit code 0)"
                       : "FAIL: a rule is worse than the baseline says (exit code 1)";
    if (code == 0) return "PASS: no rule FAILs or is FLAKY and no case ERRORs (exit code 0)";
    return "FAIL: a rule FAILed or is FLAKY, or a case ERRORed (exit code " + std::to_string(code) + ")";
  }

  void header() {
    int code = exit_code(rules_, report_);
    std::string css = code == 0 ? "v-pass" : code == 1 ? "v-fail" : "v-error";
    out_ += "<header>\n<h1>" + esc(protocol()) + " conformance</h1>\n<p class=\"banner " + css + "\" id=\"outcome\">" +
            esc(outcome_text(code)) + "</p>\n";
    if (!report_.target_error.empty()) {
      out_ += "<h2>The target could not be tested</h2>\n<p id=\"target-error\" class=\"mono\">" +
              esc(report_.target_error) + "</p>\n";
    }
    facts();
    if (report_.target_error.empty()) headline();
    notes();
    out_ += "</header>\n";
  }

  void fact(const std::string& name, const std::string& value) {
    out_ += "<tr><th>" + esc(name) + "</th><td>" + esc(value) + "</td></tr>\n";
  }

  void facts() {
    out_ += "<table class=\"facts\">\n";
    fact("protocol", protocol());
    fact("target", report_.target);
    std::string profiles;
    for (const auto& p : report_.profiles) profiles += (profiles.empty() ? "" : ", ") + p;
    fact("profiles", profiles.empty() ? "(none: the protocol has no profiles, or no case ran)" : profiles);
    int passed = 0;
    for (const auto& c : report_.cases) passed += c.outcome == verdict::pass;
    fact("cases", std::to_string(report_.cases.size()) + " case runs, " + std::to_string(passed) + " passed" +
                      (report_.repeat > 1 ? ", every case " + std::to_string(report_.repeat) + " times" : ""));
    fact("duration", millis(report_.seconds * 1000) + " ms");
    if (report_.strict) fact("strict", "a broken SHOULD is a FAIL");
    if (!report_.baseline_file.empty()) {
      baseline_counts b = count_baseline(report_);
      fact("baseline", report_.baseline_file + ": " + std::to_string(b.regressions) + " regressions, " +
                           std::to_string(b.known) + " known, " + std::to_string(b.improvements) + " better, " +
                           std::to_string(b.changed) + " changed");
    }
    out_ += "</table>\n";
  }

  // The same counts, in the same words, as the console's headline and closing line.
  void headline() {
    rule_totals t = count_rules(verdicts_);
    int total = t.passed + t.failed + t.warned + t.not_implemented + t.blocked + t.skipped + t.errors + t.flaky;
    std::string h = std::to_string(total) + " rules: " + std::to_string(t.passed) + " passed, " + std::to_string(t.failed) +
                    " failed, " + std::to_string(t.warned) + " warned, " + std::to_string(t.flaky) + " flaky, " +
                    std::to_string(t.blocked) + " blocked, " + std::to_string(t.not_implemented) +
                    " not implemented (MAY), " + std::to_string(t.skipped) + " skipped, " + std::to_string(t.errors) +
                    " errors; " + std::to_string(t.untestable) + " untestable";
    if (t.unselected) h += ", " + std::to_string(t.unselected) + " checked by no case of this run";
    out_ += "<p id=\"headline\"><b>" + esc(h) + "</b></p>\n<p class=\"mono\" id=\"closing\">conformance: " +
            std::to_string(t.passed) + " passed, " + std::to_string(t.failed + t.flaky + t.errors) + " failed</p>\n";
  }

  void notes() {
    if (report_.notes.empty()) return;
    // A note may carry a launched program's output over several lines: kept as it is.
    out_ += "<h2>Target health and what the engine did</h2>\n<ul id=\"notes\">\n";
    for (const auto& n : report_.notes) out_ += "<li><pre>" + esc(n) + "</pre></li>\n";
    out_ += "</ul>\n";
  }

  void checkbox(const char* kind, const std::string& value, const std::string& label) {
    out_ += "<label><input type=\"checkbox\" checked data-kind=\"" + std::string(kind) + "\" value=\"" + esc(value) +
            "\"> " + label + "</label>";
  }

  void filters() {
    static const char* order[] = {"FAIL", "FLAKY", "ERROR", "WARN", "BLOCKED", "NOT-IMPL", "SKIP", "PASS", "UNTESTABLE", "NOT-SELECTED"};
    std::set<std::string> present;
    for (const auto& v : verdicts_) present.insert(state_of(v));
    for (const auto& c : report_.cases) present.insert(std::string(name_of(c.outcome)));
    out_ += "<div id=\"filters\">\n<fieldset id=\"verdict-filter\"><legend>verdict</legend>";
    for (const char* name : order) {
      if (!present.contains(name)) continue;
      int n = 0;
      for (const auto& v : verdicts_) n += state_of(v) == name;
      checkbox("verdict", name, badge(name) + " " + std::to_string(n));
    }
    out_ += "</fieldset>\n<fieldset id=\"level-filter\"><legend>level</legend>";
    for (const char* level : {"MUST", "SHOULD", "MAY"}) checkbox("level", level, level);
    out_ += "</fieldset>\n<label><input type=\"checkbox\" id=\"show-foreign\"> other cases' traffic on a shared "
            "target</label>\n<span class=\"muted\">(counts are rules; the filters hide rules and cases)</span>\n</div>\n";
  }

  void rule_table() {
    out_ += "<h2 id=\"rules\">Rules</h2>\n<table id=\"rule-table\">\n<thead><tr><th>rule</th><th>level</th><th>section</th>"
            "<th>verdict</th><th>rule</th><th>detail and cases</th></tr></thead>\n<tbody>\n";
    for (const auto& v : verdicts_) {
      std::string state = state_of(v);
      std::string id = needs_section(v) ? "<a href=\"#" + detail_anchor(v.spec->id) + "\">" + esc(v.spec->id) + "</a>"
                                        : esc(v.spec->id);
      out_ += "<tr class=\"rule\" id=\"" + rule_anchor(v.spec->id) + "\" data-verdict=\"" + esc(state) +
              "\" data-level=\"" + esc(v.spec->level) + "\"><td class=\"mono\">" + id + "</td><td>" + esc(v.spec->level) +
              "</td><td>" + esc(v.spec->section) + "</td><td>" + badge(state) + "</td><td>" + with_code(v.spec->summary) +
              "</td><td>" + spaced(baseline_mark(v)) + rule_detail(v) + "</td></tr>\n";
    }
    out_ += "</tbody>\n</table>\n";
  }

  // How the rule compares with --baseline, as the console marks it: only what needs a reader's eye.
  std::string baseline_mark(const rule_verdict& v) const {
    const baseline_change* c = baseline_of(report_, v.spec->id);
    if (!c) return "";
    std::string was(name_of(c->was));
    if (c->kind == baseline_kind::known)
      return "<span class=\"baseline\">(known" + (c->reason.empty() ? "" : ": " + esc(c->reason)) + ")</span>";
    if (c->kind == baseline_kind::regression) return "<span class=\"baseline\">(REGRESSION: baseline " + was + ")</span>";
    if (c->kind == baseline_kind::improvement) return "<span class=\"baseline\">(better than the baseline's " + was + ")</span>";
    return "";
  }

  std::string rule_detail(const rule_verdict& v) const {
    if (!v.spec->testable) return "untestable: " + esc(v.spec->untestable_reason);
    if (!v.selected) return "<span class=\"muted\">(no case of this run checks it)</span>";
    std::string text = v.detail.empty() ? "" : esc(v.detail) + ": ";
    for (std::size_t i = 0; i < v.cases.size(); ++i) {
      const case_result* first = first_run(v.cases[i]);
      std::string name = esc(v.cases[i]);
      text += (i ? " " : "") + (first ? "<a href=\"#" + case_anchor(*first) + "\">" + name + "</a>" : name);
    }
    return text;
  }

  const case_result* first_run(const std::string& id) const {
    for (const auto& c : report_.cases)
      if (c.id == id) return &c;
    return nullptr;
  }

  void rule_sections() {
    bool any = false;
    for (const auto& v : verdicts_) {
      if (!needs_section(v)) continue;
      if (!any) out_ += "<h2 id=\"attention\">Rules that need attention</h2>\n";
      any = true;
      rule_section(v);
    }
  }

  void rule_section(const rule_verdict& v) {
    std::string state = state_of(v), mark = baseline_mark(v);
    out_ += "<article class=\"rule-detail\" id=\"" + detail_anchor(v.spec->id) + "\" data-verdict=\"" + esc(state) +
            "\" data-level=\"" + esc(v.spec->level) + "\">\n<h3>" + badge(state) + " <span class=\"mono\">" +
            esc(v.spec->id) + "</span> [" + esc(v.spec->level) + "] <span class=\"section\">" + esc(v.spec->section) +
            "</span>" + (mark.empty() ? "" : " " + mark) + "</h3>\n<p class=\"summary\">" + with_code(v.spec->summary) + "</p>\n";
    // A BLOCKED rule's detail only names its blockers: they are shown as links instead.
    if (!v.detail.empty() && v.outcome != verdict::blocked) out_ += "<p class=\"detail\">" + esc(v.detail) + "</p>\n";
    if (!v.blocked_by.empty()) {
      out_ += "<p class=\"blocked-by\">blocked by:";
      for (const auto& b : v.blocked_by) out_ += " <a href=\"#" + detail_anchor(b) + "\">" + esc(b) + "</a>";
      out_ += "</p>\n";
    }
    for (const case_result* c : evidence(v, report_)) case_block(*c, result_for(*c, v.spec->id));
    out_ += "</article>\n";
  }

  // One case: why it gave its verdict, and, the first time the page shows it, its output and wire log.
  void case_block(const case_result& c, const rule_result* focus) {
    bool first = shown_.insert(&c).second;
    verdict v = focus ? focus->outcome : c.outcome;
    out_ += "<div class=\"case\"" + (first ? " id=\"" + case_anchor(c) + "\"" : std::string()) + ">\n<h4>" +
            badge(std::string(name_of(v))) + " case <span class=\"mono\">" + esc(case_name(c, report_.repeat)) +
            "</span> <span class=\"muted\">(" + esc(std::string(name_of(c.outcome))) + ", " + millis(c.ms) +
            " ms)</span></h4>\n";
    if (!c.description.empty()) out_ += "<p class=\"muted\">" + esc(c.description) + "</p>\n";
    why(c, focus);
    results(c, focus);
    if (!first) {
      out_ += "<p>Its output and wire log: <a href=\"#" + case_anchor(c) + "\">above</a>.</p>\n</div>\n";
      return;
    }
    timeline(c);
    if (!c.target_output.empty())
      out_ += "<h5>output of the implementation under test (tail)</h5>\n<pre class=\"target-output\">" +
              esc(c.target_output) + "</pre>\n";
    out_ += "</div>\n";
  }

  void why(const case_result& c, const rule_result* focus) {
    out_ += "<dl class=\"why\">\n";
    // BLOCKED: the blocker's failure is in the results below; here only who blocked it.
    bool blocked = focus && !focus->blocked_by.empty();
    if (focus && !focus->message.empty() && !blocked)
      out_ += "<dt>why</dt><dd class=\"message\">" + esc(focus->message) + "</dd>\n";
    if (!c.message.empty() && !blocked && (!focus || focus->message.find(c.message) == std::string::npos))
      out_ += "<dt>case</dt><dd class=\"message\">" + esc(c.message) + "</dd>\n";
    int line = focus && focus->line ? focus->line : c.failed_step;
    if (!c.file.empty()) out_ += "<dt>at</dt><dd class=\"mono\">" + esc(c.file) + (line ? ":" + std::to_string(line) : "") + "</dd>\n";
    if (blocked)
      out_ += "<dt>blocked by</dt><dd><a href=\"#" + detail_anchor(focus->blocked_by) + "\">" + esc(focus->blocked_by) +
              "</a></dd>\n";
    for (const auto& n : c.notes) out_ += "<dt>note</dt><dd class=\"message\">" + esc(n) + "</dd>\n";
    out_ += "</dl>\n";
  }

  // Every rule the case evaluated, so a reader sees what else the case found; messages said above (the
  // focus rule's, a blocker's failure again) are not repeated.
  void results(const case_result& c, const rule_result* focus) {
    if (c.results.empty()) return;
    out_ += "<table class=\"results\">\n";
    for (const auto& r : c.results) {
      std::string said = &r == focus ? ""
                         : r.outcome == verdict::blocked && !r.blocked_by.empty()
                             ? "by <a href=\"#" + detail_anchor(r.blocked_by) + "\">" + esc(r.blocked_by) + "</a>"
                             : esc(r.message);
      out_ += "<tr><td class=\"mono\"><a href=\"#" + rule_anchor(r.rule) + "\">" + esc(r.rule) + "</a></td><td>" +
              badge(std::string(name_of(r.outcome))) + "</td><td class=\"mono\">" + said + "</td></tr>\n";
    }
    out_ += "</table>\n";
  }

  // The wire log as a timeline: one column per connection in the order they appear, one row per entry.
  void timeline(const case_result& c) {
    if (c.wire.empty()) {
      out_ += "<p class=\"muted\">no wire log</p>\n";
      return;
    }
    std::vector<std::string> conns;
    int foreign = 0;
    for (const auto& w : c.wire) {
      if (std::find(conns.begin(), conns.end(), w.conn) == conns.end()) conns.push_back(w.conn);
      foreign += is_foreign(w);
    }
    out_ += "<h5>wire log <span class=\"muted\">(&gt; engine sent, &lt; received, * event, ~ passed over)</span></h5>\n";
    if (foreign)
      out_ += "<p class=\"muted foreign-count\">" + std::to_string(foreign) +
              " messages of other cases on the shared target, passed over</p>\n";
    out_ += "<table class=\"timeline\" data-case=\"" + esc(case_name(c, report_.repeat)) + "\">\n<thead><tr><th class=\"t\">ms</th>";
    for (const auto& name : conns) out_ += "<th>" + esc(name) + "</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    for (const auto& w : c.wire) timeline_row(w, conns);
    out_ += "</tbody>\n</table>\n";
  }

  static bool is_foreign(const wire_entry& w) {
    return w.direction == '~' && w.text.starts_with("another case's traffic");
  }

  void timeline_row(const wire_entry& w, const std::vector<std::string>& conns) {
    const char* kind = w.direction == '>' ? "dir-sent" : w.direction == '<' ? "dir-recv" : w.direction == '*' ? "dir-event" : "dir-over";
    out_ += std::string("<tr class=\"") + kind + (is_foreign(w) ? " foreign" : "") + "\"><td class=\"t\">" + millis(w.at_ms) + "</td>";
    for (const auto& name : conns) {
      if (name != w.conn) {
        out_ += "<td></td>";
        continue;
      }
      out_ += "<td class=\"e\"><span class=\"d\">" + esc(std::string(1, w.direction)) + "</span><span class=\"x\">" +
              esc(w.text) + "</span></td>";
    }
    out_ += "</tr>\n";
  }

  void case_list() {
    int passed = 0;
    for (const auto& c : report_.cases) passed += c.outcome == verdict::pass;
    out_ += "<h2 id=\"cases\">Cases <span class=\"muted\">(" + std::to_string(report_.cases.size()) + " runs, " +
            std::to_string(passed) + " passed)</span></h2>\n";
    for (const auto& c : report_.cases) {
      // A passing or skipped case is collapsed; one that did not pass and is not shown above is open.
      bool open = c.outcome != verdict::pass && c.outcome != verdict::skip && !shown_.contains(&c);
      std::string rules;
      for (const auto& r : c.rules) rules += (rules.empty() ? "" : " ") + r;
      out_ += std::string("<details class=\"case-entry\"") + (open ? " open" : "") + " data-verdict=\"" +
              esc(std::string(name_of(c.outcome))) + "\" data-level=\"" + esc(c.level) + "\"><summary>" +
              badge(std::string(name_of(c.outcome))) + " <span class=\"mono\">" + esc(case_name(c, report_.repeat)) +
              "</span> <span class=\"muted\">" + millis(c.ms) + " ms, " + esc(rules) + "</span></summary>\n";
      case_block(c, nullptr);
      out_ += "</details>\n";
    }
  }

  const rule_book& rules_;
  const run_report& report_;
  std::vector<rule_verdict> verdicts_;
  std::set<const case_result*> shown_;  // cases whose output and wire log are on the page already
  std::string out_;
};

}  // namespace

std::string to_html(const rule_book& rules, const run_report& report) { return page(rules, report).render(); }

}  // namespace parley::conform
