"""Client-role verdicts are exact for a peerchat client Parley did not write: the peerchat suite runs (--role
client) against a small independent Python client (deviant_clients/peerchat_client.py) that speaks peerchat/1
only, in the original's datagram layout, and prints no events; once correct and once answering PORT with a
single OK (PC-CLI-03 wants two towards a peerchat/1 server). Every peerchat/1 client rule is judged on the
wire, so the correct client PASSes them all; the peerchat/2 cases are SKIP under --profile v1, and without it
they cannot be judged (ERROR, never FAIL): the engine does not learn a client's profile by itself. A client that
refuses every port it is offered FAILs PC-CLI-03 alone, though the engine runs a case again after a refusal
(a busy machine's passing socket can take an offered port): the chats it never starts are BLOCKED."""
import json
import os
import re
import subprocess

import pytest

from conftest import REPO, binary

pytestmark = pytest.mark.usefixtures("hang_guard")

SCRIPT = os.path.join(REPO, "scenarios", "deviant_clients", "peerchat_client.py")
CASES = os.path.join(REPO, "conformance", "cases", "peerchat")
# The rules only peerchat/2 cases check: SKIP for a peerchat/1-only client.
V2_ONLY = {"PC-TRUST-01", "PC-TRUST-02", "PC-HS-01", "PC-HS-02", "PC-HS-03", "PC-HS-04", "PC-HS-05", "PC-HS-06",
           "PC-HS-07", "PC-REC-01", "PC-REC-02", "PC-REC-03", "PC-REPLAY-01", "PC-REPLAY-02", "PC-KEEP-03"}
V2_SKIP = "needs peerchat/2; the target offers peerchat/1 only"
# mode -> the rules it breaks
DEVIANTS = {"single-ok": {"PC-CLI-03"}, "refuse-ports": {"PC-CLI-03"}}


def run(tmp_path, mode, *extra):
    report = tmp_path / "report.json"
    launch = (f"/usr/bin/python3 '{SCRIPT}' {{port}} {{name}} --mode {mode} --keepalive {{keepalive}} "
              f"--peer-timeout {{peer_timeout}} --connect-timeout {{connect_timeout}}")
    command = [binary("parley-conform"), "peerchat", "--role", "client", "--launch", launch, "--no-color", "--strict",
               "--report-json", str(report), *extra]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    data = json.loads(report.read_text())
    client_cases = [c for c in data["cases"] if not c["message"].startswith("server-role case")]
    client_rules = {r["rule"] for c in client_cases for r in c["results"]}
    verdicts = {r["id"]: r["verdict"] for r in data["rules"] if r["id"] in client_rules}
    return proc, data, client_cases, verdicts


def v2_case_ids():
    """The client-role cases marked `profile: peerchat/2` in the case files."""
    ids = set()
    for name in os.listdir(CASES):
        for case in open(os.path.join(CASES, name)).read().split("\n- id: ")[1:]:
            if re.search(r"^  profile: peerchat/2$", case, re.M) and re.search(r"^  role: client$", case, re.M):
                ids.add(case.split("\n", 1)[0].strip())
    return ids


def v2_cases(cases):
    wanted = v2_case_ids()
    found = [c for c in cases if c["id"] in wanted]
    assert len(found) == len(wanted) > 10, sorted(wanted)
    return found


def test_a_correct_peerchat1_client_without_events_passes(tmp_path):
    proc, data, cases, verdicts = run(tmp_path, "good", "--profile", "v1")
    assert not [(c["id"], c["message"]) for c in cases if c["verdict"] == "ERROR"]
    assert {rule for rule, v in verdicts.items() if v != "PASS"} == V2_ONLY, proc.stdout[-4000:]
    assert all(verdicts[rule] == "SKIP" for rule in V2_ONLY)
    assert all(c["verdict"] == "SKIP" and c["message"] == V2_SKIP for c in v2_cases(cases))
    assert data["profiles"] == ["peerchat/1"]
    assert any("printed no JSON events" in note for note in data["notes"]), data["notes"]
    assert proc.returncode == 0, proc.stdout[-4000:]


@pytest.mark.parametrize("mode", DEVIANTS)
def test_a_deviant_client_fails_exactly_the_rule_it_breaks(tmp_path, mode):
    proc, _, cases, verdicts = run(tmp_path, mode, "--profile", "v1")
    assert not [(c["id"], c["message"]) for c in cases if c["verdict"] == "ERROR"]
    failed = {rule for rule, v in verdicts.items() if v not in ("PASS", "BLOCKED", "SKIP")}
    assert failed == DEVIANTS[mode], f"{mode}: {verdicts}\n" + proc.stdout[-4000:]
    assert all(verdicts[rule] == "FAIL" for rule in failed)
    assert all(verdicts[rule] == "SKIP" for rule in V2_ONLY)
    assert proc.returncode == 1


def test_without_a_profile_the_peerchat2_cases_are_never_a_fail(tmp_path):
    """A peerchat/1-only client is no defect: a case that needs peerchat/2 cannot judge it (ERROR, saying
    --profile v1), and no rule FAILs."""
    proc, _, cases, verdicts = run(tmp_path, "good")
    assert not [rule for rule, v in verdicts.items() if v in ("FAIL", "WARN", "FLAKY")], proc.stdout[-4000:]
    for case in v2_cases(cases):
        assert case["verdict"] in ("SKIP", "ERROR"), case
        assert case["verdict"] == "SKIP" or "--profile v1" in case["message"], case
