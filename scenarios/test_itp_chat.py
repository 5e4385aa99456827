"""Three reference clients chatting through the reference server, end to end over loopback: joins,
broadcasts, the user list, an end-to-end encrypted private message the server cannot read, and leaving."""
import re
import uuid

import pytest

pytestmark = pytest.mark.usefixtures("hang_guard")

NAMES = ["alice", "bob", "carol"]


@pytest.fixture
def room(server, start_client):
    """alice, bob and carol logged in, in that order, each holding the public keys of the other two.
    carol generates her own key (the client's default); alice and bob use keys made by the session."""
    clients = {}
    for name in NAMES:
        clients[name] = start_client(server, name, fresh_key=(name == "carol"))
    for name, c in clients.items():
        for other in NAMES:
            if other != name:
                c.wait_event("pubkey", name=other)
    return server, clients


def barrier(sender, receivers, tag):
    """Broadcasts a unique line from `sender` and waits until every receiver has it. The server handles a
    connection's commands in order and writes each connection's output in order, so once a receiver has
    the barrier it has everything the sender caused before it."""
    text = f"barrier-{tag}-{uuid.uuid4().hex[:8]}"
    sender.send(text)
    sender.wait_event("broadcast_sent", text=text)
    for r in receivers:
        r.wait_event("broadcast", **{"from": sender.name, "text": text})


def test_joined_events_announce_later_arrivals_only(room):
    _, c = room
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    alice.wait_event("joined", name="bob")
    alice.wait_event("joined", name="carol")
    bob.wait_event("joined", name="carol")
    barrier(carol, [alice, bob], "joins")
    assert [e["name"] for e in alice.find("joined")] == ["bob", "carol"], alice.describe()
    assert [e["name"] for e in bob.find("joined")] == ["carol"], bob.describe()
    assert carol.find("joined") == [], f"nobody logged in after carol\n{carol.describe()}"
    for name, client in c.items():
        assert client.find("logged_in")[0]["name"] == name
        assert re.fullmatch(r"[0-9a-f]{64}", client.find("logged_in")[0]["fingerprint"]), client.describe()
    # Everyone holds the key of everyone else, and the fingerprints agree with the owners' own.
    own = {name: client.find("logged_in")[0]["fingerprint"] for name, client in c.items()}
    for name, client in c.items():
        seen = {e["name"]: e["fingerprint"] for e in client.find("pubkey")}
        assert seen == {n: f for n, f in own.items() if n != name}, client.describe()


def test_broadcast_reaches_the_others_and_not_the_sender(room):
    _, c = room
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    text = f"hello everyone {uuid.uuid4().hex}"
    alice.send(text)
    alice.wait_event("broadcast_sent", text=text)
    bob.wait_event("broadcast", **{"from": "alice", "text": text})
    carol.wait_event("broadcast", **{"from": "alice", "text": text})
    # Once alice has bob's later broadcast, her own would have arrived too if the server echoed it.
    barrier(bob, [alice, carol], "echo")
    echoed = alice.find(lambda e: e.get("event") == "broadcast" and e.get("from") == "alice")
    assert not echoed, f"the sender got her own broadcast back\n{alice.describe()}"
    for client in (bob, carol):
        assert len(client.find("broadcast", text=text)) == 1, f"delivered other than once\n{client.describe()}"


def test_users_lists_everyone_online(room):
    server, c = room
    bob = c["bob"]
    bob.send("/users")
    event = bob.wait_event("users")
    assert sorted(event["users"]) == NAMES, bob.describe()
    # On the wire it is one colon-separated list, in the same order as the event's array.
    wire = server.wait_log(r"conn \d+ < OK USERS (\S+)\\n").group(1)
    assert wire.split(":") == event["users"], f"wire {wire!r} vs event {event}"


def test_encrypted_pm_reaches_only_the_recipient_and_the_server_sees_only_ciphertext(room):
    server, c = room
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    marker = f"PMMARK{uuid.uuid4().hex}"
    text = f"meet at noon {marker} behind the library"
    alice.send(f"/pm bob {text}")
    alice.wait_event("pm_sent", to="bob")
    pm = bob.wait_event("pm")
    assert pm == {"event": "pm", "from": "alice", "text": text, "authenticated": "true"}, bob.describe()

    barrier(alice, [bob, carol], "pm")
    for client in (alice, carol):
        leaked = [e for e in client.events if e.get("event") == "pm" or marker in str(e)]
        assert not leaked, f"{client.name} saw the private message\n{client.describe()}"
    assert len(bob.find("pm")) == 1, bob.describe()

    # What crossed the server: a session key wrapped with RSA-OAEP for bob, then an AES-GCM body; the
    # server relayed both without ever holding anything that decrypts them, so the plaintext is nowhere.
    # (Received data is logged per TCP read, so a logged chunk may hold several lines: "A\nB\n".)
    server.wait_log(r"conn \d+ > (?:.*\\n)?PM_SESSIONKEY bob oaep256\.")
    server.wait_log(r"conn \d+ < PM_SESSIONKEY alice oaep256\.")
    server.wait_log(r"conn \d+ > (?:.*\\n)?PM bob gcm\.")
    server.wait_log(r"conn \d+ < NPM alice gcm\.")
    log = server.log()
    assert marker not in log, f"the server's wire log holds the plaintext of the PM:\n{log}"
    assert "meet at noon" not in log, f"the server's wire log holds the plaintext of the PM:\n{log}"


def test_quit_tells_the_others_who_left(room):
    server, c = room
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    carol.send("/quit")
    carol.wait_event("goodbye")
    assert carol.close() == 0, f"carol's exit code after /quit\n{carol.describe()}"
    alice.wait_event("left", name="carol")
    bob.wait_event("left", name="carol")
    alice.send("/users")
    assert sorted(alice.wait_event("users")["users"]) == ["alice", "bob"], alice.describe()
    server.wait_log(r"conn \d+ closing: quit")
    for client in (alice, bob):
        assert not client.find("disconnected") and not client.find("error"), client.describe()


def test_sigterm_stops_the_server_cleanly_and_clients_notice(room):
    server, c = room
    assert server.stop() == 0, f"exit code of parley-server on SIGTERM; log:\n{server.log()[-3000:]}"
    for client in c.values():
        client.wait_event("disconnected")
