"""Client-role verdicts are exact for clients Parley did not write: the itp suite runs (--role client) against
a small independent Python client (deviant_clients/itp_client.py) that prints no events, once correct and
once per misbehaviour seen in real clients. The rule each misbehaviour breaks FAILs (runs use --strict, so
the SHOULD ITP-CLIENT-05 FAILs too; without it, it is a WARN); every other client rule is PASS, BLOCKED or
SKIP (the rules only the client's events can show are SKIP, found out by the run itself); no case ERRORs."""
import json
import os
import subprocess

import pytest

from conftest import BIN_DIR, REPO, binary

pytestmark = pytest.mark.usefixtures("hang_guard")

SCRIPT = os.path.join(REPO, "scenarios", "deviant_clients", "itp_client.py")
# Rules only a client's events can show: reading private messages (legacy tokens, forged bodies).
EVENT_ONLY = {"ITP-CRYPTO-05", "ITP-CRYPTO-06"}
# mode -> the rules it breaks
DEVIANTS = {
    "truncate-broadcasts": {"ITP-CLIENT-07"},
    "close-without-quit": {"ITP-CLIENT-05"},
    "ident-before-init": {"ITP-CLIENT-01"},
    "crash-on-unknown": {"ITP-CLIENT-06"},
}


WRAPPER = os.path.join(REPO, "examples", "wrap_client.py")


def run(tmp_path, mode, strict=True, wrapped=False):
    report = tmp_path / "report.json"
    launch = f"/usr/bin/python3 '{SCRIPT}' {{port}} {{name}} --mode {mode}"
    if wrapped:  # the README's way for a client with a command syntax of its own
        launch = f"/usr/bin/python3 '{WRAPPER}' -- {launch} --commands native"
    command = [binary("parley-conform"), "itp", "--role", "client", "--launch", launch, "--no-color",
               "--report-json", str(report)] + (["--strict"] if strict else [])
    proc = subprocess.run(command, capture_output=True, text=True, timeout=50)
    data = json.loads(report.read_text())
    client_rules = {r["id"]: r["verdict"] for r in data["rules"] if r["id"].startswith(("ITP-CLIENT-", "ITP-CRYPTO-"))}
    errors = [(c["id"], c["message"]) for c in data["cases"] if c["verdict"] == "ERROR"]
    return proc, data, client_rules, errors


def test_a_correct_client_without_events_passes(tmp_path):
    proc, data, verdicts, errors = run(tmp_path, "good")
    assert not errors, errors
    assert {rule for rule, v in verdicts.items() if v != "PASS"} == EVENT_ONLY, proc.stdout[-4000:]
    assert all(verdicts[rule] == "SKIP" for rule in EVENT_ONLY)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert any("printed no JSON events" in note for note in data["notes"]), data["notes"]


# mode -> the case it fails, and what the report says about the client's health there
HEALTH = {
    "close-without-quit": ("client-quits-politely", "the client exited (code 0) during the case"),
    "crash-on-unknown": ("client-survives-unknown-lines", "the client crashed: it exited with code 1"),
}


@pytest.mark.parametrize("mode", DEVIANTS)
def test_a_deviant_client_fails_exactly_the_rule_it_breaks(tmp_path, mode):
    proc, data, verdicts, errors = run(tmp_path, mode)
    assert not errors, errors
    failed = {rule for rule, v in verdicts.items() if v not in ("PASS", "BLOCKED", "SKIP")}
    assert failed == DEVIANTS[mode], f"{mode}: {verdicts}\n" + proc.stdout[-4000:]
    assert all(verdicts[rule] == "FAIL" for rule in failed)
    assert all(verdicts[rule] == "SKIP" for rule in EVENT_ONLY)
    assert proc.returncode == 1
    if mode in HEALTH:
        case_id, note = HEALTH[mode]
        case = next(c for c in data["cases"] if c["id"] == case_id)
        assert note in case["notes"], case


def test_leaving_without_quit_is_a_warning_without_strict(tmp_path):
    """ITP-CLIENT-05 is a SHOULD: without --strict the run warns and passes."""
    proc, _, verdicts, errors = run(tmp_path, "close-without-quit", strict=False)
    assert not errors, errors
    assert verdicts["ITP-CLIENT-05"] == "WARN", verdicts
    assert {rule for rule, v in verdicts.items() if v not in ("PASS", "SKIP")} == {"ITP-CLIENT-05"}
    assert proc.returncode == 0, proc.stdout[-4000:]


@pytest.mark.parametrize("mode", ["good", "truncate-broadcasts", "crash-on-unknown"])
def test_a_client_with_its_own_commands_is_judged_through_the_example_wrapper(tmp_path, mode):
    """examples/wrap_client.py translates the typed commands and keeps the client's health visible: the
    verdicts are those of the client run directly, a crash included."""
    proc, data, verdicts, errors = run(tmp_path, mode, wrapped=True)
    assert not errors, errors
    failed = {rule for rule, v in verdicts.items() if v not in ("PASS", "BLOCKED", "SKIP")}
    assert failed == DEVIANTS.get(mode, set()), f"{mode}: {verdicts}\n" + proc.stdout[-4000:]
    assert {rule for rule, v in verdicts.items() if v == "SKIP"} == EVENT_ONLY
    if mode in HEALTH:
        case_id, note = HEALTH[mode]
        case = next(c for c in data["cases"] if c["id"] == case_id)
        assert note in case["notes"], case
