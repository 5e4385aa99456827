"""The conformance engine on targets that are not well: a target that cannot be tested is one clear ERROR
(exit 3), not a FAIL per case; a target that dies mid-run is named once; one that resets connections opened
close together is one finding; a racy one is FLAKY under --repeat; launched targets are readied and
stopped properly, also when the run is interrupted."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import binary
from test_faults import CLIENT, CLIENT_LAUNCH

CONFORM = binary("parley-conform")
SERVER = binary("parley-server")
ITP_LAUNCH = f"'{SERVER}' itp --port {{port}} --ping-interval {{ping}} --pong-timeout {{pong}}"


def conform(tmp_path, *args, timeout=180):
    """Runs parley-conform with a JSON report; returns (process, report or None)."""
    report = tmp_path / "report.json"
    proc = subprocess.run([CONFORM, *args, "--no-color", "--report-json", str(report)], capture_output=True,
                          text=True, timeout=timeout)
    return proc, (json.loads(report.read_text()) if report.exists() else None)


def rule_verdicts(report):
    return {r["id"]: r["verdict"] for r in report["rules"]}


def broken(report):
    return {rule: v for rule, v in rule_verdicts(report).items() if v in ("FAIL", "WARN", "FLAKY", "NOT-IMPL")}


def test_unreachable_target_is_one_error(tmp_path):
    proc, report = conform(tmp_path, "itp", "--target", "127.0.0.1:1")
    assert proc.returncode == 3, proc.stdout
    assert "the target cannot be tested" in proc.stdout and "Connection refused" in proc.stdout, proc.stdout
    assert report["target_error"] and report["cases"] == [], report
    assert "FAIL" not in proc.stdout


def test_target_of_another_protocol_is_one_error(tmp_path, securechat_server):
    proc, report = conform(tmp_path, "itp", "--target", f"127.0.0.1:{securechat_server.port}")
    assert proc.returncode == 3, proc.stdout
    assert "does not speak itp" in report["target_error"], report["target_error"]
    assert report["cases"] == []


def test_launched_command_that_exits_is_one_error_with_its_output(tmp_path):
    proc, report = conform(tmp_path, "itp", "--launch", "echo 'cannot open config' >&2; exit 4 # {port}")
    assert proc.returncode == 3, proc.stdout
    assert "exited with code 4" in report["target_error"], report["target_error"]
    assert any("cannot open config" in n for n in report["notes"]), report["notes"]


@pytest.mark.parametrize("events", [[], ["--no-events"]])
def test_launched_client_that_exits_before_connecting_is_one_error(tmp_path, events):
    """A client that cannot start (a bad option, a missing file) is not judged: one ERROR with its exit
    status and output, exit 3, no case run, and no guess about whether it prints events."""
    launch = "echo 'no such option: --hots' >&2; exit 4 # {port} {name}"
    proc, report = conform(tmp_path, "itp", "--role", "client", "--launch", launch, *events)
    assert proc.returncode == 3, proc.stdout
    assert "the client exited with code 4 before it connected" in report["target_error"], report["target_error"]
    assert any("no such option: --hots" in n for n in report["notes"]), report["notes"]
    assert not any("printed no JSON events" in n for n in report["notes"]), report["notes"]
    assert report["cases"] == [] and "FAIL" not in proc.stdout, proc.stdout


def test_target_that_dies_mid_run_is_named_once(tmp_path, start_server):
    """Against --target nothing can be restarted: the case that killed it keeps its FAIL, with a note;
    every later case is ERROR "target down"; the run exits 3."""
    server = start_server("--fault", "crash-on-long-name")
    proc, report = conform(tmp_path, "itp", "--target", f"127.0.0.1:{server.port}", "-j", "1")
    assert proc.returncode == 3, proc.stdout[-3000:]
    assert report["target_down"]
    assert any("stopped accepting connections during case ident-invalid-names" in n for n in report["notes"]), \
        report["notes"]
    assert broken(report) == {"ITP-IDENT-02": "FAIL"}, proc.stdout[-3000:]
    culprit = next(c for c in report["cases"] if c["id"] == "ident-invalid-names")
    assert culprit["verdict"] == "FAIL" and "stopped accepting connections" in culprit["message"]
    after = report["cases"][report["cases"].index(culprit) + 1:]
    assert after and all(c["verdict"] in ("ERROR", "SKIP") for c in after)
    assert all("target down" in c["message"] for c in after if c["verdict"] == "ERROR")
    assert not server.alive()


def test_launched_target_that_dies_is_restarted_and_the_culprit_charged(tmp_path):
    proc, report = conform(tmp_path, "itp", "--launch", ITP_LAUNCH + " --fault crash-on-long-name")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert broken(report) == {"ITP-IDENT-02": "FAIL"}, proc.stdout[-3000:]
    assert any("restarted the target" in n for n in report["notes"]), report["notes"]
    assert any("ident-invalid-names, run alone, stopped the target" in n for n in report["notes"]), report["notes"]
    culprit = next(c for c in report["cases"] if c["id"] == "ident-invalid-names")
    assert "exited with code 1" in culprit["message"] and "fatal" in culprit["target_output"], culprit
    assert not [c for c in report["cases"] if c["verdict"] == "ERROR"]


def test_target_resetting_close_connections_is_one_finding(tmp_path):
    proc, report = conform(tmp_path, "itp", "--launch", ITP_LAUNCH + " --fault reset-rapid-connects")
    assert proc.returncode == 1, proc.stdout[-3000:]
    failing = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] != "PASS"]
    assert broken(report) == {"ITP-CONN-04": "FAIL"}, (broken(report), failing, report["notes"])
    assert any("connects" in n and "apart" in n for n in report["notes"]), report["notes"]


def test_racy_rule_is_flaky_with_its_counts(tmp_path):
    proc, report = conform(tmp_path, "itp", "--launch", ITP_LAUNCH + " --fault racy-users-order",
                           "--case", "users-login-order", "--repeat", "5", "-j", "1")
    rule = next(r for r in report["rules"] if r["id"] == "ITP-USERS-03")
    assert rule["verdict"] == "FLAKY", proc.stdout
    assert rule["runs"] == {"WARN": 2, "PASS": 3}, rule
    assert "FLAKY" in proc.stdout and "WARN in 2 of 5 runs" in proc.stdout
    assert proc.returncode == 1
    assert len(report["cases"]) == 5


def test_readiness_by_output_or_by_delay(tmp_path):
    """A target that takes a while to listen is waited for by --ready REGEX or --ready-delay MS."""
    slow = f"sleep 0.7; exec '{SERVER}' itp --port {{port}}"
    proc, report = conform(tmp_path, "itp", "--launch", slow, "--ready", "listening on", "--case", "ident-ok")
    assert proc.returncode == 0, proc.stdout
    proc, report = conform(tmp_path, "itp", "--launch", slow, "--ready-delay", "1200", "--case", "ident-ok")
    assert proc.returncode == 0, proc.stdout
    proc, report = conform(tmp_path, "itp", "--launch", f"'{SERVER}' itp --port {{port}}", "--ready", "never printed",
                           "--case", "ident-ok", "--time-scale", "0.2")
    assert proc.returncode == 3 and "--ready" in report["target_error"], proc.stdout


def test_interrupt_stops_launched_targets_and_writes_a_partial_report(tmp_path):
    marker = f"parley-interrupt-{os.getpid()}"
    launch = ITP_LAUNCH + f"; : {marker}"  # the shell stays, and its command line carries the marker
    report = tmp_path / "report.json"
    proc = subprocess.Popen([CONFORM, "itp", "--launch", launch, "--real-time", "-j", "1", "--no-color",
                             "--report-json", str(report)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "the target was never launched"
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out[-2000:]
    assert "INTERRUPTED" in out
    data = json.loads(report.read_text())
    assert data["interrupted"] and data["exit_code"] == 130
    assert subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode != 0, "a launched target survived"


@pytest.mark.parametrize("flag", ["--junit", "--report-json"])
def test_unwritable_report_path_is_refused_at_start(tmp_path, flag):
    proc = subprocess.run([CONFORM, "itp", flag, str(tmp_path / "missing" / "dir" / "report")], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2
    assert "cannot write there" in proc.stderr and "conformance" not in proc.stdout


def test_wire_log_escapes_what_arrived_once(tmp_path):
    """A control character the target sends shows as one escape (\\x09), as the engine's own sends do."""
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "tab.yaml").write_text(
        "- id: tab-echo\n"
        "  rules: [ITP-BCST-01]\n"
        "  steps:\n"
        "    - itp.login: {conn: a, name: \"${alice}\"}\n"
        "    - send: \"BCST a\\tb\"\n"
        "    - expect_silence: {conn: a, ms: 300}\n")
    proc, report = conform(tmp_path, "itp", "--cases", str(cases))
    assert proc.returncode == 1, proc.stdout
    wire = [w for w in report["cases"][0]["wire"] if "BCST a" in w["text"]]
    assert [w["text"] for w in wire] == ["BCST a\\x09b\\n", "OK BCST a\\x09b"], wire


TIMER_SERVER = os.path.join(os.path.dirname(__file__), "deviant_servers", "itp_timer_server.py")


@pytest.mark.parametrize("options,verdict", [("--reply-share 0.4", "PASS"), ("--ping-share 0.6", "FAIL")])
def test_a_timer_counts_from_what_started_it_not_from_a_late_reply(tmp_path, options, verdict):
    """The first PING is due one interval after the IDENT: a server slow to answer the IDENT, that then
    pings on time, passes; one that pings early fails, however quickly it answered."""
    launch = f"/usr/bin/python3 '{TIMER_SERVER}' {{port}} --ping {{ping}} {options}"
    proc, report = conform(tmp_path, "itp", "--launch", launch, "--case", "ping-first-after-login")
    assert rule_verdicts(report)["ITP-PING-01"] == verdict, proc.stdout
    if verdict == "FAIL":
        assert "too early" in proc.stdout, proc.stdout


PEERCHAT_CLIENT_LAUNCH = f"'{CLIENT}' peerchat {CLIENT_LAUNCH['peerchat']}"


def test_ports_other_processes_hold_are_not_offered_to_a_client(tmp_path):
    """On a busy machine other processes hold UDP ports on the client's address; a correct client refuses
    PORT for one of them, so the engine offers only ports free there: with three quarters of the chat range
    taken (which used to make most chats start with a refusal), the reference client still passes."""
    import resource
    import socket
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    held = []
    try:
        for port in range(40000, 60000):
            if port % 4 == 0:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            held.append(s)
        assert len(held) > 14000, len(held)
        proc, report = conform(tmp_path, "peerchat", "--role", "client", "--launch", PEERCHAT_CLIENT_LAUNCH)
        assert proc.returncode == 0 and not broken(report), proc.stdout[-4000:]
    finally:
        for s in held:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
