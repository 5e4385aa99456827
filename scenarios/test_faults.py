"""Every conformance case can fail: each protocol's suite runs against the reference server with each planted
fault (parley-server PROTOCOL --fault NAME) and exactly the cases that declare the fault must fail, all
others pass. Where the reference client has faults too (peerchat), the client-role cases are run the same
way against it (parley-client PROTOCOL --fault NAME, --role client)."""
import json
import os
import subprocess

import pytest

BIN_DIR = os.environ.get("PARLEY_BIN") or os.path.join(os.path.dirname(__file__), "..", "build", "dev", "bin")
SERVER = os.path.join(BIN_DIR, "parley-server")
CONFORM = os.path.join(BIN_DIR, "parley-conform")


# How each protocol's reference server is launched; {keys} is the key store the engine made for the run
# ({users}: the file that lists its users, multiparty).
LAUNCH = {
    "itp": "--port {port} --ping-interval {ping} --pong-timeout {pong}",
    "securechat": "--port {port} --keys {keys}",
    "multiparty": "--port {port} --keys {keys} --users {users} --status-interval {status}",
    "sslmessager": "--port {port} --cert {cert} --key {key} --users {users} --check-interval {check} "
                   "--login-timeout {login}",
    "peerchat": "--port {port} --port-timeout {port_timeout} --register-timeout {register} "
                "--max-connections {maxconn}",
}

# Protocols whose reference client has planted faults too, caught by the client-role cases (--role client).
CLIENT = os.path.join(BIN_DIR, "parley-client")
CLIENT_LAUNCH = {
    "peerchat": "--host 127.0.0.1 --port {port} --name {name} --identity {dir}/{name}.key "
                "--contacts {dir}/{name}.contacts --keepalive {keepalive} --peer-timeout {peer_timeout} "
                "--connect-timeout {connect_timeout} --script -",
}


def list_faults(protocol, program=SERVER):
    out = subprocess.run([program, protocol, "--list-faults"], capture_output=True, text=True, timeout=10, check=True)
    return [line.split("\t")[0] for line in out.stdout.splitlines() if line.strip()]


def run_client_suite(tmp_path, protocol, fault):
    launch = f"'{CLIENT}' {protocol} {CLIENT_LAUNCH[protocol]} --fault {fault}"
    report = tmp_path / "report.json"
    proc = subprocess.run([CONFORM, protocol, "--role", "client", "--launch", launch, "--no-color", "--strict",
                           "--report-json", str(report)], capture_output=True, text=True, timeout=120)
    return proc, json.loads(report.read_text())


def run_suite(tmp_path, protocol, fault=None):
    launch = f"'{SERVER}' {protocol} {LAUNCH[protocol]}"
    extra = []
    if fault:
        launch += f" --fault {fault}"
        # A fault that breaks a SHOULD (peerchat's no-register-timeout) must still fail the run.
        extra = ["--strict"]
        # A faulty server may keep a user of one case alive into the next (securechat's accept-duplicate-name,
        # sslmessager's keep-name-after-drop), so fault runs give every case its own server: the verdicts
        # then depend on the fault alone.
        extra += ["--fresh"] if protocol in ("securechat", "sslmessager") else []
    report = tmp_path / "report.json"
    proc = subprocess.run([CONFORM, protocol, "--launch", launch, "-j", "4", "--no-color", "--report-json", str(report)]
                          + extra, capture_output=True, text=True, timeout=120)
    return proc, json.loads(report.read_text())


ALL_FAULTS = [(p, f) for p in LAUNCH for f in list_faults(p)]


@pytest.mark.parametrize("protocol", LAUNCH)
def test_there_are_at_least_eight_faults(protocol):
    assert len(list_faults(protocol)) >= 8


@pytest.mark.parametrize("protocol", LAUNCH)
def test_suite_passes_against_the_launched_reference_server(tmp_path, protocol):
    proc, report = run_suite(tmp_path, protocol)
    bad = [(c["id"], c["verdict"], c["message"]) for c in report["cases"] if c["verdict"] not in ("PASS", "SKIP")]
    assert proc.returncode == 0 and not bad, proc.stdout[-3000:]
    declared = {f for c in report["cases"] for f in c["faults"]}
    known = set(list_faults(protocol)) | (set(list_faults(protocol, CLIENT)) if protocol in CLIENT_LAUNCH else set())
    assert declared <= known, f"cases name faults the server does not have: {declared - known}"


def assert_caught_by_exactly_its_cases(proc, report, fault):
    expected = {c["id"] for c in report["cases"] if fault in c["faults"]}
    failed = {c["id"] for c in report["cases"] if c["verdict"] in ("FAIL", "WARN", "NOT-IMPL")}
    errors = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] == "ERROR"]
    assert expected, f"no case declares that it catches fault {fault}"
    assert not errors, errors
    assert failed == expected, (f"fault {fault}: failed {sorted(failed)}, declared {sorted(expected)}\n"
                                + proc.stdout[-3000:])
    assert proc.returncode == 1


@pytest.mark.parametrize("protocol,fault", ALL_FAULTS)
def test_fault_is_caught_by_exactly_its_cases(tmp_path, protocol, fault):
    assert_caught_by_exactly_its_cases(*run_suite(tmp_path, protocol, fault), fault)


ALL_CLIENT_FAULTS = [(p, f) for p in CLIENT_LAUNCH for f in list_faults(p, CLIENT)]


@pytest.mark.parametrize("protocol,fault", ALL_CLIENT_FAULTS)
def test_client_fault_is_caught_by_exactly_its_cases(tmp_path, protocol, fault):
    assert_caught_by_exactly_its_cases(*run_client_suite(tmp_path, protocol, fault), fault)
