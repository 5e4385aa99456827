"""Every conformance case can fail: the suite runs against the reference server with each planted fault
(parley-server --fault NAME) and exactly the cases that declare the fault must fail, all others pass."""
import json
import os
import subprocess

import pytest

BIN_DIR = os.environ.get("PARLEY_BIN") or os.path.join(os.path.dirname(__file__), "..", "build", "dev", "bin")
SERVER = os.path.join(BIN_DIR, "parley-server")
CONFORM = os.path.join(BIN_DIR, "parley-conform")


def list_faults():
    out = subprocess.run([SERVER, "itp", "--list-faults"], capture_output=True, text=True, timeout=10, check=True)
    return [line.split("\t")[0] for line in out.stdout.splitlines() if line.strip()]


def run_suite(tmp_path, fault=None):
    launch = f"'{SERVER}' itp --port {{port}} --ping-interval {{ping}} --pong-timeout {{pong}}"
    if fault:
        launch += f" --fault {fault}"
    report = tmp_path / "report.json"
    proc = subprocess.run([CONFORM, "itp", "--launch", launch, "-j", "4", "--no-color", "--report-json", str(report)],
                          capture_output=True, text=True, timeout=120)
    return proc, json.loads(report.read_text())


def test_there_are_at_least_eight_faults():
    assert len(list_faults()) >= 8


def test_suite_passes_against_the_launched_reference_server(tmp_path):
    proc, report = run_suite(tmp_path)
    bad = [(c["id"], c["verdict"], c["message"]) for c in report["cases"] if c["verdict"] not in ("PASS", "SKIP")]
    assert proc.returncode == 0 and not bad, proc.stdout[-3000:]
    declared = {f for c in report["cases"] for f in c["faults"]}
    assert declared <= set(list_faults()), f"cases name faults the server does not have: {declared - set(list_faults())}"


@pytest.mark.parametrize("fault", list_faults())
def test_fault_is_caught_by_exactly_its_cases(tmp_path, fault):
    proc, report = run_suite(tmp_path, fault)
    expected = {c["id"] for c in report["cases"] if fault in c["faults"]}
    failed = {c["id"] for c in report["cases"] if c["verdict"] in ("FAIL", "WARN")}
    errors = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] == "ERROR"]
    assert expected, f"no case declares that it catches fault {fault}"
    assert not errors, errors
    assert failed == expected, (f"fault {fault}: failed {sorted(failed)}, declared {sorted(expected)}\n"
                                + proc.stdout[-3000:])
    assert proc.returncode == 1
