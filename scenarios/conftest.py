"""Shared machinery for the end-to-end scenarios: the real parley-server and parley-client binaries on
loopback, a scripted reference client (`Client`) and a bare TCP peer (`RawConn`).

Every wait is bounded: a helper that does not get what it waits for within its timeout fails the test
with what it did see (events, lines, the server's wire log). Every process a test starts is stopped at
teardown (SIGTERM, then SIGKILL)."""
import faulthandler
import json
import os
import queue
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN_DIR = os.environ.get("PARLEY_BIN") or os.path.join(REPO, "build", "dev", "bin")

# Longest a single scenario test may take before the whole run is aborted with a traceback dump
# (a safety net against hangs; every helper below has its own, much shorter, timeout).
HANG_GUARD_S = 60


def binary(name):
    path = os.path.join(BIN_DIR, name)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{name} not found or not executable at {path}: build the project first "
                    f"(cmake --workflow --preset dev) or point PARLEY_BIN at the directory holding the binaries",
                    pytrace=False)
    return path


def _tail(text, n=4000):
    return text if len(text) <= n else "...\n" + text[-n:]


def _stop_process(proc, grace=3.0):
    """SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns the exit code (negative: killed by signal)."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


# --------------------------------------------------------------------------------------------- server

def ready_to(fileobj, timeout, events=select.POLLIN):
    """Whether `fileobj` is ready for `events` within `timeout` seconds (poll, not select: a scenario that
    opens a thousand connections has descriptors past select's 1024)."""
    poller = select.poll()
    poller.register(fileobj, events)
    return bool(poller.poll(max(0.0, timeout) * 1000))


def drain_queue(q, timeout=0.0):
    """Yields everything queued in `q` now, waiting up to `timeout` for the first item when it is empty.
    Reader threads put their items in such queues; test threads drain them."""
    got = False
    while True:
        try:
            item = q.get(timeout=timeout) if (timeout > 0 and not got) else q.get_nowait()
        except queue.Empty:
            return
        got = True
        yield item


class Server:
    """A running `parley-server itp`, stderr (the wire log with --log-wire) going to a file."""

    PROTOCOL = "itp"  # subclasses for other protocols override this

    def __init__(self, log_path, *extra_args, startup_timeout=5.0):
        self.log_path = str(log_path)
        self.args = [binary("parley-server"), self.PROTOCOL, "--port", "0", *map(str, extra_args)]
        self._stderr = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        self.exit_code = None
        line = self._read_first_line(startup_timeout)
        m = re.match(rf"^parley-server {re.escape(self.PROTOCOL)} listening on (\S+):(\d+)$", line)
        if not m:
            self.stop()
            pytest.fail(f"parley-server did not announce its port within {startup_timeout}s; stdout: {line!r}; "
                        f"stderr:\n{_tail(self.log())}", pytrace=False)
        self.host, self.port = m.group(1), int(m.group(2))

    def _read_first_line(self, timeout):
        fd = self.proc.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready = ready_to(fd, left)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\n", 1)[0].decode(errors="replace").strip()

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        """The wire log so far (stderr)."""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, pattern, timeout=5.0):
        """Waits until the wire log matches regex `pattern`; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log())
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"server log never matched {pattern!r} within {timeout}s; log:\n"
                                     f"{_tail(self.log())}")
            time.sleep(0.02)

    def stop(self):
        """SIGTERM (SIGKILL after 3 s); returns the exit code. Idempotent."""
        if self.exit_code is None:
            self.exit_code = _stop_process(self.proc)
            self.proc.stdout.close()
            self._stderr.close()
        return self.exit_code


def _server_starter(cls, log_dir, *fixed_args):
    """A fixture body: yields start(*extra_args) -> cls(...) with `fixed_args` first; every server it
    started is stopped at teardown."""
    servers = []

    def start(*extra_args):
        s = cls(log_dir / f"{cls.PROTOCOL}-server{len(servers)}.log", *fixed_args, *extra_args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def start_server(tmp_path):
    """start_server(*extra_args) -> Server; every server started is stopped at teardown."""
    yield from _server_starter(Server, tmp_path)


@pytest.fixture
def server(start_server):
    """A server with default timers, logging the wire to its stderr file."""
    return start_server("--log-wire")


# --------------------------------------------------------------------------------------------- client

def event_matcher(pred_or_type, **fields):
    """A predicate over events: a callable as is, or an event type plus required field values."""
    if callable(pred_or_type):
        assert not fields, "pass either a predicate or a type with fields"
        return pred_or_type

    def match(e):
        return e.get("event") == pred_or_type and all(e.get(k) == v for k, v in fields.items())

    match.__name__ = f"{pred_or_type}{fields or ''}"
    return match


class Client:
    """A reference client (`parley-client itp --script -`): commands in on stdin, JSON events out on stdout.

    A background thread parses stdout into a queue; `events` is every event seen so far, in order.
    `wait_event` returns the first matching event that no earlier `wait_event` call has returned, so
    waits may be written in any order relative to arrival."""

    PROTOCOL = "itp"  # subclasses for other protocols override this

    def __init__(self, server, name, log_dir, key=None, extra_args=()):
        self.name = name
        args = [binary("parley-client"), self.PROTOCOL, "--name", name, "--port", str(server.port),
                "--script", "-", "--log-wire", *extra_args]
        if key:
            args += ["--key", str(key)]
        self.stderr_path = os.path.join(str(log_dir), f"client-{name}.log")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self._queue = queue.Queue()
        self._events = []
        self._taken = set()
        self.eof = False
        self.exit_code = None
        self._reader = threading.Thread(target=self._read_stdout, name=f"client-{name}", daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    raise ValueError
            except ValueError:
                event = {"event": "_unparsed", "line": line}
            self._queue.put(event)
        self._queue.put(None)  # end of output

    def _pump(self, timeout=0.0):
        """Moves queued events into `_events`; blocks up to `timeout` for the first one."""
        for item in drain_queue(self._queue, timeout):
            if item is None:
                self.eof = True
            else:
                self._events.append(item)

    @property
    def events(self):
        self._pump()
        return list(self._events)

    def describe(self):
        return f"{self.name}: events so far:\n" + "\n".join(json.dumps(e) for e in self.events)

    def send(self, cmd):
        if self.proc.poll() is not None or self.proc.stdin.closed:
            raise AssertionError(f"cannot send {cmd!r}: client {self.name} has exited "
                                 f"(code {self.proc.poll()})\n{self.describe()}")
        try:
            self.proc.stdin.write((cmd + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise AssertionError(f"cannot send {cmd!r} to client {self.name}: {exc}\n{self.describe()}")

    def find(self, pred_or_type, **fields):
        """Every event seen so far that matches (taken or not)."""
        match = event_matcher(pred_or_type, **fields)
        return [e for e in self.events if match(e)]

    def wait_event(self, pred_or_type, timeout=5.0, **fields):
        """The first not-yet-returned event that matches; AssertionError after `timeout` seconds."""
        match = event_matcher(pred_or_type, **fields)
        deadline = time.monotonic() + timeout
        scanned = 0
        while True:
            self._pump()
            for i in range(scanned, len(self._events)):
                if i not in self._taken and match(self._events[i]):
                    self._taken.add(i)
                    return self._events[i]
            scanned = len(self._events)
            left = deadline - time.monotonic()
            if left <= 0 or (self.eof and self._queue.empty()):
                state = "its output ended" if self.eof else f"nothing matched within {timeout}s"
                raise AssertionError(f"{self.name}: waited for {getattr(match, '__name__', match)}, {state}\n"
                                     f"{self.describe()}")
            self._pump(timeout=min(left, 0.1))

    def wait_logged_in(self, timeout=5.0):
        return self.wait_event("logged_in", timeout=timeout, name=self.name)

    def close(self, timeout=5.0):
        """Closes stdin (the client sends QUIT and exits); returns the exit code. Kills it after `timeout`."""
        if self.exit_code is not None:
            return self.exit_code
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_process(self.proc, grace=1.0)
        self._reader.join(timeout=2)
        self._pump()
        self.exit_code = self.proc.returncode
        self._stderr.close()
        return self.exit_code

    def kill(self):
        """Ends the client without a QUIT (SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.kill()
        return self.close()


@pytest.fixture(scope="session")
def rsa_keys(tmp_path_factory):
    """key(name) -> path of a 2048-bit RSA private key in PEM, made once per session per name, so tests
    do not pay for key generation in every client (clients started without a key generate their own)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory = tmp_path_factory.mktemp("keys")
    made = {}

    def key(name):
        if name not in made:
            k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            path = directory / f"{name}.pem"
            path.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
            made[name] = path
        return made[name]

    return key


@pytest.fixture
def start_client(tmp_path, rsa_keys):
    """start_client(server, name, login=True, fresh_key=False) -> Client; all are closed at teardown."""
    clients = []

    def start(server, name, login=True, fresh_key=False):
        c = Client(server, name, tmp_path, key=None if fresh_key else rsa_keys(name))
        clients.append(c)
        if login:
            c.wait_logged_in()
        return c

    yield start
    for c in clients:
        c.close(timeout=3)


# --------------------------------------------------------------------------------------------- raw TCP

class RawConn:
    """A bare TCP peer for saying things no reference client would."""

    def __init__(self, port, host="127.0.0.1", timeout=3.0, source=None):
        """`source`: a local address to connect from (any 127.x.y.z works on loopback)."""
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buffer = b""
        self.lines = []      # every line read, for messages
        self.closed = False  # the peer closed (EOF or reset)

    def send_bytes(self, data):
        self.sock.sendall(data)

    def send_line(self, text):
        self.send_bytes(text.encode() + b"\n")

    def send_flood(self, data, timeout=5.0):
        """Sends `data` while reading whatever comes back (into the line buffer), so a server that answers
        and closes part-way cannot deadlock us; stops early when the peer closes or resets. Returns the
        number of bytes the kernel accepted."""
        sent = 0
        deadline = time.monotonic() + timeout
        while sent < len(data) and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"could not send {len(data)} bytes within {timeout}s (sent {sent}); "
                                     f"received: {self.buffer[:200]!r}")
            readable = ready_to(self.sock, min(left, 0.2))
            writable = ready_to(self.sock, 0, select.POLLOUT)
            if readable:
                got = self._recv(0)
                if got:
                    self.buffer += got
            if writable and not self.closed:
                try:
                    sent += self.sock.send(data[sent:sent + 65536])
                except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                    break
        return sent

    def _recv(self, timeout):
        """One recv of up to 64 KiB within `timeout`: bytes, b"" at EOF/reset, None on timeout."""
        ready = ready_to(self.sock, max(0.0, timeout))
        if not ready:
            return None
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError):
            data = b""
        if not data:
            self.closed = True
        return data

    def read_line(self, timeout=3.0):
        """The next line (terminator stripped, decoded leniently). AssertionError on timeout or close."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if self.closed:
                raise AssertionError(f"connection closed while waiting for a line; lines so far: {self.lines}; "
                                     f"partial: {self.buffer[:200]!r}")
            data = self._recv(deadline - time.monotonic())
            if data is None:
                raise AssertionError(f"no complete line within {timeout}s; lines so far: {self.lines}; "
                                     f"partial: {self.buffer[:200]!r}")
            self.buffer += data
        raw, self.buffer = self.buffer.split(b"\n", 1)
        line = raw.rstrip(b"\r").decode(errors="replace")
        self.lines.append(line)
        return line

    def expect_line(self, pattern, timeout=3.0, skip=None):
        """Reads lines until one matches regex `pattern`; lines matching `skip` are passed over, any
        other line fails. Returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(0.0, deadline - time.monotonic()))
            m = re.search(pattern, line)
            if m:
                return m
            if not (skip and re.search(skip, line)):
                raise AssertionError(f"expected a line matching {pattern!r}, got {line!r}; lines: {self.lines}")

    def expect_closed(self, timeout=3.0):
        """Waits for EOF or reset, discarding anything that arrives; returns the bytes received meanwhile."""
        deadline = time.monotonic() + timeout
        extra = b""
        while not self.closed:
            data = self._recv(deadline - time.monotonic())
            if data is None:
                raise AssertionError(f"connection still open after {timeout}s; lines: {self.lines}; "
                                     f"unread: {(self.buffer + extra)[:200]!r}")
            extra += data
        return self.buffer + extra

    def reset(self):
        """Closes with SO_LINGER 0: the peer sees a RST rather than a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def raw_conn():
    """raw_conn(port) -> RawConn; all are closed at teardown."""
    conns = []

    def connect(port, **kw):
        c = RawConn(port, **kw)
        conns.append(c)
        return c

    yield connect
    for c in conns:
        try:
            c.close()
        except OSError:
            pass


# --------------------------------------------------------------------------------------------- guards

@pytest.fixture
def hang_guard():
    """Aborts the run with every thread's traceback if a test outlives HANG_GUARD_S (should never fire)."""
    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


# --------------------------------------------------------------------------------------------- securechat

SECURECHAT_USERS = ["alice", "bob", "carol", "dave", "pyuser", "mallory"]


class SecureChatServer(Server):
    """A running `parley-server securechat --keys DIR`; --log-wire logs every message in and out."""

    PROTOCOL = "securechat"


class SecureChatClient(Client):
    """A reference client (`parley-client securechat --script -`); joined once its welcome event arrived."""

    PROTOCOL = "securechat"

    def wait_welcome(self, timeout=5.0):
        return self.wait_event("users", timeout=timeout, reason="welcome", name=self.name)


@pytest.fixture(scope="session")
def securechat_keys(tmp_path_factory):
    """A key store made once per session by `parley-conform keys`: DIR/<name>.pem (private, PKCS#8) and
    DIR/<name>.public.pem (SPKI) for every name in SECURECHAT_USERS. It serves as the server's store and
    as the clients' key files."""
    directory = tmp_path_factory.mktemp("securechat-keys")
    done = subprocess.run([binary("parley-conform"), "keys", "--out", str(directory),
                           "--users", ",".join(SECURECHAT_USERS)], capture_output=True, timeout=60)
    if done.returncode != 0:
        pytest.fail(f"parley-conform keys failed ({done.returncode}): {done.stderr.decode(errors='replace')}",
                    pytrace=False)
    return directory


@pytest.fixture
def start_securechat_server(tmp_path, securechat_keys):
    """start_securechat_server(*extra_args) -> SecureChatServer on the session key store, logging the wire;
    every server started is stopped at teardown."""
    yield from _server_starter(SecureChatServer, tmp_path, "--keys", securechat_keys, "--log-wire")


@pytest.fixture
def securechat_server(start_securechat_server):
    return start_securechat_server()


@pytest.fixture
def start_securechat_client(tmp_path, securechat_keys):
    """start_securechat_client(server, name, welcome=True, key_of=None) -> SecureChatClient using
    DIR/<key_of or name>.pem; with welcome=True it waits for the join to succeed. All are closed at
    teardown."""
    clients = []

    def start(server, name, welcome=True, key_of=None):
        c = SecureChatClient(server, name, tmp_path, key=securechat_keys / f"{key_of or name}.pem")
        clients.append(c)
        if welcome:
            c.wait_welcome()
        return c

    yield start
    for c in clients:
        c.close(timeout=3)


# --------------------------------------------------------------------------------------------- multiparty

MULTIPARTY_USERS = ["alice", "bob", "carol", "dave"]


class MultipartyServer(Server):
    """A running `parley-server multiparty --keys DIR --users FILE`; --log-wire logs every chunk in and out."""

    PROTOCOL = "multiparty"


class MultipartyClient(Client):
    """A reference client (`parley-client multiparty --script -`), pinning the server's public key."""

    PROTOCOL = "multiparty"


@pytest.fixture(scope="session")
def multiparty_keys(tmp_path_factory):
    """A key store made once per session by `parley-conform keys`: server.pem (the server's key pair) and
    <name>.pem / <name>.public.pem for MULTIPARTY_USERS, plus DIR/users listing them in that order."""
    directory = tmp_path_factory.mktemp("multiparty-keys")
    done = subprocess.run([binary("parley-conform"), "keys", "--out", str(directory),
                           "--users", ",".join(["server"] + MULTIPARTY_USERS)], capture_output=True, timeout=60)
    if done.returncode != 0:
        pytest.fail(f"parley-conform keys failed ({done.returncode}): {done.stderr.decode(errors='replace')}",
                    pytrace=False)
    (directory / "users").write_text("".join(f"{n}\n" for n in MULTIPARTY_USERS))
    return directory


@pytest.fixture
def start_multiparty_server(tmp_path, multiparty_keys):
    """start_multiparty_server(*extra_args) -> MultipartyServer logging the wire; stopped at teardown."""
    yield from _server_starter(MultipartyServer, tmp_path, "--keys", multiparty_keys,
                               "--users", multiparty_keys / "users", "--log-wire")


@pytest.fixture
def multiparty_server(start_multiparty_server):
    return start_multiparty_server()


@pytest.fixture
def start_multiparty_client(tmp_path, multiparty_keys):
    """start_multiparty_client(server, name, login=True) -> MultipartyClient; closed at teardown."""
    clients = []

    def start(server, name, login=True):
        c = MultipartyClient(server, name, tmp_path, key=multiparty_keys / f"{name}.pem",
                             extra_args=("--server-key", str(multiparty_keys / "server.public.pem")))
        clients.append(c)
        if login:
            c.wait_logged_in()
        return c

    yield start
    for c in clients:
        c.close(timeout=3)


# --------------------------------------------------------------------------------------------- sslmessager

SSLMESSAGER_USERS = ["aaa", "bbb", "ccc"]
SSLMESSAGER_PASSWORD = "pw-Secret-42"


class TlsServer(Server):
    """A server that speaks TLS and prints its certificate's SPKI pin on stderr at start."""

    @property
    def pin(self):
        m = re.search(r"pin sha256:([0-9a-f]{64})", self.log())
        assert m, f"the server printed no pin:\n{_tail(self.log())}"
        return m.group(1)


class PeerchatServer(TlsServer):
    """A running `parley-server peerchat`; with --tls-cert it prints its pin on stderr."""

    PROTOCOL = "peerchat"

    def registered_keys(self, name):
        """Every key `name` registered with, in order (hex of the raw Ed25519 key)."""
        return re.findall(rf"> REGISTER {re.escape(name)} ed25519:([0-9a-f]{{64}})", self.log())


class SslmessagerServer(TlsServer):
    """A running `parley-server sslmessager --cert --key --users`; it prints its pin on stderr."""

    PROTOCOL = "sslmessager"


class SslmessagerClient(Client):
    """A reference client (`parley-client sslmessager --script -`)."""

    PROTOCOL = "sslmessager"


@pytest.fixture(scope="session")
def sslmessager_files(tmp_path_factory):
    """A self-signed certificate (parley-conform certs) and a users file (adduser, cheap scrypt cost) with
    SSLMESSAGER_USERS, all with password SSLMESSAGER_PASSWORD; and that password in a file."""
    directory = tmp_path_factory.mktemp("sslmessager")
    done = subprocess.run([binary("parley-conform"), "certs", "--out", str(directory)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    for name in SSLMESSAGER_USERS:
        done = subprocess.run([binary("parley-server"), "sslmessager", "adduser", "--users", str(directory / "users"),
                               "--name", name, "--scrypt-n", "16384"], input=f"{SSLMESSAGER_PASSWORD}\n".encode(),
                              capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
    (directory / "password").write_text(SSLMESSAGER_PASSWORD + "\n")
    return directory


@pytest.fixture
def start_sslmessager_server(tmp_path, sslmessager_files):
    """start_sslmessager_server(*extra_args) -> SslmessagerServer logging the wire; stopped at teardown."""
    d = sslmessager_files
    yield from _server_starter(SslmessagerServer, tmp_path, "--cert", d / "server.crt", "--key", d / "server.key",
                               "--users", d / "users", "--log-wire")


@pytest.fixture
def start_sslmessager_client(tmp_path, sslmessager_files):
    """start_sslmessager_client(server, name, trust=("--ca", CERT), login=True) -> SslmessagerClient."""
    clients = []

    def start(server, name, trust=None, login=True, password_file=None):
        trust = trust or ("--ca", str(sslmessager_files / "server.crt"))
        c = SslmessagerClient(server, name, tmp_path, extra_args=(
            "--password-file", str(password_file or sslmessager_files / "password"), *trust))
        clients.append(c)
        if login:
            c.wait_logged_in()
        return c

    yield start
    for c in clients:
        c.close(timeout=3)
