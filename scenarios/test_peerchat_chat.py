"""peerchat end to end with reference programs only: `parley-client peerchat` users meet through
`parley-server peerchat` on loopback and then chat straight to each other over UDP, in peerchat/2 (sealed
records, keys checked against a contact list), in plain peerchat/1 (--v1), and a --v1 user with a
peerchat/2 one.

Two clients on one host use different loopback addresses (alice 127.0.0.1, bob 127.0.0.2): the server tells
users apart by address, and each client binds its UDP port on the local address of its TCP connection, so
both can hold the same port number. Every client has its own identity and contact files under tmp_path."""
import hashlib
import os
import re
import socket
import struct
import subprocess
import time

import pytest

from conftest import Client, PeerchatServer, _server_starter, binary

pytestmark = pytest.mark.usefixtures("hang_guard")

ADDRESS = {"alice": "127.0.0.1", "bob": "127.0.0.2", "carol": "127.0.0.1"}

# Generous enough for a handshake on a loaded machine, short enough that a failure does not stall the run.
EVENT_TIMEOUT = 8.0


class PeerchatClient(Client):
    """A reference client (`parley-client peerchat --script -`)."""

    PROTOCOL = "peerchat"

    def wait_registered(self, timeout=EVENT_TIMEOUT):
        return self.wait_event("registered", timeout=timeout, name=self.name)


def fingerprint(key_hex):
    """What the client shows for a key: the first 16 bytes of SHA-256(raw key), in groups of four digits."""
    digest = hashlib.sha256(bytes.fromhex(key_hex)).hexdigest()[:32]
    return " ".join(digest[i:i + 4] for i in range(0, 32, 4))


@pytest.fixture
def start_server(tmp_path):
    """start_server(*extra_args) -> PeerchatServer logging the wire; every server is stopped at teardown."""
    yield from _server_starter(PeerchatServer, tmp_path, "--log-wire")


@pytest.fixture
def start_client(tmp_path):
    """start_client(server, name, *extra_args, identity=None, register=True) -> PeerchatClient bound on
    the name's loopback address, with tmp_path/<name>.key and tmp_path/<name>.contacts unless told
    otherwise. Every client is closed (stdin closed: it quits) at teardown."""
    clients = []

    def start(server, name, *extra_args, identity=None, register=True):
        log_dir = tmp_path / f"run{len(clients)}"  # a restarted client keeps the earlier run's log
        log_dir.mkdir()
        args = ["--bind", ADDRESS[name], "--identity", str(identity or tmp_path / f"{name}.key"),
                "--contacts", str(tmp_path / f"{name}.contacts"), *map(str, extra_args)]
        c = PeerchatClient(server, name, log_dir, extra_args=args)
        clients.append(c)
        if register:
            c.wait_registered()
        return c

    yield start
    for c in clients:
        c.close(timeout=3)


def meet(alice, bob, timeout=EVENT_TIMEOUT):
    """alice asks for a chat with bob; returns both chat_started events once both sides are connected."""
    alice.send(f"/chat {bob.name}")
    started = (alice.wait_event("chat_started", timeout=timeout, peer=bob.name),
               bob.wait_event("chat_started", timeout=timeout, peer=alice.name))
    alice.wait_event("connected", timeout=timeout, peer=bob.name)
    bob.wait_event("connected", timeout=timeout, peer=alice.name)
    return started


# --------------------------------------------------------------------------------------------- 1. chat

@pytest.mark.parametrize("version", ["peerchat/2", "peerchat/1"])
def test_two_users_meet_and_chat_over_udp(start_server, start_client, version):
    v1 = ("--v1",) if version == "peerchat/1" else ()
    secure = "false" if v1 else "true"
    server = start_server()
    alice = start_client(server, "alice", *v1)
    bob = start_client(server, "bob", *v1)
    assert alice.find("registered")[0]["secure"] == secure, alice.describe()

    started_a, started_b = meet(alice, bob)
    assert started_a["address"] == "127.0.0.2" and started_b["address"] == "127.0.0.1"
    assert started_a["port"] == started_b["port"] and 40000 <= int(started_a["port"]) <= 59999
    for c in (alice, bob):
        assert c.find("chat_started")[0]["secure"] == secure, c.describe()
        assert c.find("connected")[0]["secure"] == secure, c.describe()

    if v1:
        assert alice.find("new_contact") == [] and bob.find("new_contact") == [], "no keys in peerchat/1"
        assert "ed25519:" not in server.log(), "a --v1 client registered a key"
    else:
        # trust on first use: each side is told the fingerprint of the key the other registered
        assert alice.wait_event("new_contact", peer="bob")["fingerprint"] == fingerprint(server.registered_keys("bob")[0])
        assert bob.wait_event("new_contact", peer="alice")["fingerprint"] == fingerprint(server.registered_keys("alice")[0])

    alice.send("hello bob, caf\u00e9")
    assert bob.wait_event("message", **{"from": "alice"})["text"] == "hello bob, caf\u00e9"
    bob.send("General Kenobi")
    assert alice.wait_event("message", **{"from": "bob"})["text"] == "General Kenobi"
    # the server never carries chat text
    assert "Kenobi" not in server.log() and "hello bob" not in server.log()

    alice.send("/close")
    alice.wait_event("chat_ended", peer="bob", reason="closed")
    bob.wait_event("chat_ended", peer="alice", reason="peer_closed")
    for c in (alice, bob):
        assert c.close() == 0, c.describe()
        assert c.find("goodbye"), c.describe()


@pytest.mark.parametrize("asker", ["v1", "v2"])
def test_a_v1_user_and_a_v2_user_chat(start_server, start_client, asker):
    """alice runs --v1 (plain HELLO, no key registered), bob the default peerchat/2. The server hands alice
    bob's key, but bob gets none for alice, so bob speaks peerchat/1; alice must too (spec §12 R20), whoever
    asks for the chat, and text goes both ways."""
    server = start_server()
    alice = start_client(server, "alice", "--v1")
    bob = start_client(server, "bob")
    assert alice.find("registered")[0]["secure"] == "false" and bob.find("registered")[0]["secure"] == "true"

    first, second = (alice, bob) if asker == "v1" else (bob, alice)
    meet(first, second)
    for c in (alice, bob):
        assert c.find("chat_started")[0]["secure"] == "false", c.describe()
        assert c.find("connected")[0]["secure"] == "false", c.describe()
        assert not c.find("new_contact"), f"no key is proved in peerchat/1:\n{c.describe()}"

    alice.send("from the v1 side")
    assert bob.wait_event("message", **{"from": "alice"})["text"] == "from the v1 side"
    bob.send("from the v2 side")
    assert alice.wait_event("message", **{"from": "bob"})["text"] == "from the v2 side"
    bob.send("/close")
    alice.wait_event("chat_ended", peer="bob", reason="peer_closed")


# --------------------------------------------------------------------------------------------- 2. loss

@pytest.mark.parametrize("version", ["peerchat/2", "peerchat/1"])
def test_chat_connects_despite_udp_loss(start_server, start_client, version):
    """--udp-loss drops 20% of datagrams each way at each client (so about 36% of datagrams are lost end to
    end); the periodic Connect / HELLO+AUTH and the answers to them must still connect both sides."""
    args = ["--udp-loss", "20", "--connect-timeout", "10000"] + (["--v1"] if version == "peerchat/1" else [])
    server = start_server()
    alice = start_client(server, "alice", *args)
    bob = start_client(server, "bob", *args)
    meet(alice, bob, timeout=12.0)
    for c in (alice, bob):
        assert not c.find("chat_ended"), c.describe()


# --------------------------------------------------------------------------------------------- 3. injection

def wait_count(client, event_type, count, timeout=EVENT_TIMEOUT):
    """Waits until `client` has shown at least `count` events of `event_type`; returns them all."""
    deadline = time.monotonic() + timeout
    while len(client.find(event_type)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} {event_type} events:\n{client.describe()}"
        time.sleep(0.05)
    return client.find(event_type)


def send_injections(target_port, sources):
    """From a fresh UDP socket on each source address: a plain Msg under bob's name and two forged sealed
    records (random tag, seq far ahead so that they reach the tag check). Returns the number sent."""
    plain = b"bob\nMsg\ninjected\n\n"
    forged = [b"\xb2\x02" + struct.pack(">Q", seq) + b"\x02injected" + os.urandom(16) for seq in (1000, 1001)]
    sent = 0
    for address in sources:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((address, 0))
            for data in [plain, *forged]:
                s.sendto(data, ("127.0.0.1", target_port))
                sent += 1
    return sent


def test_injected_datagrams_are_dropped_in_peerchat2(start_server, start_client):
    """A third process (127.0.0.3), and one on bob's own address but not bob (127.0.0.2, another port),
    send plain and forged sealed datagrams to alice's chat port: none is shown, each is reported as
    dropped, and the real chat goes on."""
    server = start_server()
    alice = start_client(server, "alice")
    bob = start_client(server, "bob")
    started, _ = meet(alice, bob)
    drops_before = len(alice.find("dropped"))

    sent = send_injections(int(started["port"]), ["127.0.0.3", "127.0.0.2"])
    drops = wait_count(alice, "dropped", drops_before + sent)[drops_before:]
    # three from the wrong address; from bob's address the plain one is no peerchat/2 datagram and the
    # forged records fail their tag
    assert sum("127.0.0.3" in d.get("why", "") for d in drops) >= 3, alice.describe()
    assert sum("authenticate" in d.get("why", "") for d in drops) >= 2, alice.describe()

    bob.send("the real one")
    assert alice.wait_event("message", **{"from": "bob"})["text"] == "the real one"
    assert not [e for e in alice.find("message") if "injected" in e.get("text", "")], alice.describe()
    assert not alice.find("chat_ended"), alice.describe()
    alice.send("still here")
    assert bob.wait_event("message", **{"from": "alice"})["text"] == "still here"


def test_peerchat1_checks_only_the_address(start_server, start_client):
    """The baseline the test above improves on (and proof that its injector reaches the port): in peerchat/1
    a datagram from another address or under another name is dropped, but one from bob's address with
    bob's name is shown."""
    server = start_server()
    alice = start_client(server, "alice", "--v1")
    bob = start_client(server, "bob", "--v1")
    started, _ = meet(alice, bob)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.3", 0))
        s.sendto(b"bob\nMsg\nfrom elsewhere\n\n", ("127.0.0.1", int(started["port"])))
    assert "127.0.0.3" in alice.wait_event(lambda e: e.get("event") == "dropped" and "127.0.0.3" in e.get("why", ""))["why"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.2", 0))
        s.sendto(b"mallory\nMsg\nunder another name\n\n", ("127.0.0.1", int(started["port"])))
        alice.wait_event(lambda e: e.get("event") == "dropped" and "mallory" in e.get("why", ""))
        s.sendto(b"bob\nMsg\ninjected\n\n", ("127.0.0.1", int(started["port"])))
    assert alice.wait_event("message", **{"from": "bob"})["text"] == "injected"
    assert [e["text"] for e in alice.find("message")] == ["injected"], alice.describe()


# --------------------------------------------------------------------------------------------- 4. TLS

@pytest.fixture(scope="module")
def peerchat_certs(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key, made by `parley-conform certs`."""
    directory = tmp_path_factory.mktemp("peerchat-certs")
    done = subprocess.run([binary("parley-conform"), "certs", "--out", str(directory)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return directory


def test_tls_pin_is_checked_and_plain_lines_get_nothing(start_server, start_client, peerchat_certs, raw_conn):
    server = start_server("--tls-cert", peerchat_certs / "server.crt", "--tls-key", peerchat_certs / "server.key")
    pin = server.pin

    # a wrong pin: the client gives up before its first line
    wrong = start_client(server, "carol", "--tls", "--pin", "sha256:" + "ab" * 32, register=False)
    err = wrong.wait_event("error", code="tls")
    assert pin in err["text"], "the refusal shows the pin the server presented"
    wrong.proc.wait(timeout=5)
    assert wrong.close() != 0, wrong.describe()
    assert not wrong.find("registered"), wrong.describe()

    # a plain client on the TLS port: its line is no handshake, so it gets no protocol line back
    plain = raw_conn(server.port)
    plain.send_line("HELLO")
    received = plain.expect_closed(timeout=3.0)
    assert b"HELLO" not in received and b"ERROR" not in received and b"\n" not in received, received[:200]

    assert not re.search(r"conn \d+ > ", server.log()), f"a line arrived before any good client:\n{server.log()}"

    alice = start_client(server, "alice", "--tls", "--pin", "sha256:" + pin)
    bob = start_client(server, "bob", "--tls", "--pin", "sha256:" + pin)
    meet(alice, bob)
    alice.send("over tls")
    assert bob.wait_event("message", **{"from": "alice"})["text"] == "over tls"
    # the check above could fail: a client that got through shows up in the wire log
    server.wait_log(r"conn \d+ > REGISTER alice\b")
    assert "REGISTER carol" not in server.log()
    assert server.alive()


# --------------------------------------------------------------------------------------------- 5. key change

def test_a_changed_key_is_warned_and_refused(start_server, start_client, tmp_path):
    server = start_server()
    alice = start_client(server, "alice")
    bob = start_client(server, "bob")
    meet(alice, bob)
    first = alice.wait_event("new_contact", peer="bob")["fingerprint"]
    alice.send("/close")
    alice.wait_event("chat_ended", reason="closed")
    bob.wait_event("chat_ended", reason="peer_closed")
    assert bob.close() == 0, bob.describe()
    old_key = server.registered_keys("bob")[0]
    assert f"bob ed25519:{old_key}" in (tmp_path / "alice.contacts").read_text()

    # bob again, same name and address, new identity (as if someone else took the name)
    bob = start_client(server, "bob", identity=tmp_path / "bob-new.key")
    new_key = server.registered_keys("bob")[-1]
    assert new_key != old_key
    alice.send("/chat bob")
    alice.wait_event("chat_started", peer="bob")
    changed = alice.wait_event("key_changed", peer="bob")
    assert changed["old"] == first == fingerprint(old_key), alice.describe()
    assert changed["new"] == fingerprint(new_key), alice.describe()
    alice.wait_event("chat_ended", peer="bob", reason="key_changed")
    assert len(alice.find("connected")) == 1, f"the second chat connected:\n{alice.describe()}"
    assert len(alice.find("new_contact")) == 1, alice.describe()
    # nothing is stored: the contact still holds the first key
    contacts = (tmp_path / "alice.contacts").read_text()
    assert f"bob ed25519:{old_key}" in contacts and new_key not in contacts, contacts
