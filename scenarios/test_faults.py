"""Verdicts are precise: each protocol's suite runs against the reference server with each planted fault
(parley-server PROTOCOL --fault NAME), and the rules that FAIL must be exactly the rules the fault's table
entry declares; every other rule is PASS, BLOCKED or SKIP (never FAIL, never ERROR). Every case that names a
fault must also fail against it, so every case is shown able to fail. Where the reference client has faults
too (peerchat), the client-role cases are run the same way against it (parley-client PROTOCOL --fault NAME,
--role client)."""
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
    "itp": "--port {port} --ping-interval {ping} --pong-timeout {pong} --login-timeout {login}",
    "securechat": "--port {port} --keys {keys} --login-timeout {login}",
    "multiparty": "--port {port} --keys {keys} --users {users} --status-interval {status}",
    "sslmessager": "--port {port} --cert {cert} --key {key} --users {users} --check-interval {check} "
                   "--login-timeout {login}",
    "peerchat": "--port {port} --port-timeout {port_timeout} --register-timeout {register} "
                "--max-connections {maxconn}",
}

# How each protocol's reference client is launched for the client-role cases (--role client); its planted
# faults (parley-client PROTOCOL --fault NAME) are caught by them.
CLIENT = os.path.join(BIN_DIR, "parley-client")
CLIENT_LAUNCH = {
    "itp": "--host 127.0.0.1 --port {port} --name {name} --script -",
    "securechat": "--host 127.0.0.1 --port {port} --name {name} --key '{keys}/{name}.pem' --script -",
    "multiparty": "--host 127.0.0.1 --port {port} --name {name} --key '{keys}/{name}.pem' "
                  "--server-key '{keys}/server.public.pem' --script -",
    "sslmessager": "--host 127.0.0.1 --port {port} --name {name} --password-file '{keys}/{name}.password' "
                   "--ca '{keys}/server.crt' --script -",
    "peerchat": "--host 127.0.0.1 --port {port} --name {name} --identity {dir}/{name}.key "
                "--contacts {dir}/{name}.contacts --keepalive {keepalive} --peer-timeout {peer_timeout} "
                "--connect-timeout {connect_timeout} --script -",
}


def fault_table(protocol, program=SERVER):
    """{name: (declared rules, kind)} from --list-faults: name TAB description TAB rules [TAB racy|variant|fuzz]."""
    out = subprocess.run([program, protocol, "--list-faults"], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        return {}  # test_every_client_has_faults says so
    table = {}
    for line in out.stdout.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        rules = set(fields[2].split()) if len(fields) > 2 else set()
        table[fields[0]] = (rules, fields[3] if len(fields) > 3 else "exact")
    return table


def list_faults(protocol, program=SERVER):
    return list(fault_table(protocol, program))


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


def run_cases(tmp_path, protocol, cases):
    """parley-conform PROTOCOL on the given cases (dicts) against its built-in reference server: the
    process and each case's verdict by id."""
    (tmp_path / "cases").mkdir()
    # JSON is YAML: the case files are written with the standard library alone.
    (tmp_path / "cases" / "cases.yaml").write_text(json.dumps(cases))
    report = tmp_path / "report.json"
    proc = subprocess.run([CONFORM, protocol, "--cases", str(tmp_path / "cases"), "--no-color",
                           "--report-json", str(report)], capture_output=True, text=True, timeout=120)
    return proc, {c["id"]: c["verdict"] for c in json.loads(report.read_text())["cases"]}


ALL_FAULTS = [(p, f) for p in LAUNCH for f in list_faults(p)]


@pytest.mark.parametrize("protocol", LAUNCH)
def test_there_are_at_least_eight_faults(protocol):
    assert len(list_faults(protocol)) >= 8


@pytest.mark.parametrize("protocol", CLIENT_LAUNCH)
def test_every_client_has_faults(protocol):
    assert list_faults(protocol, CLIENT), f"parley-client {protocol} --list-faults lists no fault"


@pytest.mark.parametrize("protocol", CLIENT_LAUNCH)
def test_every_client_case_names_a_client_fault(tmp_path, protocol):
    """Every client-role case is shown able to fail: it names a fault of the reference client."""
    listed = subprocess.run([CONFORM, protocol, "--list"], capture_output=True, text=True, timeout=30, check=True)
    client_cases = [line.split()[0] for line in listed.stdout.splitlines() if "[client]" in line]
    report = tmp_path / "report.json"
    launch = f"'{CLIENT}' {protocol} {CLIENT_LAUNCH[protocol]}"
    subprocess.run([CONFORM, protocol, "--role", "client", "--launch", launch, "--no-color", "--report-json",
                    str(report)], capture_output=True, text=True, timeout=120)
    faults = set(list_faults(protocol, CLIENT))
    named = {c["id"]: set(c["faults"]) & faults for c in json.loads(report.read_text())["cases"]}
    unproven = [case for case in client_cases if not named.get(case)]
    assert not unproven, f"client cases that name no fault of parley-client {protocol}: {unproven}"


@pytest.mark.parametrize("protocol", LAUNCH)
def test_suite_passes_against_the_launched_reference_server(tmp_path, protocol):
    proc, report = run_suite(tmp_path, protocol)
    bad = [(c["id"], c["verdict"], c["message"]) for c in report["cases"] if c["verdict"] not in ("PASS", "SKIP")]
    assert proc.returncode == 0 and not bad, proc.stdout[-3000:]
    declared = {f for c in report["cases"] for f in c["faults"]}
    known = set(list_faults(protocol)) | (set(list_faults(protocol, CLIENT)) if protocol in CLIENT_LAUNCH else set())
    assert declared <= known, f"cases name faults the server does not have: {declared - known}"


BROKEN = ("FAIL", "WARN", "NOT-IMPL", "FLAKY")


def assert_breaks_nothing(proc, report, fault):
    """A variant (a legitimate profile, e.g. a peerchat/1-only server) breaks no rule: the run passes."""
    bad = {r["id"]: r["verdict"] for r in report["rules"] if r["verdict"] in BROKEN + ("ERROR",)}
    errors = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] == "ERROR"]
    assert not bad and not errors, f"variant {fault}: {bad} {errors}\n" + proc.stdout[-4000:]
    assert proc.returncode == 0, proc.stdout[-4000:]


def assert_fails_exactly_its_rules(proc, report, fault, declared, racy):
    """The rules that FAIL are the declared ones; no other rule is anything but PASS, BLOCKED or SKIP."""
    assert declared, f"fault {fault} declares no rules in its table"
    verdicts = {r["id"]: r["verdict"] for r in report["rules"]}
    assert declared <= set(verdicts), f"fault {fault} declares unknown rules {declared - set(verdicts)}"
    broken = {rule for rule, v in verdicts.items() if v in BROKEN}
    others = {rule: v for rule, v in verdicts.items()
              if rule not in declared and v not in ("PASS", "BLOCKED", "SKIP", "UNTESTABLE", "NOT-SELECTED")}
    errors = [(c["id"], c["message"]) for c in report["cases"] if c["verdict"] == "ERROR"]
    assert not errors, errors
    assert not others, f"fault {fault}: rules it does not declare are {others}\n" + proc.stdout[-4000:]
    if racy:
        assert broken <= declared, proc.stdout[-4000:]
    else:
        assert broken == declared, (f"fault {fault}: broken {sorted(broken)}, declared {sorted(declared)}\n"
                                    + proc.stdout[-4000:])
        # A broken MAY is "not implemented", which fails no run; a broken MUST or SHOULD (--strict) does.
        levels = {r["id"]: r["level"] for r in report["rules"]}
        assert proc.returncode == (0 if all(levels[r] == "MAY" for r in declared) else 1), proc.stdout[-4000:]
    # Every case that names the fault is shown to fail against it.
    named = {c["id"] for c in report["cases"] if fault in c["faults"]}
    failed = {c["id"] for c in report["cases"] if c["verdict"] in BROKEN}
    assert racy or named <= failed, f"fault {fault}: cases {sorted(named - failed)} name it but passed"


def check_fault(proc, report, fault, table):
    declared, kind = table[fault]
    # A variant is legitimate; a fuzz fault's trigger is sent by no case (parley-fuzz must find it,
    # scenarios/test_wirefuzz.py): against either, the suite passes.
    if kind in ("variant", "fuzz"):
        assert_breaks_nothing(proc, report, fault)
    else:
        assert_fails_exactly_its_rules(proc, report, fault, declared, kind == "racy")


@pytest.mark.parametrize("protocol,fault", ALL_FAULTS)
def test_fault_fails_exactly_its_rules(tmp_path, protocol, fault):
    check_fault(*run_suite(tmp_path, protocol, fault), fault, fault_table(protocol))


ALL_CLIENT_FAULTS = [(p, f) for p in CLIENT_LAUNCH for f in list_faults(p, CLIENT)]


@pytest.mark.parametrize("protocol,fault", ALL_CLIENT_FAULTS)
def test_client_fault_fails_exactly_its_rules(tmp_path, protocol, fault):
    check_fault(*run_client_suite(tmp_path, protocol, fault), fault, fault_table(protocol, CLIENT))
