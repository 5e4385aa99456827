"""The reference server under misbehaving peers: a client that never answers PING, and a burst of garbage,
an overlong line and hundreds of abrupt connects and disconnects next to a pair of users who are chatting."""
import random
import socket
import struct
import time
import uuid

import pytest

pytestmark = pytest.mark.usefixtures("hang_guard")

# What a reference client may legitimately show while other connections misbehave around it.
QUIET_EVENTS = {"connected", "logged_in", "joined", "left", "pubkey", "ping", "users", "broadcast",
                "broadcast_sent", "pm", "pm_sent"}


def test_silent_client_is_disconnected_after_pong_timeout(start_server, start_client, raw_conn):
    server = start_server("--log-wire", "--ping-interval", 200, "--pong-timeout", 200)
    bob = start_client(server, "bob")
    bob_since = time.monotonic()

    silent = raw_conn(server.port)
    silent.expect_line(r"^INIT ")
    silent.send_line("IDENT silent")
    silent.expect_line(r"^OK IDENT silent$")
    logged_in = time.monotonic()
    # bob's public key may be forwarded to the newcomer; a raw peer just ignores it.
    silent.expect_line(r"^PING$", timeout=2, skip=r"^PM_PUBKEY bob ")
    pinged = time.monotonic()
    silent.expect_line(r"^DSCN Pong timeout$", timeout=2)
    dscn = time.monotonic()
    rest = silent.expect_closed(timeout=2)
    assert rest == b"", f"bytes after DSCN: {rest!r}"
    assert 0.1 <= pinged - logged_in <= 1.5, f"PING {pinged - logged_in:.3f}s after login (interval 200 ms)"
    assert 0.1 <= dscn - pinged <= 1.5, f"DSCN {dscn - pinged:.3f}s after PING (pong timeout 200 ms)"

    bob.wait_event("joined", name="silent")
    bob.wait_event("left", name="silent", timeout=2)

    # bob answers his PINGs (the client does it by itself), so he outlives several pong timeouts.
    time.sleep(max(0.0, 1.3 - (time.monotonic() - bob_since)))
    # USERS with nobody else online is FAIL06; the answer proves bob's session is alive and served.
    bob.send("/users")
    bob.wait_event("error", code="FAIL06", timeout=2)
    assert len(bob.find("ping")) >= 3, f"bob was pinged fewer than 3 times in 1.3 s\n{bob.describe()}"
    assert not bob.find("disconnected") and len(bob.find("error")) == 1, bob.describe()
    assert server.alive()
    log = server.log()
    assert log.count("> PONG\\n") >= 3, f"bob's PONGs are not in the wire log:\n{log[-3000:]}"
    assert server.stop() == 0, f"exit code on SIGTERM; log:\n{server.log()[-3000:]}"


def _drain(conn, quiet=0.15, limit=2.0):
    """Reads lines until `quiet` seconds pass without one, the peer closes, or `limit` seconds pass."""
    deadline = time.monotonic() + limit
    first = len(conn.lines)
    while time.monotonic() < deadline and not conn.closed:
        try:
            conn.read_line(timeout=quiet)
        except AssertionError:
            break
    return conn.lines[first:]


def test_abuse_does_not_disturb_a_chatting_pair(start_server, start_client, raw_conn):
    started = time.monotonic()
    rng = random.Random(20240601)  # the same garbage every run
    server = start_server("--log-wire")
    alice = start_client(server, "alice")
    bob = start_client(server, "bob")
    alice.wait_event("pubkey", name="bob")
    bob.wait_event("pubkey", name="alice")
    expected_left = set()

    # 1. Garbage: random binary with NULs, 0xff and stray CR/LF, before and after logging in.
    for i in range(6):
        g = raw_conn(server.port)
        g.expect_line(r"^INIT ")
        if i % 2:
            name = f"garbage{i}"
            g.send_line(f"IDENT {name}")
            g.expect_line(rf"^OK IDENT {name}$")
            expected_left.add(name)
        blob = b"\x00\xff\x00\xfe\x1b[2J" + rng.randbytes(3000) + b"\x00\xff\n"
        g.send_bytes(blob)
        replies = _drain(g)
        odd = [line for line in replies if not line.startswith(("FAIL", "DSCN", "PM_PUBKEY ", "OK IDENT"))]
        assert not odd, f"unexpected replies to garbage: {odd}"
        g.close()

    # 2. A 1 MiB line without a newline: DSCN Unterminated message, then the connection closes.
    flood = raw_conn(server.port)
    flood.expect_line(r"^INIT ")
    flood.send_line("IDENT flooder")
    flood.expect_line(r"^OK IDENT flooder$")
    expected_left.add("flooder")
    flood.send_flood(b"z" * (1 << 20), timeout=5)
    flood.expect_line(r"^DSCN Unterminated message$", timeout=3, skip=r"^PM_PUBKEY ")
    flood.expect_closed(timeout=3)

    # 3. 200 quick connect/disconnect cycles: immediate close, half a command, resets (SO_LINGER 0),
    #    and logins that vanish without QUIT.
    for i in range(200):
        kind = i % 5
        s = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        try:
            if kind == 1:
                s.sendall(b"IDENT hal")
            elif kind == 3:
                s.sendall(b"BCST half a comm")
            elif kind == 4:
                s.settimeout(2)
                got = b""
                while b"\n" not in got:
                    chunk = s.recv(4096)
                    assert chunk, f"cycle {i}: closed before INIT"
                    got += chunk
                name = f"cycle{i:03d}"
                s.sendall(f"IDENT {name}\n".encode())
                while f"OK IDENT {name}\n".encode() not in got:
                    chunk = s.recv(4096)
                    assert chunk, f"cycle {i}: closed before OK IDENT; got {got!r}"
                    got += chunk
                expected_left.add(name)
            if kind in (2, 3) or (kind == 4 and i % 10 == 4):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            s.close()

    # Everyone who logged in during the abuse has been seen leaving: the server has cleaned up.
    for name in sorted(expected_left):
        alice.wait_event("left", name=name, timeout=5)
        bob.wait_event("left", name=name, timeout=5)
    assert server.alive(), f"parley-server died (exit {server.proc.poll()}); log tail:\n{server.log()[-3000:]}"

    # 4. The pair still chats: user list, broadcast, and encrypted PMs both ways.
    alice.send("/users")
    assert sorted(alice.wait_event("users")["users"]) == ["alice", "bob"], alice.describe()
    text = f"still here {uuid.uuid4().hex}"
    alice.send(text)
    alice.wait_event("broadcast_sent", text=text)
    bob.wait_event("broadcast", **{"from": "alice", "text": text})
    secret = f"after the storm {uuid.uuid4().hex}"
    alice.send(f"/pm bob {secret}")
    alice.wait_event("pm_sent", to="bob")
    assert bob.wait_event("pm")["text"] == secret, bob.describe()
    reply = f"got it {uuid.uuid4().hex}"
    bob.send(f"/pm alice {reply}")
    bob.wait_event("pm_sent", to="alice")
    assert alice.wait_event("pm") == {"event": "pm", "from": "bob", "text": reply, "authenticated": "true"}

    for c in (alice, bob):
        odd = [e for e in c.events if e.get("event") not in QUIET_EVENTS]
        assert not odd, f"{c.name} was disturbed: {odd}\n{c.describe()}"
        strangers = [e for e in c.find("broadcast") if e.get("from") not in ("alice", "bob")]
        assert not strangers, f"garbage reached {c.name} as a broadcast: {strangers}"
    assert server.alive(), f"parley-server died (exit {server.proc.poll()}); log tail:\n{server.log()[-3000:]}"
    assert server.stop() == 0, f"exit code on SIGTERM; log tail:\n{server.log()[-3000:]}"
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"the abuse scenario took {elapsed:.1f}s"
