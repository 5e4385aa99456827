"""parley-conform --pcap and --keylog, read back with tshark: one TCP stream per connection the engine made
or accepted, each carrying exactly the bytes the engine sent (compared with what the engine recorded at the
case level with --record-corpus, above the sockets), correct checksums and sequence numbers (tshark finds
nothing to flag), UDP datagrams for peerchat's chats, and TLS that the key log decrypts.

tshark is required: without it these tests fail (ci/setup installs it)."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import binary

CONFORM = binary("parley-conform")

# Anything tshark would flag: a bad checksum, a malformed packet, a sequence-number problem (lost or unseen
# segments, retransmissions, out of order), any warning or error, or a packet out of time order.
SUSPECT = ("ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" || "
           "_ws.malformed || tcp.analysis.flags || _ws.expert.severity >= warning || frame.time_delta < 0")
CHECKSUMS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]


def tshark(*args):
    exe = shutil.which("tshark")
    if not exe:
        pytest.fail("tshark is not installed: DEBIAN_FRONTEND=noninteractive apt-get install -y tshark "
                    "(ci/setup installs it)", pytrace=False)
    proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"tshark {' '.join(args)} failed:\n{proc.stderr}"
    for trouble in ("cut short", "damaged", "corrupt", "isn't a capture file"):
        assert trouble not in proc.stderr, proc.stderr
    return proc.stdout


def conform(tmp_path, protocol, cases, keylog=False):
    """Runs the cases against the built-in reference with --pcap (and --keylog); every case must pass."""
    out = {"pcap": tmp_path / "out.pcap", "json": tmp_path / "report.json", "records": tmp_path / "records"}
    args = [CONFORM, protocol, "--case", ",".join(cases), "--no-color", "--pcap", str(out["pcap"]),
            "--report-json", str(out["json"]), "--record-corpus", str(out["records"])]
    if keylog:
        out["keylog"] = tmp_path / "keys.log"
        args += ["--keylog", str(out["keylog"])]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out["json"].read_text())
    assert sorted(c["id"] for c in report["cases"]) == sorted(cases)
    assert all(c["verdict"] == "PASS" for c in report["cases"]), report["cases"]
    assert out["pcap"].stat().st_size > 24
    return out


def recorded_connections(records_dir):
    """What each connection of each server-role case sent, as the engine recorded it (the hub fuzzer's
    record format: a zero byte, then op, connection, 16-bit length, data; op 0 opens a connection, 1 sends,
    2 closes, 3 is a pause whose length field counts time, not bytes)."""
    sent = []
    for path in sorted(records_dir.iterdir()):
        data = path.read_bytes()
        assert data[0] == 0
        at, latest = 1, {}
        while at < len(data):
            op, conn, length = data[at], data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
            at += 4
            if op == 3:
                continue
            chunk = data[at:at + length]
            at += length
            if op == 0:
                latest[conn] = len(sent)
                sent.append(b"")
            elif op == 1:
                sent[latest[conn]] += chunk
    return sent


def tcp_streams(pcap):
    """Per TCP stream: who opened it (the SYN's source) and the payload each way, in frame order."""
    streams = {}
    fields = tshark("-r", str(pcap), "-Y", "tcp", "-T", "fields", "-E", "separator=|", "-e", "tcp.stream",
                    "-e", "ip.src", "-e", "tcp.srcport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack",
                    "-e", "tcp.flags.fin", "-e", "tcp.flags.reset", "-e", "tcp.len", "-e", "tcp.payload")
    for line in fields.splitlines():
        stream, ip, port, syn, ack, fin, rst, length, payload = line.split("|")
        s = streams.setdefault(int(stream), {"opener": None, "up": b"", "down": b"", "ended": False, "syns": 0})
        if syn in ("1", "True") and ack in ("0", "False"):
            s["opener"] = (ip, port)
            s["syns"] += 1
        if fin in ("1", "True") or rst in ("1", "True"):
            s["ended"] = True
        assert int(length) <= 65495, f"a segment of {length} bytes"
        data = bytes.fromhex(payload.replace(":", ""))
        assert len(data) == int(length)
        s["up" if (ip, port) == s["opener"] else "down"] += data
    for number, s in streams.items():
        assert s["syns"] == 1 and s["opener"], f"stream {number} does not begin with one SYN"
        assert s["ended"], f"stream {number} has no FIN or RST"
    return streams


def assert_clean(pcap, *prefs):
    flagged = tshark("-r", str(pcap), *CHECKSUMS, *prefs, "-Y", SUSPECT)
    assert flagged == "", "tshark flags packets:\n" + flagged


def match_sent_bytes(streams, sent):
    """Every recorded connection is one stream whose opener sent exactly the recorded bytes. Returns the
    streams left over (the client-role cases', which record nothing)."""
    left = list(streams.values())
    for data in sent:
        match = next((s for s in left if s["up"] == data), None)
        assert match, f"no stream carries the recorded {data[:80]!r}; streams carry " + \
            repr([s["up"][:80] for s in left])
        left.remove(match)
    return left


def websocket_messages(raw, masked):
    """The text messages of one direction of a WebSocket connection (after the HTTP upgrade), parsed here;
    the stream must end exactly at a frame boundary."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep and (head.startswith(b"GET / HTTP/1.1") or head.startswith(b"HTTP/1.1 101")), head[:80]
    messages, at = [], 0
    while at < len(rest):
        opcode, length = rest[at] & 0x0F, rest[at + 1] & 0x7F
        assert bool(rest[at + 1] & 0x80) == masked
        at += 2
        if length == 126:
            length, at = int.from_bytes(rest[at:at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(rest[at:at + 8], "big"), at + 8
        mask = rest[at:at + 4] if masked else b"\0\0\0\0"
        at += 4 if masked else 0
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(rest[at:at + length]))
        assert len(payload) == length, "a frame is cut short"
        at += length
        if opcode == 1:
            messages.append(payload)
    return messages


def test_itp_streams_carry_the_lines(tmp_path):
    out = conform(tmp_path, "itp", ["conn-greeting", "bcst-acknowledged", "client-quits-politely"])
    assert_clean(out["pcap"])
    streams = tcp_streams(out["pcap"])
    sent = recorded_connections(out["records"])
    assert len(sent) == 2  # one connection in each server-role case
    assert len(streams) == len(sent) + 1  # and the one the client under test opened to the engine
    (client_case,) = match_sent_bytes(streams, sent)
    assert any(b"BCST hello world\n" in data for data in sent)
    # The client under test's connection: the engine played the server.
    assert client_case["down"].startswith(b"INIT Welcome\n") and client_case["up"].endswith(b"QUIT\n"), client_case
    for s in streams.values():
        assert s["down"].startswith(b"INIT ") and s["down"].endswith(b"\n"), s
    bcst = [s for s in streams.values() if b"BCST hello world\n" in s["up"]]
    assert len(bcst) == 1 and b"OK BCST hello world\n" in bcst[0]["down"]


def test_multiparty_streams_carry_the_frames(tmp_path):
    out = conform(tmp_path, "multiparty", ["login-res-and-keys", "mtp-split-and-batched", "client-logs-in-first"])
    assert_clean(out["pcap"])
    streams = tcp_streams(out["pcap"])
    sent = recorded_connections(out["records"])
    assert len(sent) >= 2
    assert len(streams) == len(sent) + 1
    match_sent_bytes(streams, sent)
    assert all(s["up"] and s["down"] for s in streams.values())


def test_securechat_streams_carry_websocket_frames(tmp_path):
    out = conform(tmp_path, "securechat", ["conn-websocket-json", "pub-routed-unchanged", "client-joins-first"])
    assert_clean(out["pcap"])
    streams = tcp_streams(out["pcap"])
    sent = recorded_connections(out["records"])
    assert len(streams) == len(sent) + 1
    # The raw socket bytes: the HTTP upgrade and masked frames up, unmasked frames down, whose texts are
    # the messages the engine recorded.
    uploads = [b"".join(websocket_messages(s["up"], masked=True)) for s in streams.values()]
    for s in streams.values():
        websocket_messages(s["down"], masked=False)
    for data in sent:
        assert data in uploads, f"no stream carries the recorded {data[:80]!r}"
        uploads.remove(data)
    # tshark follows the upgrade and dissects the frames too.
    assert int(tshark("-r", str(out["pcap"]), "-Y", "websocket.opcode == 1", "-T", "fields", "-e",
                      "frame.number").count("\n")) >= len([d for d in sent if d])


def test_sslmessager_capture_decrypts_with_the_keylog(tmp_path):
    out = conform(tmp_path, "sslmessager", ["auth-accept", "msg-relay-to-the-target-only", "client-auth-first"],
                  keylog=True)
    keylog = ["-o", f"tls.keylog_file:{out['keylog']}"]
    assert_clean(out["pcap"], *keylog)
    streams = tcp_streams(out["pcap"])
    sent = recorded_connections(out["records"])
    assert len(sent) == 4  # auth-accept: a; msg-relay: a, b, c
    assert len(streams) == len(sent) + 1
    lines = out["keylog"].read_text().splitlines()
    # NSS key log lines: LABEL CLIENT_RANDOM SECRET (TLS 1.3: handshake and traffic secrets per connection).
    assert lines and all(re.fullmatch(r"[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+", line) for line in lines), lines
    assert sum(line.startswith("CLIENT_TRAFFIC_SECRET_0 ") for line in lines) == len(streams)

    def plaintext(extra):
        text = tshark("-r", str(out["pcap"]), *extra, "-Y", "tls.app_data", "-T", "fields", "-E", "separator=|",
                      "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport", "-e", "data.data")
        up = {}
        for line in text.splitlines():
            stream, ip, port, data = line.split("|")
            if (ip, port) == streams[int(stream)]["opener"] and data:
                up[int(stream)] = up.get(int(stream), b"") + b"".join(bytes.fromhex(d) for d in data.split(","))
        return up

    assert plaintext([]) == {}, "application data decrypted without the key log"
    decrypted = list(plaintext(keylog).values())
    assert len(decrypted) == len(streams)
    assert all(d.startswith(b"AUTH ") for d in decrypted), decrypted
    for data in sent:
        assert data in decrypted, f"no stream decrypts to the recorded {data!r}"
        decrypted.remove(data)
    assert decrypted and decrypted[0].startswith(b"AUTH ")  # the client under test's own login


def test_sslmessager_tls_probes_are_in_the_capture(tmp_path):
    """The probes of tls-versions-and-certificates (a client that offers only TLS 1.0/1.1, then a modern one)
    go through impl/net like every other connection, so the capture shows them: a ClientHello whose highest
    version is TLS 1.1, refused, and modern ones."""
    out = conform(tmp_path, "sslmessager", ["tls-versions-and-certificates"])
    assert_clean(out["pcap"])
    hellos = tshark("-r", str(out["pcap"]), "-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tcp.stream",
                    "-e", "tls.handshake.version").split()
    versions = hellos[1::2]
    assert "0x0302" in versions, hellos  # TLS 1.1: the legacy probe
    assert versions.count("0x0303") >= 2, hellos  # TLS 1.2 or 1.3 (which says 1.2 here): the probe and the login


def test_peerchat_capture_has_rendezvous_streams_and_udp_chats(tmp_path):
    out = conform(tmp_path, "peerchat", ["full-negotiation", "peer-chats-both-ways"])
    assert_clean(out["pcap"])
    streams = tcp_streams(out["pcap"])
    sent = recorded_connections(out["records"])
    assert len(sent) == 2  # full-negotiation: two users on the rendezvous server
    assert len(streams) == len(sent) + 1  # and the client under test's connection to the engine
    (client_case,) = match_sent_bytes(streams, sent)
    assert client_case["up"] and client_case["down"]
    openers = {s["opener"][0] for s in streams.values()}
    assert {"127.0.0.1", "127.0.0.2"} <= openers  # the engine's second user binds 127.0.0.2
    udp = tshark("-r", str(out["pcap"]), "-Y", "udp", "-T", "fields", "-E", "separator=|", "-e", "ip.src",
                 "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport", "-e", "udp.payload").splitlines()
    sources = {line.split("|")[0] for line in udp}
    assert {"127.0.0.1", "127.0.0.2"} <= sources, udp  # the engine's peer on .2 and the client on .1, both ways
    payloads = [bytes.fromhex(line.split("|")[4].replace(":", "")) for line in udp]
    assert any(b"Connect" in p and b"4711" in p for p in payloads), payloads


def unprintable(text):
    """The bytes behind a wire log text (core::printable escapes \\n, \\r, \\\\ and \\xHH)."""
    escapes = {"n": b"\n", "r": b"\r", "\\": b"\\"}
    return re.sub(rb"\\(x[0-9a-f]{2}|[nr\\])",
                  lambda m: bytes.fromhex(m.group(1)[1:].decode()) if m.group(1).startswith(b"x")
                  else escapes[m.group(1).decode()], text.encode())


def test_failing_case_wire_log_finds_its_streams(tmp_path):
    """The README's way to a failing case in Wireshark: its wire log names each connection's ends, and the
    stream between them carries exactly what the wire log says was sent and received."""
    server = binary("parley-server")
    pcap, report = tmp_path / "out.pcap", tmp_path / "report.json"
    proc = subprocess.run([CONFORM, "itp", "--launch", f"'{server}' itp --port {{port}} --fault echo-bcst",
                           "--case", "bcst-not-echoed", "--no-color", "--pcap", str(pcap), "--report-json",
                           str(report)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (case,) = json.loads(report.read_text())["cases"]
    assert case["verdict"] == "FAIL"
    assert_clean(pcap)
    streams = tcp_streams(pcap)
    ends = {}
    for w in case["wire"]:
        m = re.fullmatch(r"connected \((\S+):(\d+) <-> (\S+):(\d+)\)", w["text"]) if w["dir"] == "*" else None
        if m:
            ends[w["conn"]] = (m.group(1), m.group(2))
    assert len(ends) == 2
    # Each of the case's connections, and the engine's preflight of the launched target before the cases.
    assert len(streams) == len(ends) + 1
    for conn, opener in ends.items():
        (s,) = [s for s in streams.values() if s["opener"] == opener]
        log = [w for w in case["wire"] if w["conn"] == conn]
        sent = b"".join(unprintable(w["text"].split("  (the engine's polite")[0]) for w in log if w["dir"] == ">")
        received = b"".join(unprintable(w["text"]) + b"\n" for w in log if w["dir"] == "<")
        assert s["up"] == sent and s["down"] == received, (conn, s, sent, received)
        port_filter = tshark("-r", str(pcap), "-Y", f"tcp.port == {opener[1]}", "-T", "fields", "-e", "tcp.stream")
        assert set(port_filter.split()) == {str(n) for n, t in streams.items() if t is s}


def test_keylog_alone_and_no_capture_options(tmp_path):
    """--keylog works without --pcap; neither option: nothing is written."""
    keys = tmp_path / "keys.log"
    proc = subprocess.run([CONFORM, "sslmessager", "--case", "auth-accept", "--no-color", "--keylog", str(keys)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in keys.read_text()
    proc = subprocess.run([CONFORM, "itp", "--case", "conn-greeting", "--no-color", "--pcap",
                           str(tmp_path / "nodir" / "x.pcap")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--pcap" in proc.stderr
