#!/usr/bin/python3
"""An independent multiparty client (spec/multiparty/spec.md), written from the spec alone, for judging
`parley-conform multiparty --role client` from the outside: it reads the reference client's commands on
standard input (/init NAME..., /accept SID, /decline SID, /msg SID TEXT, /close SID, /status [NAME], /quit)
but prints NO events, so only its frames on the wire show what it does.

    multiparty_client.py PORT NAME KEYS_DIR [--mode MODE]

KEYS_DIR holds NAME.pem (the user's private key) and server.public.pem (the server's key, pinned). MODE:
  good    behaves as spec §13 says
  early   does not wait for the login_res: what the user types during the login goes out at once, sealed
          under tk, the only key it has (it takes the other users' uids from KEYS_DIR): breaks MP-CLIENT-01
  mute    never answers the server's status_req: breaks MP-CLIENT-06
  crash   dies (an uncaught exception) on a typed text over 2048 bytes instead of refusing it: breaks
          MP-CLIENT-09, and shows how a report names a client that crashed
Needs python3-cryptography (Debian)."""
import argparse
import base64
import hashlib
import os
import selectors
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.exceptions import InvalidTag

HEADER = struct.Struct(">BBHHH8s8s")  # ver major, minor, typ, len, sqn, sid, uid (spec §4.1)
TAG = 12
TYPES = {"init_req": 0x0000, "init_res": 0x0010, "close_req": 0x0100, "close_res": 0x0110, "msg_req": 0x0200,
         "msg_res": 0x0210, "invite_req": 0x0300, "invite_res": 0x0310, "status_req": 0x0400,
         "status_res": 0x0410, "login_req": 0x0500, "login_res": 0x0510}
T = type("T", (), TYPES)
ZERO = bytes(8)
MAX_TEXT = 2048
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class Refused(Exception):
    """A server frame the client must not accept: it closes the connection (MP-CLIENT-03/04/05)."""


def log(text):
    print(f"multiparty_client: {text}", file=sys.stderr, flush=True)


def uid_of(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:8]


def nonce(direction, sqn):
    return bytes([direction]) + bytes(9) + struct.pack(">H", sqn)


def seal(key, iv, aad, plain, tag_size=TAG):
    enc = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plain) + enc.finalize()
    return body + enc.tag[:tag_size]


def unseal(key, iv, aad, sealed, tag_size=TAG):
    if len(sealed) < tag_size:
        raise InvalidTag()
    dec = Cipher(algorithms.AES(key), modes.GCM(iv, sealed[-tag_size:], min_tag_length=tag_size)).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(sealed[:-tag_size]) + dec.finalize()


def frame(key, direction, typ, sqn, sid, uid, payload, trailer=b""):
    header = HEADER.pack(1, 0, typ, HEADER.size + len(payload) + TAG + len(trailer), sqn, sid, uid)
    return header + seal(key, nonce(direction, sqn), header, payload) + trailer


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def is_lower_hex(text, digits):
    return len(text) == digits and all(c in "0123456789abcdef" for c in text)


class Client:
    def __init__(self, port, name, keys_dir, mode):
        self.name, self.mode, self.keys_dir = name, mode, keys_dir
        with open(os.path.join(keys_dir, f"{name}.pem"), "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)
        with open(os.path.join(keys_dir, "server.public.pem"), "rb") as f:
            self.server_key = serialization.load_pem_public_key(f.read())
        self.uid = uid_of(self.key.public_key())
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.inbox = b""
        self.logged_in = False
        self.out_sqn = 0
        self.in_sqn = 0
        self.directory = {}  # uid -> (name, public key), from the login_res
        self.sessions = {}  # sid -> {"creator": uid, "to": [uids], "closed": bool}
        self.invitations = set()  # invite_req received, not answered yet
        self.last_sent = {}  # sid -> (text, [uids]): to send again without a non-member (MP-CLIENT-11)
        self.typed = []  # commands typed during the login

    # --- sending -------------------------------------------------------------------------------------------

    def send(self, typ, sid, payload):
        if self.out_sqn == 65535:  # MP-MTP-08: no frame after sqn 65535
            raise SystemExit(0)
        self.out_sqn += 1
        key = self.k_c2s if self.logged_in else self.tk  # before the login only in the early mode
        self.sock.sendall(frame(key, 1, typ, self.out_sqn, sid, self.uid, payload))

    def login(self):
        """MP-CLIENT-02: fresh tk and client_random, the current time, a signature over spec §6.3's bytes."""
        self.tk, self.client_random = os.urandom(32), os.urandom(32)
        timestamp = str(int(time.time() * 1000))
        random_hex = self.client_random.hex()
        signed = (f"parley-mp-login-v1\n{self.name}\n{random_hex}\n{timestamp}\n"
                  f"{hashlib.sha256(self.tk).hexdigest()}\n").encode()
        signature = self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        payload = f"{self.name}\n{random_hex}\n{timestamp}\n{signature.hex()}\n".encode()
        etk = self.server_key.encrypt(self.tk, OAEP)
        self.out_sqn = 1
        self.login_req = frame(self.tk, 1, T.login_req, 1, ZERO, self.uid, payload, etk)
        self.sock.sendall(self.login_req)

    # --- receiving -----------------------------------------------------------------------------------------

    def on_bytes(self, data):
        self.inbox += data
        while len(self.inbox) >= HEADER.size:
            major, _, typ, length, sqn, sid, uid = HEADER.unpack_from(self.inbox)
            if major != 1 or length < HEADER.size + TAG:
                raise Refused(f"a header with version {major} and len {length}")
            if len(self.inbox) < length:
                return
            raw, self.inbox = self.inbox[:length], self.inbox[length:]
            if self.logged_in:
                self.on_frame(raw, typ, sqn, sid, uid)
            else:
                self.on_login_res(raw, typ, sqn, sid, uid)

    def on_login_res(self, raw, typ, sqn, sid, uid):
        """MP-CLIENT-01/03/04: the first server frame is a login_res that proves the pinned key."""
        if typ != T.login_res or sqn != 1 or sid != ZERO or uid != ZERO:
            raise Refused(f"a first frame of type {typ:04x}, sqn {sqn}: not a login_res")
        try:
            payload = unseal(self.tk, nonce(2, 1), raw[:HEADER.size], raw[HEADER.size:]).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise Refused("the login_res does not open under tk")
        if not payload.endswith("\n"):
            raise Refused("the login_res does not end with LF")
        lines = payload[:-1].split("\n")
        if len(lines) < 3 or not is_lower_hex(lines[0], 64) or not is_lower_hex(lines[1], 64):
            raise Refused("the login_res payload breaks its grammar")
        if lines[0] != hashlib.sha256(self.login_req).hexdigest():
            raise Refused("the login_res answers another login_req")
        for line in lines[2:]:
            parts = line.split(" ")
            if len(parts) != 3 or not is_lower_hex(parts[1], 16):
                raise Refused(f"a directory line '{line}'")
            key = serialization.load_der_public_key(base64.b64decode(parts[2], validate=True))
            if uid_of(key) != bytes.fromhex(parts[1]):
                raise Refused(f"the directory gives {parts[0]} a uid that is not its key's")
            self.directory[bytes.fromhex(parts[1])] = (parts[0], key)
        if self.directory.get(self.uid, (None,))[0] != self.name:
            raise Refused("the directory does not list this user with this key")
        ikm = self.client_random + bytes.fromhex(lines[1])
        salt = hashlib.sha256(self.login_req).digest()
        self.k_c2s = hkdf(ikm, salt, b"parley-mp-v1 c2s")
        self.k_s2c = hkdf(ikm, salt, b"parley-mp-v1 s2c")
        self.in_sqn = 1
        self.logged_in = True
        self.tk = None  # spec §6.6: forgotten after the login
        for line in self.typed:
            self.command(line)
        self.typed = []

    def on_frame(self, raw, typ, sqn, sid, uid):
        """MP-CLIENT-05: every check of spec §4.4 from the client's side, then the frame's protocol."""
        if typ not in TYPES.values() or typ in (T.init_req, T.login_req, T.login_res):
            raise Refused(f"a frame of type {typ:04x}")
        if sqn != self.in_sqn + 1:
            raise Refused(f"sqn {sqn} after {self.in_sqn}")
        try:
            payload = unseal(self.k_s2c, nonce(2, sqn), raw[:HEADER.size], raw[HEADER.size:])
        except InvalidTag:
            raise Refused("a frame whose tag does not verify")
        if uid != ZERO and uid not in self.directory:
            raise Refused(f"a frame from uid {uid.hex()}, not in the directory")
        self.in_sqn = sqn
        text = payload.decode("utf-8", "replace")
        if typ == T.status_req:
            if self.mode != "mute":  # MP-CLIENT-06
                self.send(T.status_res, ZERO, b"Online")
        elif typ == T.init_res and text.startswith("OK\n"):
            self.sessions[sid] = {"creator": self.uid, "to": [], "closed": False}
        elif typ == T.invite_req:
            people = [bytes.fromhex(u) for u in text.split("\n")[:-1] if is_lower_hex(u, 16)]
            self.invitations.add(sid)
            self.sessions[sid] = {"creator": uid, "to": [u for u in people if u != self.uid], "closed": False}
        elif typ == T.invite_res and uid != ZERO:
            s = self.sessions.get(sid)
            if text == "Accept" and s and s["creator"] == self.uid and uid not in s["to"]:
                s["to"].append(uid)
        elif typ == T.msg_req:
            self.on_message(sid, uid, payload)
        elif typ == T.msg_res and uid == ZERO:
            self.on_msg_res(sid, text)
        elif typ == T.close_req:  # a notification: never answered (MP-CLIENT-10), the session is over (-12)
            self.sessions.setdefault(sid, {"creator": uid, "to": [], "closed": True})["closed"] = True
            self.invitations.discard(sid)
        elif typ == T.close_res and text == "OK" and sid in self.sessions:
            self.sessions[sid]["closed"] = True
        # Other answers and notifications (status_res, errors, receipts) are never answered (MP-CLIENT-10).

    def on_message(self, sid, sender, payload):
        """MP-CLIENT-08: one msg_res per forwarded msg_req, 'OK' only for a part that opened."""
        answer = b"cannot decrypt"
        try:
            line = payload.decode()
            uid_hex, part64 = line[:-1].split(" ")
            if line.endswith("\n") and bytes.fromhex(uid_hex) == self.uid:
                part = base64.b64decode(part64, validate=True)
                k = self.key.key_size // 8
                key = self.key.decrypt(part[:k], OAEP)
                unseal(key, part[k:k + 12], sid + sender, part[k + 12:], tag_size=16).decode()
                answer = b"OK"
        except (ValueError, InvalidTag, UnicodeDecodeError):
            pass
        self.send(T.msg_res, sid, answer)

    def on_msg_res(self, sid, text):
        prefix = "not a member: "
        last = self.last_sent.pop(sid, None)
        if not (last and text.startswith(prefix) and is_lower_hex(text[len(prefix):], 16)):
            return
        gone = bytes.fromhex(text[len(prefix):])
        rest = [u for u in last[1] if u != gone]
        if sid in self.sessions and gone in self.sessions[sid]["to"]:
            self.sessions[sid]["to"].remove(gone)
        if rest and len(rest) < len(last[1]):  # MP-CLIENT-11: the same text without that recipient
            self.send_text(sid, last[0], rest)

    # --- commands -------------------------------------------------------------------------------------------

    def command(self, line):
        if not self.logged_in and self.mode != "early":
            self.typed.append(line)  # MP-CLIENT-01: nothing but the login_req before the login_res
            return
        verb, _, rest = line.partition(" ")
        if verb == "/quit":
            raise SystemExit(0)
        if verb == "/init":
            names = rest.split()
            uids = [self.uid_named(n) for n in names]
            if names and all(uids):
                self.send(T.init_req, ZERO, b"".join(u.hex().encode() + b"\n" for u in uids))
        elif verb in ("/accept", "/decline"):
            sid = self.sid_of(rest)
            if sid in self.invitations:  # MP-CLIENT-07: only an invitation received, only once
                self.invitations.discard(sid)
                self.send(T.invite_res, sid, b"Accept" if verb == "/accept" else b"Deny")
        elif verb == "/msg":
            sid_hex, _, text = rest.partition(" ")
            s = self.sessions.get(self.sid_of(sid_hex))
            if s and not s["closed"] and s["to"] and self.sid_of(sid_hex) not in self.invitations:
                if len(text.encode()) <= MAX_TEXT:  # MP-CLIENT-09: refused locally, never split
                    self.send_text(self.sid_of(sid_hex), text, list(s["to"]))
                elif self.mode == "crash":
                    raise OverflowError(f"a text of {len(text.encode())} bytes")
        elif verb == "/close" and self.sid_of(rest):
            self.send(T.close_req, self.sid_of(rest), b"")
        elif verb == "/status":
            who = self.uid_named(rest) if rest else b""
            if who is not None:
                self.send(T.status_req, ZERO, who.hex().encode())

    def send_text(self, sid, text, to):
        """MP-CLIENT-09: one part per recipient, a fresh K and nonce each, AAD = sid || own uid."""
        payload = b""
        for uid in to:
            k, iv = os.urandom(32), os.urandom(12)
            part = self.directory[uid][1].encrypt(k, OAEP) + iv + seal(k, iv, sid + self.uid, text.encode(), 16)
            payload += uid.hex().encode() + b" " + base64.b64encode(part) + b"\n"
        self.last_sent[sid] = (text, to)
        self.send(T.msg_req, sid, payload)

    def uid_named(self, name):
        for uid, (n, _) in self.directory.items():
            if n == name:
                return uid
        if self.mode == "early" and not self.logged_in:  # the key files stand in for the directory
            path = os.path.join(self.keys_dir, f"{name}.public.pem")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    return uid_of(serialization.load_pem_public_key(f.read()))
        return None

    @staticmethod
    def sid_of(text):
        return bytes.fromhex(text) if is_lower_hex(text, 16) else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("name")
    parser.add_argument("keys")
    parser.add_argument("--mode", choices=("good", "early", "mute", "crash"), default="good")
    args = parser.parse_args()
    client = Client(args.port, args.name, args.keys, args.mode)
    client.login()
    selector = selectors.DefaultSelector()
    selector.register(client.sock, selectors.EVENT_READ, "net")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "user")
    typed = b""
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "net":
                    data = client.sock.recv(65536)
                    if not data:
                        return 0 if client.logged_in else 1
                    client.on_bytes(data)
                else:
                    chunk = os.read(sys.stdin.fileno(), 65536)
                    if not chunk:  # end of input: the user is done
                        return 0
                    typed += chunk
                    while b"\n" in typed:
                        line, typed = typed.split(b"\n", 1)
                        client.command(line.decode("utf-8", "replace"))
    except Refused as e:
        log(f"closing the connection: {e}")
        return 1
    finally:
        client.sock.close()


if __name__ == "__main__":
    sys.exit(main())
