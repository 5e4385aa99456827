"""securechat end to end with reference programs only: three `parley-client securechat` users chatting
through `parley-server securechat` on loopback — welcome lists, public messages to everyone else, the user
list, a private message only its recipient can read — and the server's wire log, which holds every public
text but never the plaintext of a private message."""
import re
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding

pytestmark = pytest.mark.usefixtures("hang_guard")

NAMES = ["alice", "bob", "carol"]


@pytest.fixture
def room(securechat_server, start_securechat_client):
    """alice, bob and carol joined, in that order, each knowing the other two."""
    clients = {}
    for name in NAMES:
        clients[name] = start_securechat_client(securechat_server, name)
    clients["alice"].wait_event("joined", name="bob")
    clients["alice"].wait_event("joined", name="carol")
    clients["bob"].wait_event("joined", name="carol")
    return securechat_server, clients


def barrier(sender, receivers, tag):
    """A unique public message from `sender`, waited for at every receiver. The server handles each
    connection's messages in order and writes each connection's output in order, so once a receiver has the
    barrier it has everything `sender` caused before it."""
    text = f"barrier-{tag}-{uuid.uuid4().hex[:8]}"
    sender.send(text)
    for r in receivers:
        r.wait_event("public", **{"from": sender.name, "text": text})


def test_welcome_lists_everyone_joined_so_far_in_join_order(room):
    _, c = room
    for i, name in enumerate(NAMES):
        welcome = c[name].find("users", reason="welcome")
        assert len(welcome) == 1, c[name].describe()
        assert welcome[0]["users"] == NAMES[:i + 1], f"welcome of {name}: joiner last, in join order\n" \
                                                     f"{c[name].describe()}"
    # "joined" announces later arrivals only, with the key's fingerprint.
    barrier(c["carol"], [c["alice"], c["bob"]], "joins")
    assert [e["name"] for e in c["alice"].find("joined")] == ["bob", "carol"], c["alice"].describe()
    assert [e["name"] for e in c["bob"].find("joined")] == ["carol"], c["bob"].describe()
    assert c["carol"].find("joined") == [], c["carol"].describe()
    for e in c["alice"].find("joined") + c["bob"].find("joined"):
        assert re.fullmatch(r"[0-9a-f]{64}", e["fingerprint"]), e
    assert c["alice"].find("joined", name="carol")[0]["fingerprint"] == \
        c["bob"].find("joined", name="carol")[0]["fingerprint"], "alice and bob got different keys for carol"


def test_public_message_reaches_the_two_others_and_not_the_sender(room):
    _, c = room
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    text = f"hello everyone {uuid.uuid4().hex[:8]} caf\u00e9 \u2713"
    alice.send(text)
    for r in (bob, carol):
        event = r.wait_event("public", **{"from": "alice", "text": text})
        assert event["known"] == "true", r.describe()
    # Once alice has bob's later message, her own would have arrived too if the server echoed it.
    barrier(bob, [alice, carol], "echo")
    assert not alice.find("public", **{"from": "alice"}), f"the sender got her own message back\n{alice.describe()}"
    for r in (bob, carol):
        assert len(r.find("public", text=text)) == 1, f"delivered other than once\n{r.describe()}"
    for client in c.values():
        assert not client.find("error") and not client.find("disconnected"), client.describe()


def test_users_lists_all_three(room):
    _, c = room
    for name, client in c.items():
        client.send("/users")
        event = client.wait_event("users", reason="asked")
        assert sorted(event["users"]) == NAMES, client.describe()


def test_private_message_reaches_only_its_recipient_and_is_readable_there(room):
    _, c = room
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    marker = f"PMMARK{uuid.uuid4().hex}"
    text = f"meet at noon {marker} \u00e0 bient\u00f4t"
    alice.send(f"/pm carol {text}")
    alice.wait_event("private_sent", to="carol", text=text)
    pm = carol.wait_event("private")
    assert pm == {"event": "private", "from": "alice", "text": text}, carol.describe()

    barrier(alice, [bob, carol], "pm")
    for client in (alice, bob):
        leaked = [e for e in client.events if e.get("event") == "private" or (marker in str(e)
                  and e.get("event") != "private_sent")]
        assert not leaked, f"{client.name} saw the private message\n{client.describe()}"
    assert len(carol.find("private")) == 1, carol.describe()
    assert not carol.find("error"), f"carol could not decrypt something\n{carol.describe()}"


def test_wire_log_never_holds_private_plaintext_but_holds_public_text(room, securechat_keys):
    server, c = room
    alice, bob, carol = c["alice"], c["bob"], c["carol"]
    public_text = f"public-{uuid.uuid4().hex}"
    secret = f"SECRET{uuid.uuid4().hex}"
    private_text = f"the code is {secret}"

    bob.send(public_text)
    alice.send(f"/pm bob {private_text}")
    assert bob.wait_event("private", **{"from": "alice"})["text"] == private_text, bob.describe()
    carol.wait_event("public", **{"from": "bob", "text": public_text})

    # The log is complete: the public text going in and coming out, and the private message going in
    # (from alice) and out (to bob) as ciphertext.
    server.wait_log(r'conn \d+ > \{"_command": "PublicMessage", "id": "[^"]+", "text": "' + public_text + '"')
    server.wait_log(r'conn \d+ < \{"_command": "RoutedPublicMessage", "id": "[^"]+", "text": "' + public_text
                    + r'", "from_name": "bob"\}')
    sent = server.wait_log(r'conn \d+ > \{"_command": "PrivateMessage", "id": "[^"]+", "to_name": "bob", '
                           r'"encrypted_text": "([0-9a-fA-F]+)"\}')
    routed = server.wait_log(r'conn \d+ < \{"_command": "RoutedPrivateMessage", "id": "[^"]+", "to_name": "bob", '
                             r'"encrypted_text": "([0-9a-fA-F]+)", "from_name": "alice"\}')
    ciphertext = sent.group(1)
    assert routed.group(1) == ciphertext, "the server changed the ciphertext on its way"
    assert len(ciphertext) == 512, f"RSA-2048 ciphertext should be 256 bytes, got {len(ciphertext) // 2}"

    log = server.log()
    for form in (secret, private_text, secret.encode().hex(), private_text.encode().hex()):
        assert form not in log, f"the server's wire log holds the private plaintext ({form!r}):\n{log[-3000:]}"
    # ... and what it does hold is bob's: only bob's private key opens it.
    bob_key = serialization.load_pem_private_key((securechat_keys / "bob.pem").read_bytes(), password=None)
    assert bob_key.decrypt(bytes.fromhex(ciphertext), padding.PKCS1v15()).decode() == private_text
