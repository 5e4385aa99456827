"""parley-client in script mode against a scripted fake server that controls when INIT and OK IDENT
arrive, so the client's handling of input that ends before login is tested deterministically.

The contract: commands given before login wait for it, and at the end of input the client sends QUIT
(after them) and exits 0."""
import json
import socket
import subprocess
import threading
import time

import pytest

from conftest import binary

pytestmark = pytest.mark.usefixtures("hang_guard")


class FakeServer:
    """One-connection itp server: greets after `greet_delay`, answers IDENT after `ident_delay`, acknowledges
    PM_PUBKEY and BCST, answers QUIT with OK Goodbye and closes. Records every line received."""

    def __init__(self, greet_delay=0.0, ident_delay=0.0):
        self.greet_delay, self.ident_delay = greet_delay, ident_delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.port = self.listener.getsockname()[1]
        self.received = []
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(5)
            with conn:
                time.sleep(self.greet_delay)
                conn.sendall(b"INIT Welcome to the fake server\n")
                buf = b""
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except (ConnectionResetError, socket.timeout):
                        return
                    if not chunk:
                        return
                    buf += chunk
                    while b"\n" in buf:
                        raw, buf = buf.split(b"\n", 1)
                        line = raw.decode(errors="replace")
                        self.received.append(line)
                        verb, _, rest = line.partition(" ")
                        if verb == "IDENT":
                            time.sleep(self.ident_delay)
                            conn.sendall(f"OK IDENT {rest}\n".encode())
                        elif verb == "PM_PUBKEY":
                            conn.sendall(b"OK PM_PUBKEY\n")
                        elif verb == "BCST":
                            conn.sendall(f"OK BCST {rest}\n".encode())
                        elif verb == "QUIT":
                            conn.sendall(b"OK Goodbye\n")
                            return
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            self.listener.close()

    def join(self):
        self.thread.join(timeout=5)


@pytest.mark.parametrize("greet_delay,ident_delay", [(0.5, 0.0), (0.0, 0.5)],
                         ids=["input-ends-before-INIT", "input-ends-before-OK-IDENT"])
def test_commands_given_before_login_run_before_the_final_quit(tmp_path, rsa_keys, greet_delay, ident_delay):
    fake = FakeServer(greet_delay, ident_delay)
    proc = subprocess.Popen([binary("parley-client"), "itp", "--name", "alice", "--port", str(fake.port),
                             "--script", "-", "--key", str(rsa_keys("alice"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(b"hello before login\n", timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=5)
    fake.join()
    events = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    seen = f"exit {proc.returncode}; events: {events}; stderr: {err.decode()!r}; server got: {fake.received}"
    assert fake.error is None, f"fake server failed: {fake.error!r}; {seen}"
    commands = [line.split(" ", 1)[0] for line in fake.received]
    assert "BCST hello before login" in fake.received, f"the broadcast was never sent; {seen}"
    assert commands.index("BCST") < commands.index("QUIT"), f"QUIT went out before the broadcast; {seen}"
    assert {"event": "broadcast_sent", "text": "hello before login"} in events, seen
    assert events[-1] == {"event": "goodbye"}, seen
    assert proc.returncode == 0, seen
