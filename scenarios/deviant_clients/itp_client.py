#!/usr/bin/python3
"""A small itp client written apart from Parley's code (spec/itp/spec.md §7 and §9), for judging the
conformance engine's client-role verdicts: it reads commands on stdin like `parley-client itp --script -`
(TEXT broadcasts, /pm NAME TEXT, /users, /quit; end of input quits) but prints no events, as a third-party
client would not. `--mode` selects one misbehaviour that real clients have; `good` has none:

  good                 a correct client
  truncate-broadcasts  drops the last two characters of every broadcast text it sends   (ITP-CLIENT-07)
  close-without-quit   closes the connection without QUIT when told to quit            (ITP-CLIENT-05)
  ident-before-init    sends IDENT as soon as it connects, before the server's INIT    (ITP-CLIENT-01)
  crash-on-unknown     dies with a traceback on a server line it does not know         (ITP-CLIENT-06)

`--commands native` makes it read a syntax of its own instead (say TEXT, tell NAME TEXT, who, bye), as most
third-party clients have: examples/wrap_client.py translates Parley's commands for it.

usage: itp_client.py PORT NAME [--mode MODE] [--host HOST] [--commands parley|native]
"""
import argparse
import base64
import os
import re
import selectors
import socket
import sys

from cryptography.hazmat.primitives import hashes, padding as block_padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MODES = ("good", "truncate-broadcasts", "close-without-quit", "ident-before-init", "crash-on-unknown")
MAX_LINE = 1024  # the server's limit, terminator excluded (§3)
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
FAIL_LINE = re.compile(rb"^FAIL[0-9]{2}( |$)")


class UnknownLine(Exception):
    pass


class Client:
    def __init__(self, sock, name, mode, key):
        self.sock, self.name, self.mode, self.key = sock, name.encode(), mode, key
        self.ident_sent = self.logged_in = self.quit_sent = self.done = False
        self.queued = []            # commands typed before the login completed
        self.public_keys = {}       # name -> RSA public key
        self.sending_keys = {}      # name -> 32-byte key of mine for them
        self.receiving_keys = {}    # name -> (key, legacy) of theirs for me

    def send(self, line):
        if len(line) > MAX_LINE:
            print(f"not sent: a {len(line)}-byte line", file=sys.stderr)
            return False
        self.sock.sendall(line + b"\n")
        return True

    def close(self):
        self.done = True
        self.sock.close()

    # --- what the server sends -------------------------------------------------------------------------
    def on_line(self, line):
        command, _, rest = line.partition(b" ")
        if line == b"":
            return
        if command == b"INIT":
            if not self.ident_sent:
                self.ident_sent = True
                self.send(b"IDENT " + self.name)
        elif command == b"OK" and rest.startswith(b"IDENT "):
            self.logged_in = True
            der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
            self.send(b"PM_PUBKEY " + base64.b64encode(der))
            while self.queued and not self.done:
                self.on_command(self.queued.pop(0))
        elif command == b"OK" and rest.lower() == b"goodbye":
            self.close()
        elif command == b"OK":
            pass  # acknowledgements of what we sent
        elif command == b"PING":
            self.send(b"PONG")
        elif command in (b"JOINED", b"BCST"):
            pass
        elif command == b"LEFT":
            for keys in (self.public_keys, self.sending_keys, self.receiving_keys):
                keys.pop(rest, None)  # ITP-CRYPTO-07
        elif command == b"PM_PUBKEY":
            self.on_pubkey(*rest.split(b" ", 1))
        elif command == b"PM_SESSIONKEY":
            self.on_sessionkey(*rest.split(b" ", 1))
        elif command in (b"NPM", b"RECEIVE_PRIVATE_MSG"):
            sender, _, body = rest.partition(b" ")
            self.read_pm(sender, body)
        elif command == b"DSCN":
            self.close()
        elif FAIL_LINE.match(line):
            pass
        elif self.mode == "crash-on-unknown":
            raise UnknownLine(line.decode(errors="replace"))

    def on_pubkey(self, who, token):
        try:
            key = serialization.load_der_public_key(base64.b64decode(token, validate=True))
        except ValueError:
            return
        if not isinstance(key, rsa.RSAPublicKey) or not 1024 <= key.key_size <= 4096:
            return
        old = self.public_keys.get(who)
        if old is not None and old.public_numbers() != key.public_numbers():
            self.sending_keys.pop(who, None)  # never reuse a session key wrapped for the old key
        self.public_keys[who] = key
        self.send(b"OK PM_PUBKEY")

    def on_sessionkey(self, who, token):
        try:
            if token.startswith(b"oaep256."):
                key = self.key.decrypt(base64.b64decode(token[8:]), OAEP)
                if len(key) != 32:
                    return
                self.receiving_keys[who] = (key, False)
            elif b"." not in token:  # the Java client's PKCS#1 v1.5 wrap of the base64 of its key
                key = base64.b64decode(self.key.decrypt(base64.b64decode(token), padding.PKCS1v15()))
                self.receiving_keys[who] = (key, True)
            else:
                return
        except ValueError:
            return
        self.send(b"OK PM_SESSIONKEY")

    def read_pm(self, sender, body):
        key = self.receiving_keys.get(sender)
        try:
            if key is None:
                raise ValueError("no session key")
            if key[1]:
                decryptor = Cipher(algorithms.AES(key[0]), modes.ECB()).decryptor()
                padded = decryptor.update(base64.b64decode(body)) + decryptor.finalize()
                unpadder = block_padding.PKCS7(128).unpadder()
                unpadder.update(padded) + unpadder.finalize()
            else:
                if not body.startswith(b"gcm."):
                    raise ValueError("not a gcm. body")
                raw = base64.b64decode(body[4:])
                AESGCM(key[0]).decrypt(raw[:12], raw[12:], b"itp-pm " + sender + b" " + self.name)
        except Exception as error:  # shown to nobody: this client prints no events
            print(f"undecryptable PM from {sender.decode(errors='replace')}: {error}", file=sys.stderr)

    # --- what the user types ---------------------------------------------------------------------------
    def on_command(self, line):
        if self.done:
            return
        if not self.logged_in:
            self.queued.append(line)
            return
        if line == b"":
            return
        if line == b"/quit":
            if self.mode == "close-without-quit":
                self.close()
            elif not self.quit_sent:
                self.quit_sent = True
                self.send(b"QUIT")
            return
        if line == b"/users":
            self.send(b"USERS")
            return
        if line.startswith(b"/pm "):
            who, _, text = line[4:].partition(b" ")
            self.send_pm(who, text)
            return
        if line.startswith(b"/"):
            print(f"unknown command {line.decode(errors='replace')}", file=sys.stderr)
            return
        text = line[:-2] if self.mode == "truncate-broadcasts" and len(line) > 2 else line
        self.send(b"BCST " + text)

    def send_pm(self, who, text):
        public = self.public_keys.get(who)
        if public is None or not text:
            return
        fresh = who not in self.sending_keys
        key = self.sending_keys.get(who) or os.urandom(32)
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, text, b"itp-pm " + self.name + b" " + who)
        pm = b"PM " + who + b" gcm." + base64.b64encode(nonce + sealed)
        if len(pm) > MAX_LINE:
            print("not sent: the private message is too long", file=sys.stderr)
            return
        if fresh:
            self.send(b"PM_SESSIONKEY " + who + b" oaep256." + base64.b64encode(public.encrypt(key, OAEP)))
            self.sending_keys[who] = key
        self.send(pm)


def from_native(line):
    """A command in this client's own syntax (--commands native), as the Parley command it means; None when
    it is not one."""
    verb, _, rest = line.partition(b" ")
    native = {b"say": rest, b"tell": b"/pm " + rest, b"who": b"/users", b"bye": b"/quit"}
    if verb not in native:
        print(f"unknown command {line.decode(errors='replace')}", file=sys.stderr)
    return native.get(verb)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("name")
    parser.add_argument("--mode", choices=MODES, default="good")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--commands", choices=("parley", "native"), default="parley")
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # before connecting, as a key loaded
    sock = socket.create_connection((args.host, args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = Client(sock, args.name, args.mode, key)
    if args.mode == "ident-before-init":
        client.ident_sent = True
        client.send(b"IDENT " + client.name)

    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ, "server")
    selector.register(sys.stdin.buffer.raw, selectors.EVENT_READ, "user")
    from_server = from_user = b""
    while not client.done:
        for entry, _ in selector.select():
            if entry.data == "server":
                data = sock.recv(65536)
                if not data:
                    return
                from_server += data
                while b"\n" in from_server and not client.done:
                    line, from_server = from_server.split(b"\n", 1)
                    client.on_line(line.rstrip(b"\r"))
            elif not client.done:
                data = os.read(sys.stdin.fileno(), 65536)
                if not data:  # end of input means /quit
                    selector.unregister(sys.stdin.buffer.raw)
                    client.on_command(b"/quit")
                    continue
                from_user += data
                while b"\n" in from_user and not client.done:
                    line, from_user = from_user.split(b"\n", 1)
                    line = line.rstrip(b"\r")
                    if args.commands == "native":
                        line = from_native(line)
                    if line is not None:
                        client.on_command(line)
            if client.done:
                break


if __name__ == "__main__":
    main()
