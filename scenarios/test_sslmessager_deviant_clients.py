"""The client-role verdicts are exact for clients Parley did not write: scenarios/deviant_clients/
sslmessager_deviant.py, a small stdlib client that prints no JSON events, runs the sslmessager client suite
once per mode. A well-behaved one passes every client rule; each misbehaving one FAILs exactly the rule its
misbehaviour breaks, every other rule is PASS, BLOCKED or SKIP, and no case is an ERROR (issue 12)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, binary

pytestmark = pytest.mark.usefixtures("hang_guard")

DEVIANT = os.path.join(REPO, "scenarios", "deviant_clients", "sslmessager_deviant.py")

# The rules the client-role cases judge; none rests on events alone, so a client without events is judged
# on every one of them.
CLIENT_RULES = {f"SSLM-CLIENT-{i:02d}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 10)} | {"SSLM-FRAME-03", "SSLM-FRAME-08"}

# mode: the rules it breaks, and what the report must say about the case that shows it.
EXPECTED = {
    "good": (set(), None),
    "truncate": ({"SSLM-CLIENT-03"}, "got 'MSG bbb aaa hello  '"),
    "keep-newline": ({"SSLM-CLIENT-03"}, "the text of this MSG holds a line break (LF)"),
    "any-accept": ({"SSLM-CLIENT-02"}, "expected c to be closed, got 'MSG ccc aaa are we in'"),
    "no-end": ({"SSLM-CLIENT-06"}, "expected /^END$/"),
    # Dying of a RELAY from a stranger also breaks SSLM-CLIENT-10, whose case sends some; the long texts
    # that kill crash-on-long (1000 bytes and more) come only in SSLM-CLIENT-04's case.
    "crash": ({"SSLM-CLIENT-04", "SSLM-CLIENT-10"}, "the client crashed: it exited with code 1"),
    "crash-on-long": ({"SSLM-CLIENT-04"}, "the client crashed: it exited with code 1"),
}


def run_suite(tmp_path, mode):
    report = tmp_path / "report.json"
    launch = f"'{sys.executable}' '{DEVIANT}' {{port}} {{name}} {{keys}} --mode {mode}"
    proc = subprocess.run([binary("parley-conform"), "sslmessager", "--role", "client", "--launch", launch,
                           "--no-color", "--report-json", str(report)], capture_output=True, text=True, timeout=120)
    return proc, json.loads(report.read_text())


@pytest.mark.parametrize("mode", EXPECTED)
def test_a_client_without_events_is_judged_by_the_wire(tmp_path, mode):
    broken, evidence = EXPECTED[mode]
    proc, report = run_suite(tmp_path, mode)
    verdicts = {r["id"]: r["verdict"] for r in report["rules"]}
    failed = {rule for rule, v in verdicts.items() if v in ("FAIL", "WARN", "FLAKY", "NOT-IMPL")}
    others = {rule: v for rule, v in verdicts.items()
              if rule not in broken and v not in ("PASS", "BLOCKED", "SKIP", "UNTESTABLE")}
    errors = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] == "ERROR"]
    assert not errors, errors
    assert failed == broken and not others, f"{mode}: failed {sorted(failed)}, others {others}\n{proc.stdout[-4000:]}"
    # Every client rule was judged from the wire, none skipped for want of events.
    assert all(verdicts[rule] in ("PASS", "FAIL") for rule in CLIENT_RULES), {r: verdicts[r] for r in CLIENT_RULES}
    assert any("printed no JSON events" in note for note in report["notes"]), report["notes"]
    assert proc.returncode == (1 if broken else 0), proc.stdout[-4000:]
    if evidence:
        shown = [c for c in report["cases"] if c["verdict"] == "FAIL" and evidence in c["message"]]
        assert shown, f"no failing case says {evidence!r}:\n{proc.stdout[-4000:]}"


def test_a_crash_shows_the_traceback(tmp_path):
    proc, report = run_suite(tmp_path, "crash-on-stranger")
    crashed = {c["id"]: c for c in report["cases"] if "crashed" in c["message"]}
    assert sorted(crashed) == ["client-shows-relay-and-cnt", "client-survives-garbage"], proc.stdout[-4000:]
    assert crashed["client-shows-relay-and-cnt"]["failed_rule"] == "SSLM-CLIENT-04"
    assert crashed["client-survives-garbage"]["failed_rule"] == "SSLM-CLIENT-10"
    for case in crashed.values():
        assert "KeyError: 'bbb'" in case["target_output"], case["target_output"]
