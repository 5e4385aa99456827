"""peerchat's two profiles in the conformance suite (spec §5.1, PC-HELLO-02): the preflight's HELLO
peerchat/2 tells a peerchat/2 server from a peerchat/1-only one; the peerchat/2 cases are SKIP against the
latter, and the engine then answers PORT as the original client does (OK twice, PC-CLI-03). A peerchat/1-only
server is a legitimate implementation, so the run passes. A target that speaks another protocol is one
ERROR (exit 3), not a FAIL per case."""
import json
import socket
import subprocess
import threading

import pytest

from conftest import binary

pytestmark = pytest.mark.usefixtures("hang_guard")

LAUNCH = ("'{server}' peerchat --port {{port}} --port-timeout {{port_timeout}} --register-timeout {{register}} "
          "--max-connections {{maxconn}}")
V2_CASES = {"hello-negotiates-version", "register-with-key", "startchat-carries-keys"}
V1_ONLY_SKIP = "needs peerchat/2; the target offers peerchat/1 only"


def conform(tmp_path, *args):
    """Runs the server-role suite; returns (exit code, report, console output)."""
    report = tmp_path / "report.json"
    done = subprocess.run([binary("parley-conform"), "peerchat", "--no-color", "--report-json", str(report), *args],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, (json.loads(report.read_text()) if report.exists() else None), done.stdout + done.stderr


def launch(fault=None):
    command = LAUNCH.format(server=binary("parley-server"))
    return command + (f" --fault {fault}" if fault else "")


def assert_v1_run(code, report, output):
    """Every peerchat/2 case is SKIP with the reason, every other server case PASS, and the run exits 0."""
    assert code == 0, output[-4000:]
    assert report["profiles"] == ["peerchat/1"], report["profiles"]
    server_cases = [c for c in report["cases"] if not c["message"].startswith("client-role case")]
    skipped = {c["id"] for c in server_cases if c["verdict"] == "SKIP"}
    assert skipped == V2_CASES, output[-4000:]
    assert all(c["message"] == V1_ONLY_SKIP for c in server_cases if c["id"] in V2_CASES)
    assert all(c["verdict"] == "PASS" for c in server_cases if c["id"] not in V2_CASES), output[-4000:]
    assert not [r for r in report["rules"] if r["verdict"] in ("FAIL", "WARN", "ERROR", "FLAKY")]


def test_a_peerchat1_only_server_passes_with_the_v2_cases_skipped(tmp_path):
    code, report, output = conform(tmp_path, "--launch", launch("hello-v1-only"), "--role", "server", "--strict")
    assert_v1_run(code, report, output)
    assert "the target offers peerchat/1 only" in report["notes"], report["notes"]


def test_profile_v1_makes_the_engine_a_peerchat1_client_of_any_server(tmp_path):
    code, report, output = conform(tmp_path, "--launch", launch(), "--role", "server", "--profile", "v1")
    assert_v1_run(code, report, output)
    assert any(n.startswith("profile peerchat/1 (--profile); the preflight found the target offers peerchat/2")
               for n in report["notes"]), report["notes"]


def test_profile_v2_runs_the_v2_cases_even_against_a_peerchat1_server(tmp_path):
    code, report, output = conform(tmp_path, "--launch", launch("hello-v1-only"), "--role", "server",
                                   "--profile", "v2", "--case", "hello-negotiates-version")
    assert code == 1, output[-4000:]
    assert {c["id"]: c["verdict"] for c in report["cases"]}["hello-negotiates-version"] == "FAIL"


class SilentServer:
    """Accepts TCP connections and never says a word."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def test_a_target_that_speaks_another_protocol_is_one_error(tmp_path, server):
    """`server` is parley-server itp: it greets with INIT and answers HELLO with FAIL00."""
    silent = SilentServer()
    try:
        code, report, output = conform(tmp_path, "--target", f"127.0.0.1:{server.port}")
        assert code == 3, output[-4000:]
        assert "does not speak peerchat: to HELLO peerchat/2 it sent 'INIT" in report["target_error"], output
        code, report, output = conform(tmp_path, "--target", f"127.0.0.1:{silent.port}")
        assert code == 3, output[-4000:]
        assert "it sent nothing in answer to HELLO peerchat/2" in report["target_error"], output
    finally:
        silent.close()
