"""A flood of connections that never log in does not lock users out of the reference server: past
--max-connections (or --max-per-address) the oldest connection that has not logged in is closed to make
room, and only connections that all logged in make the server refuse a newcomer."""
import resource
import socket
import time

import pytest

from conftest import RawConn

pytestmark = pytest.mark.usefixtures("hang_guard")

ADDRESSES = [f"127.0.0.{n}" for n in range(1, 6)]


def open_idle(port, address):
    """A connection from `address` that will never log in; it trickles a byte of an unfinished line."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((address, 0))
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def trickle(socks):
    """One byte to each still open; returns how many the server had closed (EOF, reset or refused)."""
    closed = 0
    for s in socks:
        try:
            while s.recv(65536):  # INIT, and whatever else was sent before a close
                pass
            closed += 1  # recv returned b"": the server closed it
        except BlockingIOError:
            try:
                s.send(b"I")
            except OSError:
                closed += 1
        except OSError:
            closed += 1
    return closed


def log_in(port, name, address="127.0.0.1"):
    conn = RawConn(port, timeout=5, source=address)
    conn.expect_line(r"^INIT ", timeout=5)
    conn.send_line(f"IDENT {name}")
    conn.expect_line(rf"^OK IDENT {name}$", timeout=5, skip=r"^JOINED ")
    return conn


@pytest.fixture
def many_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.fail(f"this scenario opens 1,030 connections; the hard limit on open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 4096, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_flood_of_idle_connections_over_the_limit_still_lets_users_in(start_server, many_files):
    """1,030 anonymous connections from five addresses (none past the per-address limit) trickle a byte a
    second and never log in; at the default --max-connections 1024, two users still log in and chat."""
    server = start_server()
    flood = []
    for i in range(1030):
        flood.append(open_idle(server.port, ADDRESSES[i % len(ADDRESSES)]))
    time.sleep(1.0)
    trickle(flood)
    alice = log_in(server.port, "alice")
    bob = log_in(server.port, "bob", address="127.0.0.2")
    alice.send_line("BCST still here")
    alice.expect_line(r"^OK BCST still here$", skip=r"^JOINED ")
    bob.expect_line(r"^BCST alice still here$", skip=r"^JOINED ")
    time.sleep(1.0)
    closed = trickle(flood)
    # 1030 + 2 users over 1024: at least eight idle connections made room, the oldest ones first.
    assert closed >= 8, f"only {closed} idle connections were closed"
    assert all(trickle([s]) == 1 for s in flood[:8]), "the oldest idle connections were not the ones closed"
    assert "closed to make room" in server.log()
    assert "refused" not in server.log()
    for s in flood:
        s.close()


def test_one_address_cannot_take_every_place(start_server, raw_conn):
    """Past --max-per-address the oldest idle connection from that address makes room; when every
    connection from it has logged in, a newcomer from it is refused while other addresses get in."""
    server = start_server("--max-per-address", 3)
    idle = [open_idle(server.port, "127.0.0.1") for _ in range(3)]
    time.sleep(0.3)
    alice = log_in(server.port, "alice")  # the 4th from 127.0.0.1: the oldest idle one goes
    time.sleep(0.3)
    assert trickle(idle[:1]) == 1 and trickle(idle[1:]) == 0
    bob = log_in(server.port, "bob")
    carol = log_in(server.port, "carol")
    time.sleep(0.3)
    assert trickle(idle) == 3, "idle connections should have made room for bob and carol"
    # alice, bob and carol are 127.0.0.1's three places, all logged in: a fourth is refused...
    late = RawConn(server.port, timeout=5)
    late.expect_closed(timeout=5)
    assert "refused a connection from 127.0.0.1: 3 connections from this address, all logged in" in server.log()
    # ... while another address still gets in, and the three chat on.
    dave = log_in(server.port, "dave", address="127.0.0.2")
    carol.send_line("BCST hello dave")
    dave.expect_line(r"^BCST carol hello dave$", skip=r"^JOINED ")
    for s in idle:
        s.close()


def test_slow_readers_are_closed_when_the_servers_queued_output_is_over_its_bound(start_server):
    """Two users who never read, with --max-total-output 65536: once the output queued for them passes the
    bound, the one with the most queued is closed first; the users who read get every broadcast."""
    server = start_server("--max-total-output", 65536)
    slow = []
    for name in ("slowone", "slowtwo"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(f"IDENT {name}\n".encode())
        slow.append(sock)
    alice = log_in(server.port, "alice")
    bob = log_in(server.port, "bob")
    text = "x" * 900
    for i in range(6000):  # 5.4 MB to each reader: past what the kernel buffers for the slow ones
        bob.send_line(f"BCST {i} {text}")
        alice.expect_line(rf"^BCST bob {i} x+$", skip=r"^(JOINED|LEFT) ")
        bob.expect_line(rf"^OK BCST {i} x+$", skip=r"^(JOINED|LEFT) ")
        if "slowest reader" in server.log() and i % 100 == 0:
            break
    server.wait_log(r"closed: slowest reader \(\d+ bytes queued\) while the server's queued output was over "
                    r"65536 bytes")
    bob.send_line("BCST after")
    alice.expect_line(r"^BCST bob after$", skip=r"^(JOINED|LEFT) ")
    for sock in slow:
        sock.close()


def test_connections_stuck_before_the_websocket_handshake_make_room_for_a_user(start_securechat_server,
                                                                                 start_securechat_client):
    """securechat with --max-connections 8: ten TCP connections that never send the WebSocket upgrade hold
    every place while their handshakes wait; the oldest make room, and two users join and talk."""
    server = start_securechat_server("--max-connections", 8)
    stuck = [open_idle(server.port, "127.0.0.1") for _ in range(10)]
    time.sleep(0.5)
    alice = start_securechat_client(server, "alice")
    bob = start_securechat_client(server, "bob")
    alice.wait_event("joined", name="bob")
    bob.send("hello through the flood")
    alice.wait_event("public", **{"from": "bob", "text": "hello through the flood"})
    assert server.log().count("ended to make room for a newcomer") >= 4, server.log()[-2000:]
    for s in stuck:
        s.close()
