"""parley-conform --html: the page a run writes, loaded in a real browser (headless Chromium driven over the
DevTools protocol by scenarios/cdp.py). It loads without console errors or exceptions; its verdict and level
filters really hide and show rows; a failing rule's section and its wire-log timeline are visible, the wire
text byte-exact as the JSON report has it; a passing case's wire log is there, collapsed; the page reads
without JavaScript; and a target that could not be tested still gets a page that says so."""
import json
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from cdp import Browser
from conftest import REPO, binary

CONFORM = binary("parley-conform")
SERVER = binary("parley-server")
ITP_RULES = {r["id"]: r for r in json.loads((pathlib.Path(REPO) / "spec/itp/rules.json").read_text())["rules"]}
NO_JOINED = f"'{SERVER}' itp --port {{port}} --ping-interval {{ping}} --pong-timeout {{pong}} --fault no-joined"

# Page-side helpers every expression below may use. The content of a closed <details> keeps its display and
# offsetParent (Chromium skips it with content-visibility), hence checkVisibility() as well.
JS = """
const visible = el => !!el && getComputedStyle(el).display !== 'none' && el.offsetParent !== null &&
                      el.checkVisibility();
const $ = s => document.querySelector(s), $$ = s => Array.from(document.querySelectorAll(s));
const text = el => el ? el.textContent : null;
const setBox = (kind, value, on) => {
  const box = $(`#filters input[data-kind="${kind}"][value="${value}"]`);
  if (box.checked !== on) box.click();
};
const timeline = table => {
  const conns = Array.from(table.tHead.rows[0].cells).map(text);
  return Array.from(table.tBodies[0].rows).map(row => {
    const cell = row.querySelector('td.e');
    return {ms: text(row.cells[0]), conn: conns[cell.cellIndex], dir: text(cell.querySelector('.d')),
            text: text(cell.querySelector('.x')), visible: visible(row)};
  });
};
"""


def page(browser, body):
    """Evaluates `body` (statements ending in a return) in the page with the helpers above."""
    return browser.evaluate(f"(() => {{ {JS}\n{body} }})()")


def conform_html(directory, *args):
    html, report = directory / "report.html", directory / "report.json"
    proc = subprocess.run([CONFORM, *args, "--no-color", "--html", str(html), "--report-json", str(report)],
                          capture_output=True, text=True, timeout=180)
    assert html.exists(), proc.stdout[-3000:] + proc.stderr
    return proc, html, json.loads(report.read_text())


def console_line(stdout, pattern):
    return next(line for line in stdout.splitlines() if re.match(pattern, line))


def load(browser, html):
    browser.errors.clear()
    browser.open(str(html))


def assert_no_errors(browser):
    time.sleep(0.2)  # let the page's last console messages and exceptions arrive
    browser.evaluate("1")
    assert browser.errors == [], browser.errors


def assert_self_contained(html):
    source = html.read_text()
    assert not re.findall(r'\b(?:src|href|action)\s*=\s*"(?!#)', source), "the page refers to something outside it"
    assert "<link" not in source and "@import" not in source and "url(" not in source


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("chromium is not installed: install it (apt-get install -y chromium; ci/setup does) to test "
                    "the HTML report in a browser", pytrace=False)
    b = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    proc, html, report = conform_html(tmp_path_factory.mktemp("no-joined"), "itp", "--launch", NO_JOINED)
    assert proc.returncode == 1, proc.stdout[-3000:]
    return proc, html, report


def test_failing_run_page_shows_the_rule_and_its_counts(browser, failing_run):
    proc, html, report = failing_run
    assert_self_contained(html)
    load(browser, html)
    assert "FAIL" in browser.evaluate("document.title")
    assert page(browser, "return text($('#headline'));") == console_line(proc.stdout, r"\d+ rules: ")
    assert page(browser, "return text($('#closing'));") == console_line(proc.stdout, r"conformance: ")
    row = page(browser, "const r = $('#rule-ITP-IDENT-05'); "
                        "return {visible: visible(r), cells: Array.from(r.cells).map(text)};")
    assert row["visible"], row
    assert row["cells"][:5] == ["ITP-IDENT-05", "MUST", ITP_RULES["ITP-IDENT-05"]["section"], "FAIL",
                                ITP_RULES["ITP-IDENT-05"]["summary"].replace("`", "")], row
    untestable = page(browser, "return text($('#rule-ITP-CONN-03').cells[5]);")
    assert untestable == "untestable: " + ITP_RULES["ITP-CONN-03"]["untestable_reason"]
    assert_no_errors(browser)


def test_filters_hide_and_show_rows(browser, failing_run):
    _, html, _ = failing_run
    load(browser, html)
    state = """return {
      pass: $$('[data-verdict="PASS"]').map(visible),
      fail_row: visible($('#rule-ITP-IDENT-05')), fail_section: visible($('#detail-ITP-IDENT-05')),
      should: $$('tr.rule[data-level="SHOULD"]').map(visible)};"""
    shown = page(browser, state)
    assert len(shown["pass"]) > 10 and all(shown["pass"]) and shown["fail_row"] and shown["fail_section"], shown
    hidden = page(browser, f"setBox('verdict', 'PASS', false); {state}")
    assert not any(hidden["pass"]) and hidden["fail_row"] and hidden["fail_section"], hidden
    again = page(browser, f"setBox('verdict', 'PASS', true); {state}")
    assert again == shown
    must_off = page(browser, f"setBox('level', 'MUST', false); {state}")
    assert not must_off["fail_row"] and not must_off["fail_section"] and all(must_off["should"]), must_off
    assert page(browser, f"setBox('level', 'MUST', true); {state}") == shown
    assert_no_errors(browser)


def test_failing_rule_section_has_its_case_and_wire_timeline(browser, failing_run):
    proc, html, report = failing_run
    load(browser, html)
    case = next(c for c in report["cases"] if "ITP-IDENT-05" in c["rules"] and c["verdict"] == "FAIL")
    result = next(r for r in case["results"] if r["rule"] == "ITP-IDENT-05")
    at = re.search(r"^  at (\S+)$", proc.stdout.split("FAIL ITP-IDENT-05")[1], re.M).group(1)
    section = page(browser, """const s = $('#detail-ITP-IDENT-05');
      return {visible: visible(s), messages: $$('#detail-ITP-IDENT-05 dd').filter(visible).map(text),
              output: text(s.querySelector('.target-output')), output_visible: visible(s.querySelector('.target-output')),
              heading: text(s.querySelector('h3')), timeline: timeline(s.querySelector('table.timeline'))};""")
    assert section["visible"], section
    assert section["heading"].endswith("ITP-IDENT-05 [MUST] " + ITP_RULES["ITP-IDENT-05"]["section"]), section
    assert result["message"] in section["messages"] and at in section["messages"], section["messages"]
    assert section["output_visible"] and section["output"] == case["target_output"]
    # Every entry of the case's wire log, in order, in its connection's column, byte-exact.
    assert [(e["conn"], e["dir"], e["text"], e["ms"]) for e in section["timeline"]] == \
        [(w["conn"], w["dir"], w["text"], f"{w['ms']:.1f}") for w in case["wire"]]
    own = [e for e in section["timeline"] if not e["text"].startswith("another case's traffic")]
    assert all(e["visible"] for e in own) and {e["conn"] for e in own} == {"a", "b"}, own
    assert any(e["conn"] == "b" and e["dir"] == "<" and e["text"].startswith("OK IDENT bob_") for e in own), own
    assert any(e["conn"] == "a" and e["dir"] == ">" and re.fullmatch(r"IDENT alice_\w+\\n", e["text"]) for e in own)
    # Other cases' traffic on the shared target: hidden until asked for.
    foreign = page(browser, """const rows = () => $$('#detail-ITP-IDENT-05 tr.foreign');
      const before = rows().map(visible); $('#show-foreign').click(); const after = rows().map(visible);
      $('#show-foreign').click(); return {before, after};""")
    assert len(foreign["before"]) > 0 and not any(foreign["before"]) and all(foreign["after"]), foreign
    assert_no_errors(browser)


def test_failing_rule_reads_without_javascript(browser, failing_run):
    _, html, report = failing_run
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        load(browser, html)
        state = page(browser, """return {ran: document.body.classList.contains('hide-foreign'),
          section: visible($('#detail-ITP-IDENT-05')),
          rows: timeline($('#detail-ITP-IDENT-05 table.timeline')).filter(e => e.visible).length};""")
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)
    case = next(c for c in report["cases"] if "ITP-IDENT-05" in c["rules"] and c["verdict"] == "FAIL")
    assert not state["ran"] and state["section"] and state["rows"] == len(case["wire"]), state


def test_passing_run_keeps_every_wire_log_collapsed(browser, tmp_path):
    proc, html, report = conform_html(tmp_path, "peerchat")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert_self_contained(html)
    load(browser, html)
    assert "PASS" in browser.evaluate("document.title")
    assert page(browser, "return text($('#headline'));") == console_line(proc.stdout, r"\d+ rules: ")
    cases = page(browser, """const entries = $$('details.case-entry');
      return {n: entries.length, open: entries.filter(d => d.open).length, attention: !!$('#attention'),
              logs: entries.filter(d => d.querySelector('table.timeline')).length,
              shown: entries.filter(d => visible(d.querySelector('table.timeline'))).length};""")
    assert cases == {"n": len(report["cases"]), "open": 0, "attention": False, "logs": len(report["cases"]),
                     "shown": 0}, cases
    opened = page(browser, """const d = $('details.case-entry'); d.querySelector('summary').click();
      const t = timeline(d.querySelector('table.timeline'));
      return {rows: t.length, visible: t.filter(e => e.visible).length};""")
    assert opened["rows"] > 0 and opened["visible"] > 0, opened
    assert_no_errors(browser)


def test_untestable_target_gets_a_page_saying_so(browser, tmp_path):
    proc, html, report = conform_html(tmp_path, "itp", "--target", "127.0.0.1:1")
    assert proc.returncode == 3, proc.stdout
    assert_self_contained(html)
    load(browser, html)
    shown = page(browser, """return {error: text($('#target-error')), visible: visible($('#target-error')),
      banner: text($('#outcome')), rules: !!$('#rule-table'), title: document.title};""")
    assert shown["visible"] and shown["error"] == report["target_error"] and "Connection refused" in shown["error"]
    assert "could not be tested" in shown["banner"] and "ERROR" in shown["title"] and not shown["rules"], shown
    assert_no_errors(browser)
