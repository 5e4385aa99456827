"""What CI pipelines keep of a run: selection by rule, level and section; baselines (a fault introduced, known,
removed, and a new one); JUnit read the way CI plugins read it; the Markdown summary; and exit codes that
are the same whatever report options are given."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO, binary

pytestmark = pytest.mark.usefixtures("hang_guard")

CONFORM = binary("parley-conform")
SERVER = binary("parley-server")


def launch(fault=None):
    command = f"'{SERVER}' itp --port {{port}} --ping-interval {{ping}} --pong-timeout {{pong}}"
    return command + (f" --fault {fault}" if fault else "")


def conform(tmp_path, *args, timeout=180, protocol="itp"):
    report = tmp_path / "report.json"
    proc = subprocess.run([CONFORM, protocol, *args, "--no-color", "--report-json", str(report)], capture_output=True,
                          text=True, timeout=timeout)
    return proc, (json.loads(report.read_text()) if report.exists() else None)


def rules_json(protocol="itp"):
    return {r["id"]: r for r in json.load(open(os.path.join(REPO, "spec", protocol, "rules.json")))["rules"]}


def judged(report):
    return {r["id"]: r["verdict"] for r in report["rules"] if r["verdict"] not in ("UNTESTABLE", "NOT-SELECTED")}


# --- selection ------------------------------------------------------------------------------------------

def test_rule_selection_runs_the_cases_that_check_those_rules_and_reports_only_them(tmp_path):
    listed = subprocess.run([CONFORM, "itp", "--rule", "ITP-PING-*", "--list"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    case_lines = [line for line in listed.stdout.splitlines() if "[server]" in line or "[client]" in line]
    assert case_lines and all("ITP-PING-" in line for line in case_lines), listed.stdout
    assert listed.stdout.startswith(f"{len(case_lines)} cases check the 6 selected rules"), listed.stdout

    proc, report = conform(tmp_path, "--rule", "ITP-PING-*")
    assert proc.returncode == 0, proc.stdout
    assert {r["id"] for r in report["rules"]} == {r for r in rules_json() if r.startswith("ITP-PING-")}
    assert {c["id"] for c in report["cases"]} == {line.split()[0] for line in case_lines}


def test_level_and_section_select_together(tmp_path):
    spec = rules_json()
    proc, report = conform(tmp_path, "--level", "must", "--section", "6")
    assert proc.returncode == 0, proc.stdout
    wanted = {i for i, r in spec.items() if r["level"] == "MUST" and r["section"].split()[0].split(".")[0] == "6"}
    assert {r["id"] for r in report["rules"]} == wanted and wanted
    proc, report = conform(tmp_path, "--section", "6.2")
    assert {r["id"] for r in report["rules"]} == {i for i, r in spec.items() if r["section"].startswith("6.2 ")}


@pytest.mark.parametrize("args, says", [
    (["--level", "must,often"], "--level is must, should or may, not 'often'"),
    (["--rule", "ITP-NOPE-*"], "no rule of itp matches the selection"),
    (["--section", "six"], "--section takes a section number"),
])
def test_a_selection_mistake_is_a_usage_error(tmp_path, args, says):
    proc, _ = conform(tmp_path, *args)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr


# --- baselines ------------------------------------------------------------------------------------------

def test_baseline_fails_only_on_changes(tmp_path):
    base = tmp_path / "itp.baseline"
    # A server with a defect: the baseline records it.
    proc, report = conform(tmp_path, "--launch", launch("no-joined"), "--write-baseline", str(base))
    assert proc.returncode == 1 and judged(report)["ITP-IDENT-05"] == "FAIL", proc.stdout
    lines = {line.split()[0]: line.split()[1] for line in base.read_text().splitlines() if line and not line.startswith("#")}
    assert lines["ITP-IDENT-05"] == "FAIL" and lines["ITP-BCST-02"] == "PASS", base.read_text()
    assert set(lines) == set(judged(report))
    # A reason written by hand survives; the same defect again is known: exit 0.
    base.write_text(base.read_text().replace("ITP-IDENT-05     FAIL", "ITP-IDENT-05     FAIL     no JOINED yet, ticket 12"))
    proc, report = conform(tmp_path, "--launch", launch("no-joined"), "--baseline", str(base))
    assert proc.returncode == 0, proc.stdout
    assert "(known: no JOINED yet, ticket 12)" in proc.stdout and "1 known, 0 regressions" in proc.stdout, proc.stdout
    assert report["baseline"]["known"] == 1 and report["baseline"]["regressions"] == 0
    assert report["exit_code"] == 0
    # The defect fixed: still exit 0, and the report says the baseline is out of date.
    proc, report = conform(tmp_path, "--launch", launch(), "--baseline", str(base))
    assert proc.returncode == 0, proc.stdout
    assert "ITP-IDENT-05 now passes: update the baseline" in proc.stdout, proc.stdout
    assert report["baseline"]["improvements"] == 1
    # A new defect: a regression fails the run, the known one does not count.
    proc, report = conform(tmp_path, "--launch", launch("echo-bcst"), "--baseline", str(base))
    assert proc.returncode == 1, proc.stdout
    assert "regression: ITP-BCST-03 FAIL (baseline: PASS)" in proc.stdout, proc.stdout
    assert report["baseline"]["regressions"] == 1
    # Writing it again keeps the hand-written reason of an unchanged verdict.
    conform(tmp_path, "--launch", launch("no-joined"), "--write-baseline", str(base))
    assert "ITP-IDENT-05     FAIL     no JOINED yet, ticket 12" in base.read_text()


def test_a_malformed_baseline_is_a_usage_error_naming_the_line(tmp_path):
    base = tmp_path / "bad.baseline"
    base.write_text("# mine\nITP-IDENT-05 FIAL\n")
    proc, _ = conform(tmp_path, "--baseline", str(base))
    assert proc.returncode == 2 and f"{base}:2: 'FIAL' is not a verdict" in proc.stderr, proc.stderr


# --- JUnit, Markdown, exit codes ------------------------------------------------------------------------

def test_junit_has_one_test_per_rule_with_the_evidence(tmp_path):
    junit, markdown = tmp_path / "itp.xml", tmp_path / "summary.md"
    proc, report = conform(tmp_path, "--launch", launch("no-presence"), "--junit", str(junit), "--markdown", str(markdown))
    assert proc.returncode == 1, proc.stdout
    spec, verdicts = rules_json(), judged(report)
    root = ET.parse(junit).getroot()  # as CI plugins read it: a parse error fails here
    tests = root.findall("./testsuite/testcase")
    assert {t.get("name") for t in tests} == set(verdicts)
    for t in tests:
        assert t.get("classname") == f"itp.{spec[t.get('name')]['section']}", t.attrib
        float(t.get("time"))
    by_name = {t.get("name"): t for t in tests}
    failed = {name for name, t in by_name.items() if t.find("failure") is not None}
    assert failed == {r for r, v in verdicts.items() if v == "FAIL"} >= {"ITP-IDENT-05", "ITP-LEFT-01"}
    suite = root.find("testsuite")
    assert int(suite.get("failures")) == len(failed) and int(suite.get("tests")) == len(tests)
    assert int(suite.get("skipped")) == len([t for t in tests if t.find("skipped") is not None])
    out = by_name["ITP-IDENT-05"].find("system-out").text
    assert "wire log of" in out and "IDENT" in out, out
    for name, verdict in verdicts.items():
        if verdict in ("BLOCKED", "SKIP"):
            assert by_name[name].find("skipped").get("message").startswith(verdict), name
        if verdict == "PASS":
            assert list(by_name[name]) == [], name

    text = markdown.read_text()
    assert text.startswith("## parley-conform itp: failed") and "| FAIL | `ITP-IDENT-05` | MUST |" in text, text
    assert "wire log" not in text and len(text) < 4000


def test_known_failures_are_skipped_tests_in_junit(tmp_path):
    base, junit, markdown = tmp_path / "b", tmp_path / "j.xml", tmp_path / "s.md"
    conform(tmp_path, "--launch", launch("no-joined"), "--write-baseline", str(base))
    proc, _ = conform(tmp_path, "--launch", launch("no-joined"), "--baseline", str(base), "--junit", str(junit),
                      "--markdown", str(markdown))
    assert proc.returncode == 0, proc.stdout
    case = next(t for t in ET.parse(junit).getroot().iter("testcase") if t.get("name") == "ITP-IDENT-05")
    assert case.find("failure") is None and case.find("skipped").get("message").startswith("known FAIL"), ET.tostring(case)
    assert "| FAIL | `ITP-IDENT-05` | MUST | known |" in markdown.read_text()


@pytest.mark.parametrize("target, code", [(["--target", "127.0.0.1:1"], 3), (["--launch", "PLACEHOLDER"], 1)])
def test_exit_codes_do_not_depend_on_report_options(tmp_path, target, code):
    target = [launch("echo-bcst") if a == "PLACEHOLDER" else a for a in target]
    plain, _ = conform(tmp_path, *target, "--rule", "ITP-BCST-*")
    files = {flag: tmp_path / f"out{flag.replace('-', '_')}" for flag in ("--junit", "--markdown", "--write-baseline")}
    options = [x for flag, path in files.items() for x in (flag, str(path))]
    full, report = conform(tmp_path, *target, "--rule", "ITP-BCST-*", *options)
    assert plain.returncode == full.returncode == report["exit_code"] == code, full.stdout
    assert files["--junit"].exists() and files["--markdown"].exists()
    assert files["--write-baseline"].exists() == (code != 3)  # a run that judged nothing is no baseline
    ET.parse(files["--junit"])


@pytest.mark.parametrize("protocol", ["itp", "securechat", "multiparty", "sslmessager", "peerchat"])
def test_every_protocol_writes_every_report_and_meets_its_own_baseline(tmp_path, protocol):
    base, junit, markdown, html = tmp_path / "b", tmp_path / "j.xml", tmp_path / "s.md", tmp_path / "r.html"
    proc, report = conform(tmp_path, "--write-baseline", str(base), "--junit", str(junit), "--markdown", str(markdown),
                           "--html", str(html), protocol=protocol)
    assert proc.returncode == 0, proc.stdout[-3000:]
    page = html.read_text()  # test_report_html.py drives such pages in a browser
    assert page.startswith("<!DOCTYPE html>") and f"parley-conform {protocol}" in page
    assert all(f'id="rule-{r}"' in page or r in page for r in judged(report))
    spec = rules_json(protocol)
    tests = ET.parse(junit).getroot().findall("./testsuite/testcase")
    assert {t.get("name") for t in tests} == set(judged(report))
    assert all(t.get("classname") == f"{protocol}.{spec[t.get('name')]['section']}" for t in tests)
    assert markdown.read_text().startswith(f"## parley-conform {protocol}: passed")
    proc, report = conform(tmp_path, "--baseline", str(base), protocol=protocol)
    assert proc.returncode == 0 and report["baseline"]["regressions"] == 0, proc.stdout[-3000:]
