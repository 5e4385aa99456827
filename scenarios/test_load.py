"""parley-load against the reference itp and sslmessager servers and against deviant relays: a correct
server's every delivery is counted and checked (none lost, duplicated or reordered), a relay that duplicates
or reorders is reported with the deliveries that were wrong, and the summary and JSON carry the figures CI
reads. sslmessager runs over real TLS, with the certificate and users file parley-load makes for --launch;
securechat over WebSocket, each join signed with a real RSA key whose public half is in the server's key
store; multiparty with real logins (RSA-OAEP, signatures) and every frame sealed with AES-GCM."""
import json
import os
import subprocess

import pytest

from conftest import MultipartyServer, PeerchatServer, binary

LOAD = binary("parley-load")
SERVER = binary("parley-server")
RELAY = os.path.join(os.path.dirname(__file__), "deviant_servers", "itp_relay_server.py")


SECURECHAT = f"'{SERVER}' securechat --port {{port}} --keys {{keys}}"
SSLMESSAGER = f"'{SERVER}' sslmessager --port {{port}} --cert {{cert}} --key {{key}} --users {{users}}"


def load(tmp_path, *args, timeout=120, protocol="itp"):
    report = tmp_path / "load.json"
    proc = subprocess.run([LOAD, protocol, *args, "--quiet", "--json", str(report)], capture_output=True, text=True,
                          timeout=timeout)
    return proc, json.loads(report.read_text())


def assert_clean_relay(tmp_path, protocol, launch, mode, clients, messages, expected):
    """A run against the reference server: every user logged in, every delivery counted once, in order."""
    proc, report = load(tmp_path, "--launch", launch, "--mode", mode, "--clients", str(clients),
                        "--messages", str(messages), "--window", "16", protocol=protocol)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["delivered"] == expected and report["errors"] == 0 and report["failure"] is None, report
    assert report["logged_in"] == clients and report["target_cpu_seconds"] is not None, report


@pytest.mark.parametrize("mode,clients,messages,expected", [
    ("fanout", 20, 2000, 19 * 2000),
    ("all-to-all", 8, 300, 8 * 7 * 300),
])
def test_every_delivery_arrives_once_in_order_from_the_reference_server(tmp_path, mode, clients, messages, expected):
    proc, report = load(tmp_path, "--launch", f"'{SERVER}' itp --port {{port}}", "--mode", mode,
                        "--clients", str(clients), "--messages", str(messages), "--window", "16")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["delivered"] == expected and report["errors"] == 0 and report["failure"] is None, report
    assert report["logged_in"] == clients
    assert 0 < report["latency_us"]["p50"] <= report["latency_us"]["p99"] <= report["latency_us"]["max"], report
    assert report["target_cpu_seconds"] is not None and report["target_rss_kib"] > 0, report
    assert "per second" in proc.stdout and "errors: 0" in proc.stdout


def test_round_trips_and_idle_connections(tmp_path):
    proc, report = load(tmp_path, "--launch", f"'{SERVER}' itp --port {{port}}", "--mode", "rtt",
                        "--clients", "2", "--messages", "200")
    assert proc.returncode == 0 and report["delivered"] == 200 and report["latency_us"]["p50"] > 0, proc.stdout
    proc, report = load(tmp_path, "--launch", f"'{SERVER}' itp --port {{port}}", "--mode", "hold",
                        "--clients", "200", "--hold-seconds", "0.5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["logged_in"] == 100 and report["target_rss_kib"] > 0, report
    assert "KiB per connection" in proc.stdout


@pytest.mark.parametrize("fault,words", [("--duplicate", "a duplicate or reordered delivery"),
                                         ("--swap", "a lost or reordered delivery")])
def test_a_relay_that_misdelivers_is_reported(tmp_path, fault, words):
    # A message delivered late is not counted as delivered, so a swap stalls the sender's window: the run
    # ends at its timeout, with the misdeliveries reported.
    proc, report = load(tmp_path, "--launch", f"/usr/bin/python3 '{RELAY}' {{port}} {fault} 50", "--clients", "4",
                        "--messages", "400", "--window", "8", "--timeout", "5")
    assert proc.returncode == 1, proc.stdout
    assert report["errors"] > 0 and any(words in e for e in report["error_samples"]), report
    assert words in proc.stdout


def test_a_dead_target_is_one_clear_failure(tmp_path):
    proc = subprocess.run([LOAD, "itp", "--target", "127.0.0.1:1", "--quiet"], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 1 and "could not connect" in proc.stdout, proc.stdout
    proc = subprocess.run([LOAD, "itp", "--mode", "sideways", "--target", "127.0.0.1:1"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "--mode must be" in proc.stderr


@pytest.mark.parametrize("mode,clients,messages,expected", [
    ("fanout", 6, 300, 5 * 300),
    ("all-to-all", 5, 100, 5 * 4 * 100),
    ("rtt", 2, 100, 100),
])
def test_sslmessager_over_tls_every_delivery_arrives_once_in_order(tmp_path, mode, clients, messages, expected):
    """A message to everyone is one MSG per other user, each relayed as RELAY; rtt times MSG to a user who
    is not online against its CNT."""
    assert_clean_relay(tmp_path, "sslmessager", SSLMESSAGER, mode, clients, messages, expected)


def test_sslmessager_users_the_target_does_not_know_are_a_clear_failure(tmp_path):
    """The launched server knows the users with the run's password; another password is refused, and the
    run ends with the server's answer instead of waiting for its timeout."""
    users = tmp_path / "users"
    made = subprocess.run([SERVER, "sslmessager", "adduser", "--users", str(users), "--name", "ld00000",
                           "--scrypt-n", "16384"], input="not-the-one", capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr
    launch = SSLMESSAGER.replace("{users}", str(users))
    proc, report = load(tmp_path, "--launch", launch, "--clients", "2", "--timeout", "20", protocol="sslmessager")
    assert proc.returncode == 1, proc.stdout
    assert "could not log in" in report["failure"] and "incorrect username or password" in report["failure"], report


@pytest.mark.parametrize("mode,clients,messages,expected", [
    ("fanout", 12, 300, 11 * 300),
    ("all-to-all", 5, 100, 5 * 4 * 100),
    ("rtt", 2, 100, 100),
])
def test_securechat_over_websocket_every_delivery_arrives_once_in_order(tmp_path, mode, clients, messages, expected):
    """Joins are signed; with 12 users the WelcomeMessage passes 4 KiB and comes in WebSocket fragments; rtt
    times a PrivateMessage to a user who is not joined against the ErrorMessage that carries its id."""
    assert_clean_relay(tmp_path, "securechat", SECURECHAT, mode, clients, messages, expected)


def test_securechat_a_key_the_target_does_not_hold_is_a_clear_failure(tmp_path):
    """parley-load signs with --key; a key store that holds another key's public half refuses the join, and
    the run ends with the server's ErrorMessage."""
    ours, theirs, keys = tmp_path / "ours.pem", tmp_path / "theirs.pem", tmp_path / "keys"
    keys.mkdir()
    for path in (ours, theirs):
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                        str(path)], check=True, capture_output=True, timeout=60)
    public = subprocess.run(["openssl", "pkey", "-in", str(theirs), "-pubout"], check=True, capture_output=True,
                            text=True, timeout=30).stdout
    for name in ("ld00000", "ld00001"):
        (keys / f"{name}.public.pem").write_text(public)
    launch = SECURECHAT.replace("{keys}", str(keys))
    proc, report = load(tmp_path, "--launch", launch, "--key", str(ours), "--clients", "2", "--timeout", "20",
                        protocol="securechat")
    assert proc.returncode == 1, proc.stdout
    assert "could not log in" in report["failure"] and "Invalid signature" in report["failure"], report


PEERCHAT = f"'{SERVER}' peerchat --port {{port}}"
PEERCHAT_TLS = PEERCHAT + " --tls-cert {cert} --tls-key {key}"


@pytest.mark.parametrize("launch,extra", [(PEERCHAT, []), (PEERCHAT_TLS, ["--tls"])])
def test_peerchat_round_trips_and_idle_registered_users(tmp_path, launch, extra):
    """The rendezvous server relays nothing, so parley-load times HELLO round trips and holds registered
    users (REGISTER answered REGISTERED <name> OK), over plain TCP and over TLS with the certificate it made."""
    proc, report = load(tmp_path, "--launch", launch, *extra, "--mode", "rtt", "--clients", "1", "--messages", "300",
                        protocol="peerchat")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["delivered"] == 300 and report["errors"] == 0 and report["latency_us"]["p50"] > 0, report
    proc, report = load(tmp_path, "--launch", launch, *extra, "--mode", "hold", "--clients", "100",
                        "--hold-seconds", "0.5", protocol="peerchat")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["logged_in"] == 50 and report["target_rss_kib"] > 0, report


def test_peerchat_relay_modes_and_a_name_taken_are_refused_clearly(tmp_path):
    """fanout and all-to-all mean nothing for a server that relays no messages: a usage error saying so. A
    name the target refuses (two runs' users share names on one server) ends the run with its ERROR line."""
    proc = subprocess.run([LOAD, "peerchat", "--launch", PEERCHAT, "--mode", "fanout"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "relays no messages" in proc.stderr, proc.stderr
    server = PeerchatServer(tmp_path / "peerchat.log", "--log-wire")
    try:
        holder = subprocess.Popen([LOAD, "peerchat", "--target", f"127.0.0.1:{server.port}", "--mode", "hold",
                                   "--clients", "2", "--hold-seconds", "20", "--quiet"], stdout=subprocess.DEVNULL)
        server.wait_log(r"REGISTERED ld00000 OK", timeout=20)
        proc, report = load(tmp_path, "--target", f"127.0.0.1:{server.port}", "--mode", "rtt", "--clients", "1",
                            "--messages", "10", "--timeout", "10", protocol="peerchat")
        holder.kill()
        holder.wait()
        assert proc.returncode == 1, proc.stdout
        assert "could not log in" in report["failure"] and "ERROR User_exists" in report["failure"], report
    finally:
        server.stop()


MULTIPARTY = f"'{SERVER}' multiparty --port {{port}} --keys {{keys}} --users {{users}}"


@pytest.mark.parametrize("mode,clients,messages,expected", [
    ("fanout", 18, 300, 17 * 300),
    ("all-to-all", 5, 100, 5 * 4 * 100),
    ("rtt", 2, 100, 100),
])
def test_multiparty_every_delivery_arrives_once_in_order(tmp_path, mode, clients, messages, expected):
    """Real logins with keys made for the run; 17 receivers take two sessions (16 invitees each at most), and
    every forwarded msg_req is answered with a msg_res; rtt times the server's status_res."""
    assert_clean_relay(tmp_path, "multiparty", MULTIPARTY, mode, clients, messages, expected)


def test_multiparty_a_relay_that_changes_parts_is_reported(tmp_path):
    """The alter-part fault changes a character of every part it forwards: each delivery still arrives, once
    and in order, but with a text nobody sent, and every one is an error."""
    proc, report = load(tmp_path, "--launch", MULTIPARTY + " --fault alter-part", "--clients", "3", "--messages", "40",
                        protocol="multiparty")
    assert proc.returncode == 1, proc.stdout
    assert report["failure"] is None and report["delivered"] == 80 and report["errors"] == 80, report
    assert all("whose text was changed" in e for e in report["error_samples"]), report


def test_multiparty_against_a_target_with_its_keys_and_the_frame_budget(tmp_path):
    """Against a running server parley-load logs in with the users' keys in --keys; a user the server does not
    know is closed without a word (MP-LOGIN-06), which ends the run as a close; more messages than a
    connection's 65,535 frames can carry is a usage error that says how many fit."""
    keys = tmp_path / "keys"
    names = [f"ld{i:05d}" for i in range(4)]
    subprocess.run([binary("parley-conform"), "keys", "--out", str(keys), "--users", ",".join(["server", *names])],
                   check=True, capture_output=True, timeout=120)
    (tmp_path / "users").write_text("\n".join(names[:3]) + "\n")
    # A server per run: a run's users are online until the server has read their connections' ends.
    for clients in (3, 4):
        server = MultipartyServer(tmp_path / f"multiparty{clients}.log", "--keys", str(keys),
                                  "--users", str(tmp_path / "users"))
        try:
            proc, report = load(tmp_path, "--target", f"127.0.0.1:{server.port}", "--keys", str(keys), "--clients",
                                str(clients), "--messages", "200", "--timeout", "20", protocol="multiparty")
        finally:
            server.stop()
        if clients == 3:
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert report["delivered"] == 400 and report["errors"] == 0, report
        else:
            assert proc.returncode == 1, proc.stdout
            assert "ld00003" in report["failure"] and "closed by the target" in report["failure"], report
    proc = subprocess.run([LOAD, "multiparty", "--target", "127.0.0.1:1", "--keys", str(keys), "--clients", "3",
                           "--mode", "all-to-all", "--messages", "100000"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "65,535 frames" in proc.stderr, proc.stderr
