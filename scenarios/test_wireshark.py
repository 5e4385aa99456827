"""The Wireshark dissectors of tools/wireshark/, run by Debian's tshark on real captures: parley-conform
--pcap runs of every protocol, decoded message by message and compared with the bytes on the wire as this
file parses them itself (lines, MTP frames by their len, WebSocket frames, datagrams), with concrete field
values checked for known messages. Then captures written here by hand: malformed messages, each of which
must give an expert-info warning naming the spec's rule, and seeded mutations of good ones; no capture may
ever produce a Lua error.

tshark is required (ci/setup installs it). Lua runs as root only where the global init.lua allows it
(run_user_scripts_when_superuser; Debian's does, so these tests pass as root and as a normal user); tshark
runs with HOME in a temporary folder, so no personal preference or plugin of whoever runs them takes part."""
import base64
import collections
import functools
import itertools
import json
import os
import random
import re
import shutil
import struct
import subprocess

import pytest

from conftest import REPO, binary

pytestmark = pytest.mark.usefixtures("hang_guard")

FOLDER = os.path.join(REPO, "tools", "wireshark")
LOADER = os.path.join(FOLDER, "parley.lua")
PROTOCOLS = ["itp", "securechat", "multiparty", "sslmessager", "peerchat", "peerchat_udp"]
# The engine's ephemeral ports may be another protocol's registered port: heuristics first keeps them ours.
HEURISTICS_FIRST = ["-o", "tcp.try_heuristic_first:TRUE", "-o", "udp.try_heuristic_first:TRUE"]
# What a failing Lua dissector leaves in tshark's output.
LUA_TROUBLE = ("Lua Error", "[Malformed Packet", "attempt to ", "stack traceback", "bad argument")
WARNING = 0x00600000  # _ws.expert.severity of a warning


# --------------------------------------------------------------------------------------------- tshark

class Tshark:
    """tshark with the dissectors loaded and a HOME of its own; every run is checked for Lua trouble."""

    def __init__(self, exe, home):
        self.exe = exe
        self.env = dict(os.environ, HOME=str(home))
        self.env.pop("SSLKEYLOGFILE", None)

    def run(self, *args, lua=True):
        prefix = ["-X", f"lua_script:{LOADER}"] if lua else []
        listing = bool(args) and args[0] == "-G"
        if listing:
            prefix = [*args[:2], *prefix]  # -G must come first
            args = args[2:]
        proc = subprocess.run([self.exe, *prefix, *args], capture_output=True, text=True, timeout=60,
                              env=self.env)
        assert proc.returncode == 0, f"tshark {' '.join(args)} failed:\n{proc.stderr}"
        # A listing names protocols and fields (Malformed Packet among them); a dissection names none of these.
        output = proc.stderr if listing else proc.stdout + proc.stderr
        for trouble in LUA_TROUBLE:
            assert trouble not in output, f"{trouble!r} in tshark's output:\n{_around(output, trouble)}"
        return proc.stdout

    def messages(self, pcap, proto, *opts, heuristics_first=True):
        """Every instance of `proto` in the capture, in order: its fields flattened (each a list of values,
        expert infos under "expert" as (message, severity)), with the frame number, TCP stream and ports."""
        first = HEURISTICS_FIRST if heuristics_first else []
        out = self.run("-r", str(pcap), *first, *opts, "-Y", proto, "-T", "json",
                       "-J", f"frame tcp udp {proto}", "--no-duplicate-keys")
        found = []
        for packet in json.loads(out or "[]"):
            layers = packet["_source"]["layers"]
            transport = layers.get("tcp") or layers.get("udp") or {}
            where = {"frame": int(layers["frame"]["frame.number"]),
                     "stream": transport.get("tcp.stream"),
                     "sport": transport.get("tcp.srcport") or transport.get("udp.srcport")}
            instances = layers.get(proto, [])
            for instance in instances if isinstance(instances, list) else [instances]:
                fields = dict(where)
                _flatten(instance, fields)
                found.append(fields)
        return found

    def info(self, pcap, *opts):
        """The Info column of every packet that matches the options' filter, one line each."""
        # Wireshark 4.0 names the column field _ws.col.Info; later versions _ws.col.info.
        field = "_ws.col.Info" if self.version < (4, 2) else "_ws.col.info"
        return self.run("-r", str(pcap), *opts, "-T", "fields", "-e", field)

    @functools.cached_property
    def version(self):
        text = subprocess.run([self.exe, "--version"], capture_output=True, text=True, env=self.env).stdout
        return tuple(int(n) for n in re.search(r"TShark \(Wireshark\) (\d+)\.(\d+)", text).groups())

    def verbose(self, pcap, *opts, heuristics_first=True):
        return self.run("-r", str(pcap), *(HEURISTICS_FIRST if heuristics_first else []), *opts, "-V")


def _around(text, needle, width=600):
    at = text.find(needle)
    return text[max(0, at - width):at + width]


def _flatten(node, out):
    for key, value in node.items():
        values = value if isinstance(value, list) else [value]
        if key == "_ws.expert":
            for e in values:
                out.setdefault("expert", []).append((e.get("_ws.expert.message"), int(e["_ws.expert.severity"])))
        elif isinstance(values[0], dict):  # a subtree
            for sub in values:
                _flatten(sub, out)
        else:
            out.setdefault(key, []).extend(values)


def one(message, field):
    values = message.get(field, [])
    assert len(values) == 1, f"{field}: {values} in {message}"
    return values[0]


def octets(text):
    """A bytes field as tshark prints it (aa:bb:cc)."""
    return bytes.fromhex(text.replace(":", ""))


@pytest.fixture
def tshark(tmp_path):
    exe = shutil.which("tshark")
    if not exe:
        pytest.fail("tshark is not installed: DEBIAN_FRONTEND=noninteractive apt-get install -y tshark "
                    "(ci/setup installs it)", pytrace=False)
    home = tmp_path / "home"
    home.mkdir()
    t = Tshark(exe, home)
    listed = {line.split("\t")[2] for line in t.run("-G", "protocols").splitlines() if line.count("\t") >= 2}
    missing = [p for p in PROTOCOLS if p not in listed]
    if missing and os.geteuid() == 0:
        pytest.fail(f"the dissectors did not load ({missing} missing): this tshark runs no Lua scripts as root; "
                    "set run_user_scripts_when_superuser = true in its global init.lua, or run as a normal user",
                    pytrace=False)
    assert not missing, f"{LOADER} did not register {missing}"
    return t


# --------------------------------------------------------------------------------------------- captures

def conform(tmp_path, protocol, cases, keylog=False):
    """Runs the cases against the built-in reference server with --pcap (and --keylog); all must pass, so
    the capture holds what the cases are about."""
    out = {"pcap": tmp_path / f"{protocol}.pcap", "report": tmp_path / f"{protocol}.json"}
    args = [binary("parley-conform"), protocol, "--case", ",".join(cases), "--no-color", "-j", "2",
            "--pcap", str(out["pcap"]), "--report-json", str(out["report"])]
    if keylog:
        out["keylog"] = tmp_path / f"{protocol}.keys"
        args += ["--keylog", str(out["keylog"])]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out["report"].read_text())
    assert sorted(c["id"] for c in report["cases"]) == sorted(cases)
    assert all(c["verdict"] == "PASS" for c in report["cases"]), report["cases"]
    return out


def wire(t, pcap):
    """Per TCP stream, from TCP's own fields: the opener's port and the bytes each way."""
    streams = {}
    rows = t.run("-r", str(pcap), "-Y", "tcp", "-T", "fields", "-E", "separator=|", "-e", "tcp.stream",
                 "-e", "tcp.srcport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.payload", lua=False)
    for row in rows.splitlines():
        stream, port, syn, ack, payload = row.split("|")
        s = streams.setdefault(stream, {"client": None, "up": b"", "down": b""})
        if syn in ("1", "True") and ack in ("0", "False"):
            s["client"] = port
        s["up" if port == s["client"] else "down"] += bytes.fromhex(payload.replace(":", ""))
    return streams


def split_lines(data):
    """The complete lines of a byte stream (LF-terminated, one CR before the LF dropped), empty ones left out."""
    lines = [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")[:-1]]
    return [line.decode("utf-8", "replace") for line in lines if line]


def sent_by(messages, streams, stream, client, field):
    """One direction's values of `field`, in order, from the dissector's messages of that stream."""
    opener = streams[stream]["client"]
    return [v for m in messages if m["stream"] == stream and (m["sport"] == opener) == client
            for v in m.get(field, [])]


def rules(messages):
    """Every broken rule the dissector reported, each with whether a warning named it."""
    found = {}
    for m in messages:
        warned = " ".join(text for text, severity in m.get("expert", []) if severity >= WARNING)
        for rule in m.get(next((k for k in m if k.endswith(".rule")), "-"), []):
            found[rule] = found.get(rule, False) or f"[{rule}]" in warned
    return found


# --------------------------------------------------------------------------------------------- loading

def test_loader_and_plugin_folder_register_each_protocol_once(tshark, tmp_path):
    # Copied into the personal Lua plugins folder, Wireshark loads all seven files itself (the loader too).
    plugins = tmp_path / "home" / ".local" / "lib" / "wireshark" / "plugins"
    shutil.copytree(FOLDER, plugins / "parley")
    for lua in (True, False):  # -X lua_script:parley.lua on top of the plugin folder, and the folder alone
        listed = [line.split("\t")[2] for line in tshark.run("-G", "protocols", lua=lua).splitlines()
                  if line.count("\t") >= 2]
        assert all(listed.count(p) == 1 for p in PROTOCOLS), [p for p in listed if p in PROTOCOLS]
    fields = tshark.run("-G", "fields", lua=False)
    for name in ("itp.fail.meaning", "multiparty.typ_name", "multiparty.tag", "multiparty.etk",
                 "securechat.signature_len", "sslmessager.password_len", "peerchat_udp.seq"):
        assert f"\t{name}\t" in fields, name


# --------------------------------------------------------------------------------------------- itp

def test_itp_lines_decode_with_names_codes_and_tokens(tshark, tmp_path):
    cases = ["ident-ok", "users-lists-everyone", "pm-unknown-recipient", "client-encrypts-private-messages",
             "ident-invalid-names", "frame-overlong-line"]
    pcap = conform(tmp_path, "itp", cases)["pcap"]
    streams = wire(tshark, pcap)
    messages = tshark.messages(pcap, "itp")

    # Every complete line on the wire is one itp message, in order, each way; the direction is right.
    flagged = {m["stream"] for m in messages if "ITP-FRAME-05" in m.get("itp.rule", [])}
    assert len(flagged) == 1, "the overlong line is flagged"
    for number, s in streams.items():
        for client in (True, False):
            if number not in flagged:
                assert sent_by(messages, streams, number, client, "itp.line") == \
                    split_lines(s["up" if client else "down"]), (number, client)
    for m in messages:
        assert one(m, "itp.direction") == ("C→S" if m["sport"] == streams[m["stream"]]["client"] else "S→C")

    # A login: the name of the IDENT, and the server's OK for it on the same connection.
    ident = next(m for m in messages if m.get("itp.command") == ["IDENT"] and "itp.rule" not in m)
    name = one(ident, "itp.name")
    assert re.fullmatch(r"[A-Za-z0-9_]{3,14}", name)
    assert any(m["stream"] == ident["stream"] and m.get("itp.ok.command") == ["IDENT"] and
               m.get("itp.name") == [name] for m in messages)
    # FAIL07 with its meaning.
    fail = next(m for m in messages if m.get("itp.fail.code") == ["7"])
    assert (one(fail, "itp.fail.code"), one(fail, "itp.fail.meaning")) == ("7", "the recipient is not logged in")
    # USERS: each name of the list, which are the three users of that case, in login order.
    users = next(m for m in messages if m.get("itp.ok.command") == ["USERS"])
    suffix = users["itp.user"][0].split("_")[-1]  # the names of one case share their suffix
    logins = [one(m, "itp.name") for m in messages
              if m.get("itp.ok.command") == ["IDENT"] and one(m, "itp.name").endswith("_" + suffix)]
    assert users["itp.user"] == logins and len(logins) == 3, (users, logins)

    # The reference client's PMs: a gcm token split into nonce, ciphertext and tag, and its session key.
    pm = next(m for m in messages
              if m.get("itp.command") == ["PM"] and m.get("itp.token.kind", [""])[0].startswith("gcm"))
    raw = base64.b64decode(one(pm, "itp.token")[len("gcm."):], validate=True)
    assert octets(one(pm, "itp.token.nonce")) == raw[:12]
    assert octets(one(pm, "itp.token.tag")) == raw[-16:]
    assert octets(one(pm, "itp.token.ciphertext")) == raw[12:-16]
    assert int(one(pm, "itp.token.ciphertext_len")) == len(raw) - 28 > 0
    key = next(m for m in messages if m.get("itp.command") == ["PM_SESSIONKEY"] and m["sport"] == pm["sport"])
    assert one(key, "itp.token.kind").startswith("oaep256") and one(key, "itp.token.decoded_len") == "256"
    assert "itp.rule" not in pm and "itp.rule" not in key

    # The invalid names the case tried are each flagged with the IDENT rule, as warnings.
    bad = [m for m in messages if m.get("itp.command") == ["IDENT"] and "itp.rule" in m]
    assert len(bad) >= 4 and all(m["itp.rule"] == ["ITP-IDENT-02"] for m in bad)
    assert rules(bad) == {"ITP-IDENT-02": True}
    info = tshark.info(pcap, *HEURISTICS_FIRST, "-Y", "itp.rule")
    assert "[ITP-IDENT-02]" in info and "[ITP-FRAME-05]" in info

    # Decode As instead of the heuristic: the servers' ports, taken from the SYNs, decode the same lines.
    ports = set(tshark.run("-r", str(pcap), "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields",
                           "-e", "tcp.dstport", lua=False).split())
    decode_as = [arg for port in sorted(ports) for arg in ("-d", f"tcp.port=={port},itp")]
    off = ["--disable-heuristic", "itp_tcp"]
    assert tshark.messages(pcap, "itp", *off) == []
    assert [m.get("itp.line") for m in tshark.messages(pcap, "itp", *off, *decode_as)] == \
        [m.get("itp.line") for m in messages]


# --------------------------------------------------------------------------------------------- multiparty

TYPES = {0x0000: "init_req", 0x0010: "init_res", 0x0100: "close_req", 0x0110: "close_res", 0x0200: "msg_req",
         0x0210: "msg_res", 0x0300: "invite_req", 0x0310: "invite_res", 0x0400: "status_req",
         0x0410: "status_res", 0x0500: "login_req", 0x0510: "login_res"}


def mtp_frames(data):
    """(type name, sqn, len) of each whole frame of one direction, walked by len as a receiver does; the walk
    stops where a receiver closes (len below 36) or the bytes run out."""
    frames, at = [], 0
    while len(data) - at >= 24:
        typ, length, sqn = struct.unpack_from(">HHH", data, at + 2)
        if length < 36 or len(data) - at < length:
            break
        frames.append((TYPES.get(typ, hex(typ)), str(sqn), str(length)))
        at += length
    return frames


def test_multiparty_frames_reassemble_with_header_tag_and_etk(tshark, tmp_path):
    cases = ["login-res-and-keys", "mtp-split-and-batched", "msg-forwarded-unchanged", "mtp-len-below-minimum",
             "mtp-len-longer-than-frame"]
    pcap = conform(tmp_path, "multiparty", cases)["pcap"]
    streams = wire(tshark, pcap)
    messages = tshark.messages(pcap, "multiparty")
    frames = [m for m in messages if "multiparty.tag" in m]  # whole frames

    # Each direction of each stream is exactly the frames its bytes hold, split and batched segments included.
    per_segment = collections.Counter(m["frame"] for m in frames)
    assert max(per_segment.values()) > 1, "some segment carries several frames"
    for number, s in streams.items():
        for client in (True, False):
            opener = s["client"]
            decoded = [(one(m, "multiparty.typ_name"), one(m, "multiparty.sqn"), one(m, "multiparty.len"))
                       for m in frames if m["stream"] == number and (m["sport"] == opener) == client]
            assert decoded == mtp_frames(s["up" if client else "down"]), (number, client)
            assert all(one(m, "multiparty.direction") == ("C→S" if client else "S→C")
                       for m in frames if m["stream"] == number and (m["sport"] == opener) == client)
    reassembled = tshark.run("-r", str(pcap), *HEURISTICS_FIRST, "-Y", "multiparty && tcp.reassembled.length",
                             "-T", "fields", "-e", "frame.number")
    assert reassembled.split(), "some frame spans several segments"

    # The login: a login_req (sqn 1, the claimed uid, epd, a 12-byte tag, a 256-byte etk) and its login_res.
    flagged = {m["stream"] for m in messages if "multiparty.rule" in m}
    login = next(m for m in frames if one(m, "multiparty.typ_name") == "login_req" and m["stream"] not in flagged)
    length = int(one(login, "multiparty.len"))
    assert one(login, "multiparty.typ") == "0x0500" and one(login, "multiparty.sqn") == "1"
    assert one(login, "multiparty.version") == "1.0" and octets(one(login, "multiparty.sid")) == bytes(8)
    assert octets(one(login, "multiparty.uid")) != bytes(8)
    assert len(octets(one(login, "multiparty.tag"))) == 12 and len(octets(one(login, "multiparty.etk"))) == 256
    assert int(one(login, "multiparty.epd_len")) == len(octets(one(login, "multiparty.epd"))) == length - 36 - 256
    res = next(m for m in frames if m["stream"] == login["stream"] and one(m, "multiparty.typ_name") == "login_res")
    assert one(res, "multiparty.sqn") == "1" and octets(one(res, "multiparty.uid")) == bytes(8)
    assert "multiparty.etk" not in res
    later = [m for m in frames if m["stream"] == login["stream"] and m["sport"] == login["sport"]]
    assert [one(m, "multiparty.sqn") for m in later] == [str(n) for n in range(1, len(later) + 1)]

    # A real len below 36 (mtp-len-below-minimum): flagged with the framing rule, as a warning.
    short = [m for m in messages if m.get("multiparty.len") and int(one(m, "multiparty.len")) < 36]
    assert short and all("MP-MTP-03" in m["multiparty.rule"] for m in short)
    assert rules(short)["MP-MTP-03"]


# --------------------------------------------------------------------------------------------- securechat

def websocket_texts(raw, masked):
    """The text messages of one direction of a WebSocket connection, after the HTTP upgrade."""
    rest = raw.partition(b"\r\n\r\n")[2]
    texts, at = [], 0
    while at + 2 <= len(rest):
        opcode, length = rest[at] & 0x0F, rest[at + 1] & 0x7F
        at += 2
        if length >= 126:
            size = 2 if length == 126 else 8
            length, at = int.from_bytes(rest[at:at + size], "big"), at + size
        mask = rest[at:at + 4] if masked else bytes(4)
        at += 4 if masked else 0
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(rest[at:at + length]))
        at += length
        if opcode == 1:
            texts.append(payload)
    return texts


def test_securechat_messages_decode_with_names_and_lengths(tshark, tmp_path):
    cases = ["join-signed-welcomed", "join-bad-signature", "pub-routed-unchanged", "priv-routed-to-recipient-only",
             "msg-invalid-json"]
    pcap = conform(tmp_path, "securechat", cases)["pcap"]
    streams = wire(tshark, pcap)
    messages = tshark.messages(pcap, "securechat")

    # Every text message on the wire is one securechat message, in order, with the _command JSON reads.
    for number, s in streams.items():
        for client in (True, False):
            expected = []
            for text in websocket_texts(s["up" if client else "down"], masked=client):
                try:
                    expected.append(json.loads(text)["_command"])
                except (ValueError, TypeError, KeyError):
                    expected.append(None)
            decoded = [m for m in messages if m["stream"] == number and (m["sport"] == s["client"]) == client]
            assert [m.get("securechat.command", [None])[0] for m in decoded] == expected, (number, client)
            assert all(one(m, "securechat.direction") == ("C→S" if client else "S→C") for m in decoded)

    joins = [m for m in messages if m.get("securechat.command") == ["JoinMessage"]]
    good = next(m for m in joins if one(m, "securechat.signature_len") == "256")
    assert one(good, "securechat.name") == "alice" and len(one(good, "securechat.id")) > 0
    welcome = next(m for m in messages if m["stream"] == good["stream"] and
                   m.get("securechat.command") == ["WelcomeMessage"])
    assert welcome["securechat.user"][-1] == "alice" and one(welcome, "securechat.users") == str(
        len(welcome["securechat.user"]))
    # The refused join: its short signature, and the ErrorMessage that refers to its id.
    bad = next(m for m in joins if one(m, "securechat.signature_len") != "256")
    error = next(m for m in messages if m["stream"] == bad["stream"] and
                 m.get("securechat.command") == ["ErrorMessage"])
    assert one(error, "securechat.text") == "Invalid signature"
    assert one(error, "securechat.ref_message_id") == one(bad, "securechat.id")
    # A public text routed unchanged under the sender's name; a private one by its length only.
    public = next(m for m in messages if m.get("securechat.command") == ["PublicMessage"] and
                  one(m, "securechat.text") != "after the error")
    routed = [m for m in messages if m.get("securechat.command") == ["RoutedPublicMessage"] and
              m.get("securechat.text") == public["securechat.text"]]
    assert routed and all(one(m, "securechat.from_name") == "alice" for m in routed)
    private = next(m for m in messages if m.get("securechat.command") == ["PrivateMessage"])
    assert one(private, "securechat.encrypted_text_len") == "256" and one(private, "securechat.to_name") == "bob"
    delivered = next(m for m in messages if m.get("securechat.command") == ["RoutedPrivateMessage"])
    assert (one(delivered, "securechat.to_name"), one(delivered, "securechat.from_name")) == ("bob", "alice")
    assert one(delivered, "securechat.encrypted_text_len") == "256"

    # The invalid JSON the case sent after joining: flagged SC-MSG-03, the only rule broken in the capture.
    assert rules(messages) == {"SC-MSG-03": True}


# --------------------------------------------------------------------------------------------- sslmessager

def test_sslmessager_lines_decrypt_and_never_show_a_password(tshark, tmp_path):
    cases = ["auth-accept", "msg-relay-to-the-target-only", "auth-grammar",
             "frame-many-in-one-record-and-one-across-many"]
    out = conform(tmp_path, "sslmessager", cases, keylog=True)
    keys = ["-o", f"tls.keylog_file:{out['keylog']}"]
    assert tshark.messages(out["pcap"], "sslmessager") == [], "decoded without the key log"
    messages = tshark.messages(out["pcap"], "sslmessager", *keys)

    # The plaintext TLS gives Wireshark's own dissectors, with this one switched off: the AUTH lines and the
    # passwords in them.
    plain = tshark.run("-r", str(out["pcap"]), *keys, "--disable-protocol", "sslmessager", "-Y", "tls.app_data",
                       "-T", "fields", "-e", "data.data")
    text = b"".join(bytes.fromhex(d) for row in plain.split() for d in row.split(",")).decode("utf-8", "replace")
    passwords = set(re.findall(r"AUTH [A-Za-z0-9_.-]+ (\S{4,}) \r\n", text))
    assert len(passwords) >= 2, text[:500]

    auths = [m for m in messages if m.get("sslmessager.command") == ["AUTH"] and "sslmessager.rule" not in m]
    assert {one(m, "sslmessager.name") for m in auths} >= {"aaa", "bbb", "ccc"}
    assert all(one(m, "sslmessager.password") == "******** (masked)" for m in auths)
    assert {int(one(m, "sslmessager.password_len")) for m in auths} == {len(p) for p in passwords}
    # Never shown: not in any field, the tree, or the Info column.
    shown = tshark.verbose(out["pcap"], *keys) + json.dumps(messages) + tshark.info(out["pcap"], *HEURISTICS_FIRST,
                                                                                      *keys)
    assert "AUTH aaa ********" in shown
    for password in passwords:
        assert password not in shown

    # A relayed message, both ways; the END that answers a bad AUTH, with its rule.
    msg = next(m for m in messages if m.get("sslmessager.command") == ["MSG"] and m.get("sslmessager.text"))
    relay = next(m for m in messages if m.get("sslmessager.command") == ["RELAY"] and
                 m.get("sslmessager.text") == msg["sslmessager.text"])
    assert (one(msg, "sslmessager.direction"), one(relay, "sslmessager.direction")) == ("C→S", "S→C")
    assert relay["sslmessager.target"] == msg["sslmessager.target"] and relay["sslmessager.sender"] == ["aaa"]
    end = next(m for m in messages if m.get("sslmessager.reason") == ["<incorrect protocol>"])
    assert one(end, "sslmessager.violation") in ("1", "True") and one(end, "sslmessager.end_rule") == "SSLM-ERR-02"
    # The malformed AUTHs of auth-grammar, three messages in one record, and one message over four records.
    found = rules(messages)
    assert found.get("SSLM-AUTH-02") and found.get("SSLM-FRAME-02"), found
    pieces = next(m for m in messages if m.get("sslmessager.text") == ["in pieces"] and
                  m.get("sslmessager.command") == ["MSG"])
    assert "SSLM-FRAME-02" in pieces["sslmessager.rule"] and int(one(pieces, "sslmessager.held_bytes")) > 0


# --------------------------------------------------------------------------------------------- peerchat

def test_peerchat_rendezvous_and_datagrams_decode(tshark, tmp_path):
    cases = ["full-negotiation", "peer-chats-both-ways", "secure-chat-both-ways", "bad-datagrams-are-dropped-silently"]
    pcap = conform(tmp_path, "peerchat", cases)["pcap"]
    streams = wire(tshark, pcap)
    lines = tshark.messages(pcap, "peerchat")
    for number, s in streams.items():
        for client in (True, False):
            decoded = [" ".join(m["peerchat.command"]) for m in lines if m["stream"] == number and
                       (m["sport"] == s["client"]) == client and "peerchat.command" in m]
            assert decoded == [line.split(" ")[0] for line in split_lines(s["up" if client else "down"])]
    register = next(m for m in lines if m.get("peerchat.command") == ["REGISTER"])
    name = one(register, "peerchat.name")
    assert one(register, "peerchat.direction") == "C→S" and "peerchat.rule" not in register
    assert any(m.get("peerchat.command") == ["REGISTERED"] and m.get("peerchat.name") == [name] for m in lines)
    starts = [m for m in lines if m.get("peerchat.command") == ["STARTCHAT"]]
    assert starts and all(40000 <= int(one(m, "peerchat.port")) <= 59999 for m in starts)

    # Every datagram of the capture, by its own layout.
    datagrams = tshark.messages(pcap, "peerchat_udp")
    payloads = tshark.run("-r", str(pcap), "-Y", "udp", "-T", "fields", "-e", "udp.payload", lua=False).split()
    assert len(datagrams) == len(payloads) > 0
    for m, hexed in zip(datagrams, payloads):
        data = bytes.fromhex(hexed)
        if data[:2] == b"\xb2\x01":
            assert one(m, "peerchat_udp.kind") == "0x01" and octets(one(m, "peerchat_udp.eph")) == data[2:34]
            assert one(m, "peerchat_udp.name") == data[35:].decode()
        elif data[:2] == b"\xb2\x02":
            assert int(one(m, "peerchat_udp.seq")) == struct.unpack(">Q", data[2:10])[0] >= 1
            assert octets(one(m, "peerchat_udp.tag")) == data[-16:]
            assert int(one(m, "peerchat_udp.ciphertext_len")) == len(data) - 26
        elif b"\0" not in data and b"\n" in data and data.endswith(b"\n\n"):
            user, kind, text = data.decode().split("\n")[:3]
            assert (one(m, "peerchat_udp.user"), one(m, "peerchat_udp.type")) == (user, kind)
            assert m.get("peerchat_udp.text", [""]) == [text]
    # The chat of peer-chats-both-ways: Connect, then a Msg with its text, from the names STARTCHAT gave.
    msg = next(m for m in datagrams if m.get("peerchat_udp.type") == ["Msg"] and "peerchat_udp.rule" not in m)
    assert one(msg, "peerchat_udp.version") == "peerchat/1" and one(msg, "peerchat_udp.text").startswith("hello ")
    assert one(msg, "peerchat_udp.user") == one(msg, "peerchat_udp.expected_user")
    assert any(m.get("peerchat_udp.name") for m in datagrams), "the secure chat's HELLOs"
    # bad-datagrams-are-dropped-silently: a wrong user, a NUL, a long one, an unknown type, no layout at all.
    found = rules(datagrams)
    assert {"PC-UDP-08", "PC-UDP-03", "PC-UDP-04"} <= set(found) and all(found.values()), found


# --------------------------------------------------------------------------------------------- malformed

class Capture:
    """A capture written by hand, raw IPv4 like parley-conform's (pcap link type 101)."""

    def __init__(self):
        self.packets, self.clock, self.ip_id = [], 1_700_000_000.0, 0

    def ip(self, proto, src, dst, payload):
        self.ip_id += 1
        header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self.ip_id, 0x4000, 64, proto, 0,
                             bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
        total = sum(struct.unpack(">10H", header))
        total = (total & 0xFFFF) + (total >> 16)
        header = header[:10] + struct.pack(">H", ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF) + header[12:]
        self.clock += 0.001
        self.packets.append((self.clock, header + payload))

    def udp(self, src, dst, data):
        (sip, sport), (dip, dport) = src, dst
        self.ip(17, sip, dip, struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data)

    def tcp(self, client, server):
        return TcpConnection(self, client, server)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
            for when, data in self.packets:
                f.write(struct.pack("<IIII", int(when), int(when % 1 * 1e6), len(data), len(data)) + data)


class TcpConnection:
    """A handshake, then segments each way with consistent sequence numbers, then FINs."""

    def __init__(self, capture, client, server):
        self.capture, self.ends, self.seq = capture, {True: client, False: server}, {True: 1000, False: 5000}
        self.segment(True, b"", 0x02)
        self.segment(False, b"", 0x12)
        self.segment(True, b"", 0x10)

    def segment(self, from_client, data, flags=0x18):
        (sip, sport), (dip, dport) = self.ends[from_client], self.ends[not from_client]
        ack = self.seq[not from_client] if flags != 0x02 else 0
        header = struct.pack(">HHIIBBHHH", sport, dport, self.seq[from_client], ack, 5 << 4, flags, 65535, 0, 0)
        self.capture.ip(6, sip, dip, header + data)
        self.seq[from_client] += len(data) + (1 if flags & 0x03 else 0)

    def send(self, from_client, *chunks):
        for chunk in chunks:
            self.segment(from_client, chunk)

    def close(self):
        self.segment(True, b"", 0x11)
        self.segment(False, b"", 0x11)
        self.segment(True, b"", 0x10)


CLIENT_PORTS = itertools.count(20000)


def client():
    """A client end of its own, so that no two hand-made connections share their ports."""
    return ("127.0.0.1", next(CLIENT_PORTS))


def mtp(typ, length, sqn=2, body=b"", major=1, uid=b"\x01" * 8):
    return struct.pack(">BBHHH", major, 0, typ, length, sqn) + bytes(8) + uid + body


def malformed_capture(path):
    """Every protocol on its default port, one malformed message after another; returns the rule each
    protocol must flag (securechat's JSON over a hand-made WebSocket upgrade)."""
    cap = Capture()
    itp = cap.tcp(client(), ("127.0.0.1", 1337))
    itp.send(False, b"INIT Welcome\n")
    itp.send(True, b"IDENT a!b\n", b"ident bob\n", b"PM bob\n", b"BCST\n", b"PM_SESSIONKEY bob oaep256.!!\n")
    itp.send(False, b"FAIL42 what\n", b"OK IDENT bob\r\n", b"NPM bob gcm.AAAA\n")
    itp.send(True, b"x" * 1100)
    itp.close()

    for segments in ([mtp(0x0400, 20)],                                   # len below 36
                     [mtp(0x0500, 100, sqn=1)],                           # a login_req without room for etk
                     [mtp(0x0400, 36, sqn=1, major=2, body=bytes(12))],   # major version 2, not a login first
                     [mtp(0x0999, 36, sqn=1, body=bytes(12))],            # unknown type
                     [mtp(0x0500, 60, sqn=1, body=bytes(10))],            # len 60, 42 bytes, then the end
                     [mtp(0x0400, 36, body=bytes(12))[:7]],               # the stream ends inside a header
                     [mtp(0x0500, 36 + 256 + 3, sqn=1, body=bytes(3 + 12 + 256), uid=b"\x02" * 8) +
                      mtp(0x0500, 36 + 256, sqn=2, body=bytes(12 + 256), uid=b"\x02" * 8)]):  # login twice
        conn = cap.tcp(client(), ("127.0.0.1", 5150))
        conn.send(True, *segments)
        conn.close()

    ws = cap.tcp(client(), ("127.0.0.1", 8765))
    ws.send(True, b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    ws.send(False, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    for text in (b'{"_command": "JoinMessage", "id": "j1", "name": "../etc", "signature": "zz"}',
                 b'{"_command": "PublicMessage", "id": "p1", "text": 5}',
                 b'{"_command": "PrivateMessage", "id": "p2", "to_name": "bob", "encrypted_text": "abc"}',
                 b'{"_command": "DanceMessage", "id": "d1"}', b'{"id": ""}', b"[1, 2]", b'{"text": "\\ud800"}',
                 b"{not json", b"[" * 40 + b"]" * 40):
        mask = b"\x11\x22\x33\x44"
        ws.send(True, bytes([0x81, 0x80 | len(text)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(text)))
    ws.close()

    rendezvous = cap.tcp(client(), ("127.0.0.1", 6969))
    rendezvous.send(True, b"HELLO\n", b"REGISTER b@d\n", b"REGISTER x ed25519:12\n", b"hello\n", b"CHAT\n")
    rendezvous.send(False, b"ERROR Nope\n", b"PORT 123\n", b"STARTCHAT 1.2.3.999 45000 bob\n", b"HELLO\r\n")
    rendezvous.close()

    # sslmessager's lines without TLS (Decode As on 18443): the dissector is the same.
    lines = cap.tcp(client(), ("127.0.0.1", 18443))
    lines.send(True, b"MSG bbb aaa hi \r\n", b"AUTH aaa pw extra \r\n", b"AUTH b@d pw \r\n", b"AUTH aaa secretpw\n")
    lines.send(False, b"ACCEPT aaa \r\n")
    lines.send(True, b"AUTH aaa secretpw \r\n", b"MSG bbb \r\n", b"MS\rG x y \r\n", b"MSG bbb aaa " + b"x" * 4100 + b" \r\n",
               b"HELLO \r\n")
    lines.send(False, b"CNT \r\n", b"END <nope> \r\n", b"AUTH aaa leakedpw \r\n", b"\r\n", b" \r\n")
    lines.close()

    a, b = ("127.0.0.1", 45000), ("127.0.0.2", 45000)
    cap.udp(a, b, b"alice\nConnect\n17\n\n")  # well-formed: it shows the chat is peerchat
    hello = b"\xb2\x01" + bytes(32) + b"\x05alice"
    sealed = b"\xb2\x02" + struct.pack(">Q", 1) + b"\x01" + bytes(16)
    bad = [b"alice\nDance\n\n\n", b"alice\x00\nMsg\nhi\n\n", b"alice\nMsg\n" + b"x" * 1300 + b"\n\n", b"\xb2\x03",
           b"\xb2\x02" + struct.pack(">Q", 0) + bytes(17), b"\xb2", b"alice\nConnect\nxyz\n\n",
           *[hello[:n] for n in range(2, len(hello))], *[sealed[:n] for n in range(2, len(sealed))]]
    for data in bad:
        cap.udp(a, b, data)

    cap.write(path)
    return len(bad), {
        "itp": {"ITP-IDENT-02", "ITP-CMD-02", "ITP-CMD-01", "ITP-CRYPTO-03", "ITP-ERR-01", "ITP-FRAME-04",
                "ITP-CRYPTO-04", "ITP-FRAME-05"},
        "multiparty": {"MP-MTP-03", "MP-MTP-02", "MP-MTP-05", "MP-LOGIN-01", "MP-LOGIN-15"},
        "securechat": {"SC-JOIN-08", "SC-JOIN-04", "SC-MSG-05", "SC-PRIV-04", "SC-MSG-04", "SC-MSG-01",
                       "SC-MSG-03"},
        "peerchat": {"PC-REG-04", "PC-KEY-02", "PC-LINE-04", "PC-ERR-02", "PC-ERR-01", "PC-PORT-01", "PC-START-02",
                     "PC-LINE-01"},
        "peerchat_udp": {"PC-UDP-03", "PC-UDP-04", "PC-HS-01", "PC-REC-02", "PC-REPLAY-02", "PC-UDP-02"},
        "sslmessager": {"SSLM-AUTH-01", "SSLM-AUTH-02", "SSLM-USERS-01", "SSLM-FRAME-01", "SSLM-AUTH-07",
                        "SSLM-MSG-01", "SSLM-FRAME-03", "SSLM-FRAME-08", "SSLM-MSG-08", "SSLM-ERR-02", "SSLM-MSG-04",
                        "SSLM-ERR-01", "§5.3"},
    }


def test_malformed_messages_get_rule_warnings_and_never_a_lua_error(tshark, tmp_path):
    pcap = tmp_path / "malformed.pcap"
    bad_datagrams, expected = malformed_capture(pcap)
    # Default ports here, so no heuristic goes first (other protocols' heuristics, DICOM's for one, would
    # claim some of these hand-made frames before the port table is asked).
    plain = ["-d", "tcp.port==18443,sslmessager"]
    tree = tshark.verbose(pcap, *plain, heuristics_first=False)  # checked for Lua trouble, like every run
    assert "secretpw" not in tree and "leakedpw" not in tree
    for proto, wanted in expected.items():
        messages = tshark.messages(pcap, proto, *plain, heuristics_first=False)
        found = rules(messages)
        assert wanted <= set(found), f"{proto}: {sorted(wanted - set(found))} not flagged; found {found}"
        assert all(found[rule] for rule in wanted), f"{proto}: not every rule came with a warning: {found}"
    # Every truncated peerchat/2 datagram is flagged, none is taken for a valid one.
    datagrams = tshark.messages(pcap, "peerchat_udp", heuristics_first=False)
    assert len(datagrams) == 1 + bad_datagrams and all("peerchat_udp.rule" in m for m in datagrams[1:])
    assert "peerchat_udp.rule" not in datagrams[0]
    # The len that promises more than the stream holds is flagged where the stream ends.
    ends = tshark.info(pcap, "-Y", "tcp.flags.fin == 1 && multiparty.rule")
    assert "the stream ends inside a frame: len 60" in ends and "MP-MTP-03" in ends


# Well-formed messages of each protocol, which mutate() breaks in every way it can.
SAMPLES = {
    1337: [b"INIT Welcome\n", b"IDENT alice\n", b"OK USERS alice:bob\n", b"FAIL07 User does not exist\n",
           b"PM bob gcm." + base64.b64encode(bytes(40)) + b"\n", b"PM_SESSIONKEY bob oaep256.QUJD\n"],
    5150: [mtp(0x0500, 36 + 256 + 8, sqn=1, body=bytes(8 + 12 + 256)), mtp(0x0400, 36, body=bytes(12))],
    6969: [b"HELLO peerchat/2\n", b"REGISTER al ed25519:" + b"a" * 64 + b"\n", b"PORT 45000\n", b"ERROR Bad_key\n",
           b"STARTCHAT 127.0.0.2 45000 bob ed25519:" + b"b" * 64 + b"\n"],
    18443: [b"AUTH aaa pw \r\n", b"MSG bbb aaa hi \r\n", b"RELAY a b c \r\n", b"END * <incorrect protocol> \r\n"],
    8765: [b'{"_command": "JoinMessage", "id": "j", "name": "alice", "signature": "00ff"}',
           b'{"_command": "WelcomeMessage", "id": "w", "users": [{"name": "a", "public_key": "k"}]}',
           b'{"_command": "ErrorMessage", "id": "e", "text": "\\u00e9\\ud83d\\ude00", "ref_message_id": null}'],
    45000: [b"alice\nConnect\n17\n\n", b"\xb2\x01" + bytes(32) + b"\x05alice", b"\xb2\x02" + bytes(7) + b"\x01" + bytes(40)],
}


def mutate(rnd, data):
    """The sample with a few random cuts, insertions of separator bytes, flips and a rewritten length field."""
    data = bytearray(data)
    for _ in range(rnd.randint(1, 5)):
        at = rnd.randrange(len(data) + 1)
        choice = rnd.randrange(5)
        if choice == 0:
            del data[at:]
        elif choice == 1:
            data[at:at] = rnd.choice([b"\n", b"\r", b" ", b"\0", b"\xff", b"\xb2", b"{", b'"', b"\\u", b":"])
        elif choice == 2 and at < len(data):
            data[at] = rnd.randrange(256)
        elif choice == 3:
            data[at:at] = data[:rnd.randrange(len(data) + 1)]
        elif len(data) >= 6:
            data[4:6] = struct.pack(">H", rnd.randrange(65536))  # multiparty's len
    return bytes(data)


def test_mutated_messages_never_raise_a_lua_error(tshark, tmp_path):
    rnd = random.Random(1)  # the same mutations every run
    cap = Capture()
    for port, samples in SAMPLES.items():
        if port == 45000:
            a, b = ("127.0.0.1", port), ("127.0.0.2", port)
            cap.udp(a, b, samples[0])
            for _ in range(150):
                cap.udp(a, b, mutate(rnd, rnd.choice(samples)))
            continue
        for _ in range(30):
            conn = cap.tcp(client(), ("127.0.0.1", port))
            if port == 8765:
                conn.send(True, b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                conn.send(False, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
            for _ in range(rnd.randint(1, 4)):
                data = mutate(rnd, rnd.choice(samples))
                if port == 8765:
                    data = bytes([0x81, min(len(data), 125)]) + data[:125]  # an unmasked text frame
                conn.send(rnd.random() < 0.5, data)
            conn.close()
    pcap = tmp_path / "mutated.pcap"
    cap.write(pcap)
    # Checked for Lua trouble as every run is; and what the dissectors show is UTF-8 whatever the bytes were,
    # so the text decodes and the JSON export parses.
    tree = tshark.run("-r", str(pcap), "-d", "tcp.port==18443,sslmessager", "-V")
    json.loads(tshark.run("-r", str(pcap), "-d", "tcp.port==18443,sslmessager", "-T", "json"))
    for heading in ("itp chat protocol", "securechat protocol", "multiparty chat protocol", "sslmessager protocol",
                    "peerchat rendezvous protocol", "peerchat peer datagrams"):
        assert tree.count(f"Parley {heading}") > 20, f"few mutations reached the {heading} dissector"
