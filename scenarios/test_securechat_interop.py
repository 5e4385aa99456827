"""securechat against an independent client: `PyChat` below is written from WIRE-NOTES alone (Python's
`websockets` and `cryptography`, the way the original Python implementation speaks), and talks to
`parley-server securechat` next to Parley's reference client `parley-client securechat`.

- private messages both ways between the Python client and the reference client, plus public messages and
  the user updates the Python client sees when the reference client comes and goes;
- robustness: garbage, an oversize message and connections dropped without a Close frame, next to a pair
  of reference clients that keep chatting, with the Python client watching the user updates;
- a join with a bad signature is refused with "Invalid signature" and closed.
"""
import asyncio
import base64
import json
import os
import queue
import re
import socket
import struct
import threading
import time
import uuid

import pytest
import websockets
from conftest import drain_queue
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

pytestmark = pytest.mark.usefixtures("hang_guard")

# The members of each server message, in the order json.dumps of the original's dataclasses writes them.
SERVER_FIELDS = {
    "WelcomeMessage": ["_command", "id", "users"],
    "AddUserMessage": ["_command", "id", "name", "public_key"],
    "RemoveUserMessage": ["_command", "id", "name"],
    "RoutedPublicMessage": ["_command", "id", "text", "from_name"],
    "RoutedPrivateMessage": ["_command", "id", "to_name", "encrypted_text", "from_name"],
    "ErrorMessage": ["_command", "id", "text", "ref_message_id"],
}


def load_private_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def join_signature(private_key, name, signed=None):
    """WIRE-NOTES: RSA PKCS#1 v1.5 with SHA-256 over json.dumps({"name": name}, sort_keys=True), as hex."""
    data = json.dumps({"name": name}, sort_keys=True).encode() if signed is None else signed
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()


class PyChat:
    """An independent securechat client: one websockets (10.4, asyncio) connection driven from a private
    event loop thread, with a blocking interface in the style of conftest's `Client`.

    Every message sent is json.dumps of {"_command", "id" (uuid4), fields...}. Every message received is
    kept as (raw text, parsed object) in `received`; `wait` returns the first matching message that no
    earlier `wait` returned. `keys` follows WelcomeMessage/AddUserMessage/RemoveUserMessage."""

    def __init__(self, port, name, key_path, timeout=5.0):
        self.name = name
        self.private_key = load_private_key(key_path)
        self.received = []
        self.keys = {}            # name -> public key PEM text
        self.closed = False       # the connection has ended (either side)
        self.close_code = None    # the Close code websockets reports once closed (1006: no Close frame)
        self._queue = queue.Queue()
        self._taken = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"pychat-{name}", daemon=True)
        self._thread.start()
        self._run(self._open(port, timeout), timeout + 1)

    # -- event loop plumbing

    def _run(self, coro, timeout=5.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self, port, timeout):
        self.ws = await websockets.connect(f"ws://127.0.0.1:{port}/", open_timeout=timeout, ping_interval=None,
                                           close_timeout=2, max_size=4 * 1024 * 1024, compression=None)
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for data in self.ws:
                self._queue.put(data)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._queue.put(None)

    def _pump(self, timeout=0.0):
        for item in drain_queue(self._queue, timeout):
            if item is None:
                self.closed = True
                self.close_code = self.ws.close_code
                continue
            raw = item.decode() if isinstance(item, bytes) else item
            msg = json.loads(raw)
            self.received.append((raw, msg))
            if msg.get("_command") == "WelcomeMessage":
                self.keys.update({u["name"]: u["public_key"] for u in msg["users"]})
            elif msg.get("_command") == "AddUserMessage":
                self.keys[msg["name"]] = msg["public_key"]
            elif msg.get("_command") == "RemoveUserMessage":
                self.keys.pop(msg["name"], None)

    def messages(self):
        self._pump()
        return [msg for _, msg in self.received]

    def describe(self):
        return f"{self.name} (python): received so far:\n" + "\n".join(raw[:300] for raw, _ in self.received) + \
            (f"\n(closed, code {self.close_code})" if self.closed else "")

    # -- receiving

    def find(self, command, **fields):
        return [m for m in self.messages() if m.get("_command") == command
                and all(m.get(k) == v for k, v in fields.items())]

    def wait(self, command, timeout=5.0, **fields):
        """The first not-yet-returned message of type `command` with the given field values."""
        deadline = time.monotonic() + timeout
        scanned = 0
        while True:
            self._pump()
            for i in range(scanned, len(self.received)):
                msg = self.received[i][1]
                if i not in self._taken and msg.get("_command") == command and \
                        all(msg.get(k) == v for k, v in fields.items()):
                    self._taken.add(i)
                    return msg
            scanned = len(self.received)
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                state = "the connection closed" if self.closed else f"nothing matched within {timeout}s"
                raise AssertionError(f"{self.name}: waited for {command} {fields or ''}, {state}\n{self.describe()}")
            self._pump(timeout=min(left, 0.1))

    def wait_closed(self, timeout=5.0):
        """Waits until the connection has ended; returns the close code."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: connection still open after {timeout}s\n{self.describe()}")
            self._pump(timeout=min(left, 0.1))
        return self.close_code

    # -- sending

    def send_raw(self, data):
        """Sends one WebSocket message as is: a str as a text frame, bytes as a binary frame."""
        self._run(self.ws.send(data))

    def send(self, command, **fields):
        msg = {"_command": command, "id": str(uuid.uuid4()), **fields}
        self.send_raw(json.dumps(msg))
        return msg

    def join(self, signing_key=None, signed=None):
        """JoinMessage signed with our own key (or `signing_key`) over the WIRE-NOTES bytes (or `signed`)."""
        signature = join_signature(signing_key or self.private_key, self.name, signed)
        return self.send("JoinMessage", name=self.name, signature=signature)

    def join_and_wait_welcome(self):
        join = self.join()
        return join, self.wait("WelcomeMessage")

    def public(self, text):
        return self.send("PublicMessage", text=text)

    def encrypt_for(self, name, text):
        """WIRE-NOTES: RSA PKCS#1 v1.5 encryption to the key the server announced for `name`, as hex."""
        key = serialization.load_pem_public_key(self.keys[name].encode())
        return key.encrypt(text.encode(), padding.PKCS1v15()).hex()

    def private(self, to_name, text):
        return self.send("PrivateMessage", to_name=to_name, encrypted_text=self.encrypt_for(to_name, text))

    def decrypt(self, routed):
        return self.private_key.decrypt(bytes.fromhex(routed["encrypted_text"]), padding.PKCS1v15()).decode()

    def leave(self):
        self.send("LeaveMessage")
        return self.wait_closed()

    def drop(self, reset=False):
        """Ends the TCP connection without a Close frame: FIN, or RST with reset=True."""
        def abort():
            if reset:
                self.ws.transport.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.ws.transport.abort()
        self._loop.call_soon_threadsafe(abort)
        self.wait_closed()

    def shutdown(self):
        async def finish():
            if not self.ws.closed:
                try:
                    await asyncio.wait_for(self.ws.close(), 3)
                except Exception:
                    self.ws.transport.abort()
            await asyncio.wait([self._reader], timeout=3)
        try:
            if hasattr(self, "ws"):
                self._run(finish(), 8)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=3)
            if not self._thread.is_alive():
                self._loop.close()


@pytest.fixture
def pychat(securechat_keys):
    """pychat(server, name, key_of=None) -> PyChat connected (not joined) with DIR/<key_of or name>.pem;
    all are shut down at teardown."""
    made = []

    def connect(server, name, key_of=None):
        c = PyChat(server.port, name, securechat_keys / f"{key_of or name}.pem")
        made.append(c)
        return c

    yield connect
    for c in made:
        c.shutdown()


def assert_wire_format(client):
    """Every message the server sent is exactly what json.dumps writes (", " and ": ", \\uXXXX escapes),
    with the members in the original's order, and carries an id of its own."""
    msgs = client.messages()
    for raw, msg in client.received:
        assert raw == json.dumps(msg), f"not json.dumps output:\n{raw[:500]}"
        assert list(msg) == SERVER_FIELDS[msg["_command"]], f"members or their order:\n{raw[:500]}"
    ids = [m["id"] for m in msgs]
    assert len(set(ids)) == len(ids), f"a server id repeats on one connection: {ids}"


# ============================================================================ interoperability

def test_private_messages_both_ways_between_python_and_reference_client(
        securechat_server, pychat, start_securechat_client, securechat_keys):
    server = securechat_server
    py = pychat(server, "pyuser")
    _, welcome = py.join_and_wait_welcome()
    assert welcome["users"] == [{"name": "pyuser", "public_key": (securechat_keys / "pyuser.public.pem").read_text()}]

    # The reference client joins: the Python client is told, with alice's key exactly as in the store.
    alice = start_securechat_client(server, "alice")
    assert alice.find("users", reason="welcome")[0]["users"] == ["pyuser", "alice"], alice.describe()
    added = py.wait("AddUserMessage", name="alice")
    assert added["public_key"] == (securechat_keys / "alice.public.pem").read_text()

    # Python -> Parley: encrypted with the key from AddUserMessage, shown decrypted by the reference client.
    to_alice = f"from python: gr\u00fc\u00dfe \u2603 {uuid.uuid4().hex[:8]}"
    py.private("alice", to_alice)
    assert alice.wait_event("private") == {"event": "private", "from": "pyuser", "text": to_alice}, alice.describe()

    # Parley -> Python: the reference client encrypts to pyuser's key from its WelcomeMessage.
    to_py = f"from parley: caf\u00e9 {uuid.uuid4().hex[:8]}"
    alice.send(f"/pm pyuser {to_py}")
    alice.wait_event("private_sent", to="pyuser", text=to_py)
    routed = py.wait("RoutedPrivateMessage")
    assert routed["from_name"] == "alice" and routed["to_name"] == "pyuser", py.describe()
    assert re.fullmatch(r"[0-9a-f]{512}", routed["encrypted_text"]), routed
    assert py.decrypt(routed) == to_py

    # Public messages both ways.
    from_alice = f"public from alice {uuid.uuid4().hex[:8]}"
    alice.send(from_alice)
    assert py.wait("RoutedPublicMessage", text=from_alice)["from_name"] == "alice", py.describe()
    from_py = f"public from python \u00e9t\u00e9 {uuid.uuid4().hex[:8]}"
    py.public(from_py)
    alice.wait_event("public", **{"from": "pyuser", "text": from_py, "known": "true"})

    # alice leaves (end of her script means /quit): the Python client is told at once.
    # (Not "/quit" and then end of input: when input ends after the session is over, parley-client's stdin
    # thread can post to its already destroyed io_context and die of SIGSEGV.)
    assert alice.close() == 0, alice.describe()
    alice.wait_event("goodbye")
    py.wait("RemoveUserMessage", name="alice")
    assert "alice" not in py.keys

    assert [m["_command"] for m in py.messages()] == [
        "WelcomeMessage", "AddUserMessage", "RoutedPrivateMessage", "RoutedPublicMessage", "RemoveUserMessage"], \
        py.describe()
    assert_wire_format(py)
    assert not alice.find("error"), f"the reference client reported an error\n{alice.describe()}"


def test_the_server_sets_from_name_and_ignores_a_forged_one(securechat_server, pychat, start_securechat_client):
    server = securechat_server
    py = pychat(server, "pyuser")
    py.join_and_wait_welcome()
    alice = start_securechat_client(server, "alice")
    bob = start_securechat_client(server, "bob")
    py.wait("AddUserMessage", name="bob")

    public = f"not really from bob {uuid.uuid4().hex[:8]}"
    py.send("PublicMessage", text=public, from_name="bob")
    for c in (alice, bob):
        c.wait_event("public", **{"from": "pyuser", "text": public})
    private = f"not really from bob either {uuid.uuid4().hex[:8]}"
    py.send("PrivateMessage", to_name="alice", encrypted_text=py.encrypt_for("alice", private), from_name="bob")
    assert alice.wait_event("private") == {"event": "private", "from": "pyuser", "text": private}, alice.describe()
    assert not alice.find("public", **{"from": "bob"}) and not bob.find("public", **{"from": "bob"})
    assert not py.find("ErrorMessage"), py.describe()


# ============================================================================ bad signature

BAD_SIGNATURES = {
    # SC-JOIN-05: a valid signature over the right bytes, but with another user's private key.
    "another user's key": lambda keys: dict(signing_key=load_private_key(keys / "mallory.pem")),
    # SC-JOIN-04: own key, but over another name.
    "own key, another name": lambda keys: dict(signed=json.dumps({"name": "alice"}, sort_keys=True).encode()),
    # SC-JOIN-03: own key and name, but compact JSON instead of json.dumps' `{"name": "pyuser"}`.
    "own key, compact JSON": lambda keys: dict(signed=b'{"name":"pyuser"}'),
}


@pytest.mark.parametrize("how", BAD_SIGNATURES)
def test_join_with_a_bad_signature_is_refused_then_closed(
        securechat_server, pychat, start_securechat_client, securechat_keys, how):
    server = securechat_server
    alice = start_securechat_client(server, "alice")
    py = pychat(server, "pyuser")
    join = py.join(**BAD_SIGNATURES[how](securechat_keys))

    error = py.wait("ErrorMessage")
    assert error["text"] == "Invalid signature", py.describe()
    assert error["ref_message_id"] == join["id"], py.describe()
    assert py.wait_closed() == 1000, f"expected Close 1000 after the refusal\n{py.describe()}"
    assert [m["_command"] for m in py.messages()] == ["ErrorMessage"], py.describe()
    assert_wire_format(py)

    # Nobody heard of the refused join, and the name is still free for the right key.
    again = pychat(server, "pyuser")
    _, welcome = again.join_and_wait_welcome()
    assert [u["name"] for u in welcome["users"]] == ["alice", "pyuser"], again.describe()
    alice.wait_event("joined", name="pyuser")
    assert len(alice.find("joined", name="pyuser")) == 1, alice.describe()
    assert not alice.find("error") and not alice.find("disconnected"), alice.describe()


# ============================================================================ robustness

QUIET_EVENTS = {"users", "joined", "left", "public", "private", "private_sent"}


@pytest.fixture
def pair(securechat_server, pychat, start_securechat_client):
    """The Python client `pyuser` joined first, watching; then alice and bob (reference clients) joined."""
    server = securechat_server
    watcher = pychat(server, "pyuser")
    watcher.join_and_wait_welcome()
    alice = start_securechat_client(server, "alice")
    bob = start_securechat_client(server, "bob")
    watcher.wait("AddUserMessage", name="alice")
    watcher.wait("AddUserMessage", name="bob")
    alice.wait_event("joined", name="bob")
    return server, watcher, alice, bob


class Ticker:
    """alice sends bob `count` numbered private messages, one every `gap_ms`, while the test disturbs the
    server; `check` then requires bob to get every one of them, once and in order. Private, so that the
    ticks are written to bob's connection only."""

    def __init__(self, alice, bob, count=25, gap_ms=20):
        self.alice, self.bob, self.count = alice, bob, count
        self.tag = uuid.uuid4().hex[:6]
        for i in range(count):
            alice.send(f"/pm bob tick-{self.tag}-{i}")
            alice.send(f"/sleep {gap_ms}")

    def check(self):
        prefix = f"tick-{self.tag}-"
        self.bob.wait_event("private", timeout=10, **{"from": "alice", "text": f"{prefix}{self.count - 1}"})
        got = [e["text"] for e in self.bob.find("private", **{"from": "alice"}) if e["text"].startswith(prefix)]
        assert got == [f"{prefix}{i}" for i in range(self.count)], self.bob.describe()


def assert_pair_still_chats(alice, bob):
    """Public and private messages in both directions, and nothing unusual seen by either."""
    tag = uuid.uuid4().hex[:8]
    alice.send(f"alice to all {tag}")
    bob.wait_event("public", **{"from": "alice", "text": f"alice to all {tag}"})
    bob.send(f"bob to all {tag}")
    alice.wait_event("public", **{"from": "bob", "text": f"bob to all {tag}"})
    alice.send(f"/pm bob alice to bob {tag}")
    bob.wait_event("private", **{"from": "alice", "text": f"alice to bob {tag}"})
    bob.send(f"/pm alice bob to alice {tag}")
    alice.wait_event("private", **{"from": "bob", "text": f"bob to alice {tag}"})
    for c in (alice, bob):
        odd = [e for e in c.events if e.get("event") not in QUIET_EVENTS]
        assert not odd, f"{c.name} saw something unusual: {odd}\n{c.describe()}"
        assert c.proc.poll() is None, f"{c.name} exited\n{c.describe()}"


def websocket_handshake(conn):
    """A minimal RFC 6455 opening handshake on a RawConn; returns once the 101 response has been read."""
    key = base64.b64encode(os.urandom(16)).decode()
    conn.send_bytes((f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    conn.expect_line(r"^HTTP/1\.1 101 ")
    while conn.read_line() != "":
        pass


def test_garbage_does_not_disturb_a_chatting_pair(pair, pychat, raw_conn):
    server, watcher, alice, bob = pair
    ticker = Ticker(alice, bob)

    # Not HTTP at all: the server drops the connection.
    junk = raw_conn(server.port)
    junk.send_bytes(b"\x00\xffGARBAGE \x01\x02\x03 not a request\r\n\r\n")
    junk.expect_closed()

    # A WebSocket, then a frame no client may send (RSV bits set, reserved opcode 3): the server fails it.
    bad_frame = raw_conn(server.port)
    websocket_handshake(bad_frame)
    mask = b"\x01\x02\x03\x04"
    bad_frame.send_bytes(bytes([0xF3, 0x80 | 5]) + mask + bytes(b ^ m for b, m in zip(b"hello", mask * 2)))
    assert bad_frame.expect_closed() in (b"", b"\x88\x02\x03\xea"), "expected nothing or Close 1002 (protocol error)"

    # Anonymous garbage: "Must join first", no id to refer to, Close 1000.
    anonymous = pychat(server, "carol")
    anonymous.send_raw("\x00 this is { not JSON")
    error = anonymous.wait("ErrorMessage")
    assert (error["text"], error["ref_message_id"]) == ("Must join first", None), anonymous.describe()
    assert anonymous.wait_closed() == 1000, anonymous.describe()

    # Joined garbage: "Invalid JSON" (text and binary frames alike), and the session carries on.
    carol = pychat(server, "carol")
    carol.join_and_wait_welcome()
    carol.send_raw("this is { not JSON")
    carol.send_raw(b"binary { garbage \x01")
    carol.send_raw("[1, 2, 3]")
    for _ in range(3):
        error = carol.wait("ErrorMessage")
        assert (error["text"], error["ref_message_id"]) == ("Invalid JSON", None), carol.describe()
    still_here = f"carol is still here {uuid.uuid4().hex[:8]}"
    carol.public(still_here)
    for c in (alice, bob):
        c.wait_event("public", **{"from": "carol", "text": still_here, "known": "true"})
    assert carol.leave() == 1000, carol.describe()

    ticker.check()
    assert_pair_still_chats(alice, bob)
    # The watcher heard of carol's session only: anonymous and failed connections are nobody.
    watcher.wait("RemoveUserMessage", name="carol")
    changes = [(m["_command"], m["name"]) for m in watcher.messages() if "User" in m["_command"]]
    assert changes == [("AddUserMessage", "alice"), ("AddUserMessage", "bob"),
                       ("AddUserMessage", "carol"), ("RemoveUserMessage", "carol")], watcher.describe()
    assert not watcher.find("ErrorMessage") and not watcher.closed, watcher.describe()
    assert server.alive()


# spec §3.2: what one message to the server may hold, and the text of a public message.
MESSAGE_LIMIT = 1024 * 1024
TEXT_LIMIT = 128 * 1024


def public_message_of_size(size):
    """A PublicMessage whose encoding is exactly `size` bytes, its text within the 131 072-byte limit: control
    characters cost six bytes on the wire (\\u0001) but one in the text, and JSON whitespace fills the rest."""
    msg = {"_command": "PublicMessage", "id": str(uuid.uuid4()), "text": ""}
    room = size - len(json.dumps(msg))
    controls = min(room // 6, 20000)
    msg["text"] = "\x01" * controls + "x" * min(room - 6 * controls, TEXT_LIMIT - controls)
    raw = json.dumps(msg)
    raw = raw[:-1] + " " * (size - len(raw)) + "}"
    assert len(raw.encode()) == size and len(msg["text"].encode()) <= TEXT_LIMIT
    return msg, raw


def test_oversize_message_closes_only_its_sender(pair, pychat):
    server, watcher, alice, bob = pair
    carol = pychat(server, "carol")
    carol.join_and_wait_welcome()
    watcher.wait("AddUserMessage", name="carol")
    ticker = Ticker(alice, bob)

    # A 70 000-character text, as the original's clients may send (its limit is its WebSocket library's
    # 1 MiB), is an ordinary public message.
    long_text = "z" * 70000
    carol.public(long_text)
    assert watcher.wait("RoutedPublicMessage", from_name="carol", text=long_text), watcher.describe()

    # Exactly 1 MiB is still a message: routed to the others as it is.
    msg, raw = public_message_of_size(MESSAGE_LIMIT)
    carol.send_raw(raw)
    assert watcher.wait("RoutedPublicMessage", from_name="carol", text=msg["text"]), watcher.describe()
    for c in (alice, bob):  # the routed copy is larger than 64 KiB; clients must take it
        c.wait_event("public", **{"from": "carol", "text": msg["text"]})

    # One byte more: Close 1009 for carol, without an answer; the others are told she is gone.
    size = MESSAGE_LIMIT + 1
    big = json.dumps({"_command": "PublicMessage", "id": str(uuid.uuid4()), "text": "y" * size})[:size - 2] + '"}'
    assert len(big.encode()) == size
    carol.send_raw(big)
    assert carol.wait_closed() == 1009, carol.describe()
    assert not carol.find("ErrorMessage"), carol.describe()
    watcher.wait("RemoveUserMessage", name="carol")
    for c in (alice, bob):
        c.wait_event("left", name="carol")

    ticker.check()
    assert_pair_still_chats(alice, bob)
    assert not watcher.find("RoutedPublicMessage", text=json.loads(big)["text"]), "the oversize message was routed"
    assert not watcher.closed and server.alive()


@pytest.mark.parametrize("how", ["FIN", "RST", "killed reference client"])
def test_dropped_connection_is_announced_at_once(pair, pychat, start_securechat_client, how):
    server, watcher, alice, bob = pair
    if how == "killed reference client":
        dave = start_securechat_client(server, "dave")
    else:
        dave = pychat(server, "dave")
        dave.join_and_wait_welcome()
    watcher.wait("AddUserMessage", name="dave")
    alice.wait_event("joined", name="dave")
    ticker = Ticker(alice, bob)

    # dave vanishes without a Close frame. Only the ticker (alice to bob) talks meanwhile, so no write to
    # dave's connection can fail first: the server has to notice the drop by itself.
    dropped = time.monotonic()
    if how == "killed reference client":
        dave.kill()
    else:
        dave.drop(reset=(how == "RST"))
    watcher.wait("RemoveUserMessage", timeout=3, name="dave")
    delay = time.monotonic() - dropped
    assert delay < 1.0, f"RemoveUserMessage came {delay:.2f}s after the drop"
    for c in (alice, bob):
        c.wait_event("left", name="dave")

    ticker.check()
    assert_pair_still_chats(alice, bob)
    assert len(watcher.find("RemoveUserMessage", name="dave")) == 1, watcher.describe()
    assert not watcher.find("ErrorMessage") and not watcher.closed and server.alive(), watcher.describe()
