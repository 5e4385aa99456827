"""Independent securechat clients that misbehave the way real ones do (scenarios/deviant_clients/
securechat_client.py: Python, websockets and cryptography, no Parley events printed) are reported exactly by
`parley-conform securechat --role client`: the rule each breaks FAILs, every other client rule PASSes, and
SC-CLIENT-06, which only a client's events can show, is SKIP. The same script with no misbehaviour shows
that a correct client that prints no events passes."""
import json
import os
import subprocess

import pytest

BIN_DIR = os.environ.get("PARLEY_BIN") or os.path.join(os.path.dirname(__file__), "..", "build", "dev", "bin")
CONFORM = os.path.join(BIN_DIR, "parley-conform")
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deviant_clients", "securechat_client.py")

CLIENT_RULES = {f"SC-CLIENT-{i:02d}" for i in range(1, 12)}
EVENT_ONLY = {"SC-CLIENT-06"}  # the decrypted text the user is shown

# --mode -> the rules that client breaks.
DEVIANTS = {
    "good": set(),
    "early-send": {"SC-CLIENT-01"},           # a PublicMessage before the WelcomeMessage
    # A traceback instead of an ErrorMessage (SHOULD: --strict); dying of a server message breaks SC-CLIENT-11.
    "crash-unknown-sender": {"SC-CLIENT-08", "SC-CLIENT-11"},
    "close-without-leave": set(),             # a close 1000 with no LeaveMessage is allowed (spec §5, R25)
    "old-key": {"SC-CLIENT-03"},              # private messages keep going to a replaced key
}


@pytest.fixture(scope="module")
def run_against(tmp_path_factory):
    """The report of the client suite against the script in one mode (each mode runs once per session)."""
    runs = {}

    def run(mode):
        if mode not in runs:
            launch = f"/usr/bin/python3 '{SCRIPT}' {{port}} {{name}} '{{keys}}/{{name}}.pem' --mode {mode}"
            report = tmp_path_factory.mktemp(mode) / "report.json"
            proc = subprocess.run([CONFORM, "securechat", "--role", "client", "--launch", launch, "--strict",
                                   "--no-color", "--report-json", str(report)], capture_output=True, text=True,
                                  timeout=180)
            runs[mode] = proc, json.loads(report.read_text())
        return runs[mode]

    return run


@pytest.mark.parametrize("mode", DEVIANTS)
def test_deviant_client_is_reported_exactly(run_against, mode):
    proc, report = run_against(mode)
    verdicts = {r["id"]: r["verdict"] for r in report["rules"] if r["id"] in CLIENT_RULES}
    broken = DEVIANTS[mode]
    expected = {rule: "FAIL" if rule in broken else "SKIP" if rule in EVENT_ONLY else "PASS" for rule in CLIENT_RULES}
    assert verdicts == expected, proc.stdout[-4000:]
    errors = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] == "ERROR"]
    assert not errors, errors
    assert proc.returncode == (1 if broken else 0), proc.stdout[-4000:]
    # The engine found out by itself, once, that this client prints no events.
    assert any("printed no JSON events" in note for note in report["notes"]), report["notes"]


def test_a_client_that_crashes_is_named_with_its_status_and_output(run_against):
    proc, report = run_against("crash-unknown-sender")
    case = next(c for c in report["cases"] if c["id"] == "client-reports-unknown-sender")
    assert "the client crashed: it exited with code 1" in case["notes"], case
    assert "KeyError" in case["target_output"], case  # the tail of its traceback
