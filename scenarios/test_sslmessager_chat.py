"""sslmessager end to end with reference programs only: `parley-client sslmessager` users log in to
`parley-server sslmessager` over TLS on loopback and relay messages; a client refuses a server whose key
does not match its pin (before sending its password); a client that vanishes without END is noticed and
its name is free for a new login; and the wire log never shows a password."""
import pytest

pytestmark = pytest.mark.usefixtures("hang_guard")


@pytest.fixture
def trio(start_sslmessager_server, start_sslmessager_client):
    server = start_sslmessager_server("--check-interval", "300")
    clients = {name: start_sslmessager_client(server, name) for name in ("aaa", "bbb", "ccc")}
    return server, clients


def test_three_users_relay_over_tls(trio):
    server, c = trio
    c["aaa"].send("@bbb hello  bbb, caf\u00e9")
    got = c["bbb"].wait_event("message", **{"from": "aaa"})
    assert got["text"] == "hello  bbb, caf\u00e9"
    c["bbb"].send("/to ccc")
    c["bbb"].send("and on to ccc")
    assert c["ccc"].wait_event("message", **{"from": "bbb"})["text"] == "and on to ccc"
    c["ccc"].send("@nobody are you there")
    c["ccc"].wait_event("offline", name="nobody")
    assert c["aaa"].find("message") == [], c["aaa"].describe()  # only the target gets a relay
    # CHECK arrives every 300 ms and the clients stay (they never answer it)
    server.wait_log(r"conn \d+ < CHECK \\r\\n")
    c["aaa"].send("@ccc still here")
    c["ccc"].wait_event("message", text="still here")
    for client in c.values():
        assert client.close() == 0, client.describe()
        assert client.find("goodbye")[0].get("reason") == "end accepted", client.describe()
    from conftest import SSLMESSAGER_PASSWORD
    assert "AUTH aaa <hidden>" in server.log(), "the wire log shows no login, so the check below would prove nothing"
    assert SSLMESSAGER_PASSWORD not in server.log(), "a password appears in the wire log"


def test_a_wrong_pin_is_refused_before_the_password_is_sent(start_sslmessager_server, start_sslmessager_client):
    server = start_sslmessager_server()
    wrong = "sha256:" + "ab" * 32
    c = start_sslmessager_client(server, "aaa", trust=("--pin", wrong), login=False)
    err = c.wait_event("error", code="tls")
    assert server.pin in err["text"], "the refusal shows the pin the server presented"
    assert c.close() == 1
    assert "AUTH" not in server.log(), "the client sent its AUTH to a server it did not trust"
    ok = start_sslmessager_client(server, "aaa", trust=("--pin", "sha256:" + server.pin))
    assert ok.close() == 0


def test_a_vanished_client_frees_its_name(trio, start_sslmessager_client):
    server, c = trio
    c["bbb"].kill()  # no END: the process is gone
    again = start_sslmessager_client(server, "bbb")  # the name is free for a new login
    c["aaa"].send("@bbb welcome back")
    assert again.wait_event("message", **{"from": "aaa"})["text"] == "welcome back"


def test_ca_checks_the_host_name(start_sslmessager_server, start_sslmessager_client):
    """--ca trusts the certificate but also checks its name: it was made for 127.0.0.1, not localhost."""
    server = start_sslmessager_server()
    c = start_sslmessager_client(server, "aaa", login=False, trust=("--ca", str(server_cert(server)), "--host", "localhost"))
    c.wait_event("error", code="tls")
    assert c.close() == 1
    assert "AUTH" not in server.log()


def test_insecure_warns_and_connects(start_sslmessager_server, start_sslmessager_client):
    server = start_sslmessager_server()
    c = start_sslmessager_client(server, "aaa", trust=("--insecure",))
    assert c.close() == 0
    with open(c.stderr_path, encoding="utf-8", errors="replace") as err:
        assert "WARNING: --insecure" in err.read()


def server_cert(server):
    """The certificate file the server was started with."""
    return server.args[server.args.index("--cert") + 1]
