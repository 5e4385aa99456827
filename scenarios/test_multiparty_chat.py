"""multiparty end to end with reference programs only: three `parley-client multiparty` users log in to
`parley-server multiparty` on loopback, create a session, exchange end-to-end encrypted messages, one
declines a second session, and the session is closed. The server routes every message but can read none:
its wire log and its memory never hold a message's text (a marker planted in every text)."""
import os
import re
import uuid

import pytest

pytestmark = pytest.mark.usefixtures("hang_guard")

MARKER = "PLAINTEXT-MARKER-" + uuid.uuid4().hex[:12]


@pytest.fixture
def trio(multiparty_server, start_multiparty_client):
    clients = {name: start_multiparty_client(multiparty_server, name) for name in ("alice", "bob", "carol")}
    return multiparty_server, clients


def open_session(alice, members):
    """alice creates a session with `members`, who all accept; returns its sid."""
    alice.send("/init " + " ".join(m.name for m in members))
    sid = alice.wait_event("session")["sid"]
    for m in members:
        m.wait_event("invite", sid=sid, **{"from": "alice"})
        m.send(f"/accept {sid}")
        alice.wait_event("answer", sid=sid, name=m.name, answer="Accept")
    return sid


def memory_holds(pid, needle):
    """Whether any readable mapping of process `pid` contains `needle` (bytes)."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and fields[5].startswith("[v")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, OverflowError, ValueError):
                continue
    return False


def test_three_users_chat_decline_and_close(trio):
    server, c = trio
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    assert alice.find("logged_in")[0]["list"] == ["alice", "bob", "carol", "dave"], alice.describe()
    sid = open_session(alice, [bob, carol])
    assert re.fullmatch(r"[0-9a-f]{16}", sid)

    first = f"{MARKER} hello both, caf\u00e9"
    alice.send(f"/msg {sid} {first}")
    for r in (bob, carol):
        got = r.wait_event("message", sid=sid, text=first)
        assert got["from"] == "alice"
    alice.wait_event("sent", sid=sid, delivered="2")
    alice.wait_event("receipt", sid=sid, text="OK", **{"from": "bob"})
    alice.wait_event("receipt", sid=sid, text="OK", **{"from": "carol"})

    reply = f"{MARKER} bob answers"
    bob.send(f"/msg {sid} {reply}")
    alice.wait_event("message", sid=sid, text=reply, **{"from": "bob"})
    carol.wait_event("message", sid=sid, text=reply, **{"from": "bob"})

    # A second session: carol declines it; alice's messages there reach bob only.
    alice.send("/init bob carol")
    sid2 = alice.wait_event("session")["sid"]
    assert sid2 != sid
    carol.wait_event("invite", sid=sid2)
    carol.send(f"/decline {sid2}")
    alice.wait_event("answer", sid=sid2, name="carol", answer="Deny")
    bob.wait_event("invite", sid=sid2)
    bob.send(f"/accept {sid2}")
    alice.wait_event("answer", sid=sid2, name="bob", answer="Accept")
    only_bob = f"{MARKER} second session"
    alice.send(f"/msg {sid2} {only_bob}")
    bob.wait_event("message", sid=sid2, text=only_bob)
    alice.wait_event("sent", sid=sid2, delivered="1")

    # Close the first session: both members are told, by whom; it refuses later messages.
    alice.send(f"/close {sid}")
    for r in (bob, carol):
        r.wait_event("closed", sid=sid, by="alice")
    alice.wait_event("closed", sid=sid, by="alice")
    bob.send(f"/msg {sid} {MARKER} too late")
    assert "closed" in bob.wait_event("error")["text"], bob.describe()
    alice.send(f"/msg {sid} {MARKER} too late")
    assert "closed" in alice.wait_event("error")["text"], alice.describe()
    # carol saw nothing of the second session
    assert carol.find("message", sid=sid2) == [], carol.describe()

    # The server routed all of it without ever holding a text.
    log = server.log()
    assert re.search(r"conn \d+ > ", log), "the wire log shows no traffic, so the check below would prove nothing"
    assert MARKER not in log, "a message text appears in the server's wire log"
    assert not memory_holds(server.proc.pid, MARKER.encode()), "a message text is in the server's memory"
    assert memory_holds(alice.proc.pid, MARKER.encode()), "the memory scan cannot find what is there"


def test_a_wrong_server_key_refuses_the_login(multiparty_server, tmp_path, multiparty_keys):
    """A client pinning another key (here: bob's) cannot log in: the server cannot prove it holds it."""
    from conftest import MultipartyClient
    c = MultipartyClient(multiparty_server, "alice", tmp_path, key=multiparty_keys / "alice.pem",
                         extra_args=("--server-key", str(multiparty_keys / "bob.public.pem")))
    try:
        c.wait_event("disconnected", timeout=5)
        assert c.find("logged_in") == [], c.describe()
        assert c.close() == 1
    finally:
        c.kill()


def test_an_offline_member_gets_nothing_later(trio, start_multiparty_client):
    server, c = trio
    alice, bob = c["alice"], c["bob"]
    sid = open_session(alice, [bob])
    bob.close()
    alice.send("/status bob")
    alice.wait_event("status", text="Offline")
    alice.send(f"/msg {sid} {MARKER} while you were away")
    alice.wait_event("sent", sid=sid, delivered="0")
    bob2 = start_multiparty_client(server, "bob")
    alice.send(f"/msg {sid} {MARKER} welcome back")
    bob2.wait_event("message", sid=sid, text=f"{MARKER} welcome back")
    assert bob2.find("message", text=f"{MARKER} while you were away") == [], bob2.describe()
