"""Independent multiparty clients that misbehave the way real ones do (scenarios/deviant_clients/
multiparty_client.py: Python and python3-cryptography, binary MTP with RSA-OAEP, RSASSA and AES-GCM, no
Parley events printed) are reported exactly by `parley-conform multiparty --role client`: the rule each
breaks FAILs and every other client rule PASSes. Every multiparty client rule is judged on the wire, so a
client that prints no events loses nothing: no rule is SKIP. The same script with no misbehaviour shows that
a correct client that prints no events passes."""
import json
import os
import subprocess

import pytest

BIN_DIR = os.environ.get("PARLEY_BIN") or os.path.join(os.path.dirname(__file__), "..", "build", "dev", "bin")
CONFORM = os.path.join(BIN_DIR, "parley-conform")
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deviant_clients", "multiparty_client.py")

CLIENT_RULES = {f"MP-CLIENT-{i:02d}" for i in range(1, 14)} | {"MP-CONN-01"}
EVENT_ONLY = set()  # what the user is shown is checked too, but every rule also has a wire check

# --mode -> the rules that client breaks, and those its failure keeps from being checked (BLOCKED).
DEVIANTS = {
    "good": (set(), set()),
    "early": ({"MP-CLIENT-01"}, {"MP-CONN-01"}),  # an init_req before the login_res, sealed under tk
    "mute": ({"MP-CLIENT-06"}, set()),             # never answers the server's status_req
    # A traceback on a typed text over 2048 bytes, not a local refusal: what the user types is not what
    # MP-CLIENT-13 is about, only what the server sends.
    "crash": ({"MP-CLIENT-09"}, set()),
}


def run_against(tmp_path, mode):
    launch = f"/usr/bin/python3 '{SCRIPT}' {{port}} {{name}} '{{keys}}' --mode {mode}"
    report = tmp_path / "report.json"
    proc = subprocess.run([CONFORM, "multiparty", "--role", "client", "--launch", launch, "--strict", "--no-color",
                           "--report-json", str(report)], capture_output=True, text=True, timeout=180)
    return proc, json.loads(report.read_text())


@pytest.mark.parametrize("mode", DEVIANTS)
def test_deviant_client_is_reported_exactly(tmp_path, mode):
    proc, report = run_against(tmp_path, mode)
    verdicts = {r["id"]: r["verdict"] for r in report["rules"] if r["id"] in CLIENT_RULES}
    broken, blocked = DEVIANTS[mode]
    expected = {rule: "FAIL" if rule in broken else "BLOCKED" if rule in blocked else
                "SKIP" if rule in EVENT_ONLY else "PASS" for rule in CLIENT_RULES}
    assert verdicts == expected, proc.stdout[-4000:]
    errors = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] == "ERROR"]
    assert not errors, errors
    assert proc.returncode == (1 if broken else 0), proc.stdout[-4000:]
    # The engine found out by itself, once, that this client prints no events.
    assert any("printed no JSON events" in note for note in report["notes"]), report["notes"]


def test_a_client_that_crashes_is_named_with_its_status_and_output(tmp_path):
    proc, report = run_against(tmp_path, "crash")
    case = next(c for c in report["cases"] if c["id"] == "client-refuses-long-text")
    assert "the client crashed: it exited with code 1" in case["notes"], case
    assert "OverflowError" in case["target_output"], case  # the tail of its traceback
