#!/usr/bin/env python3
"""A small sslmessager client written apart from Parley (Python's stdlib only), to try the conformance
engine's client-role verdicts on: it reads the reference client's commands on stdin (`@NAME TEXT`,
`/msg NAME TEXT`, `/to NAME` then plain lines, `/quit`), shows what arrives as plain text, and prints none
of Parley's JSON events. With `--mode good` it follows spec/sslmessager/spec.md §4 and §10; every other
mode plants one misbehaviour that real clients have:

  truncate      drops the last three characters of every text it sends
  keep-newline  keeps the typed line feed in the text, as the original client does: MSG t s text\\n \\r\\n
  any-accept    takes an ACCEPT for another name as its own and goes on sending
  no-end        quits by closing the connection, without END
  crash         dies with a traceback on a RELAY from a sender it never wrote to, or of a text over 1000
                bytes (crash-on-stranger and crash-on-long: one of the two only)

usage: sslmessager_deviant.py PORT NAME KEYS [--mode MODE]
It trusts KEYS/server.crt only (checking the name 127.0.0.1) and reads the password from KEYS/NAME.password.
"""
import argparse
import os
import selectors
import socket
import ssl
import sys
import time

MODES = ("good", "truncate", "keep-newline", "any-accept", "no-end", "crash", "crash-on-stranger", "crash-on-long")
MAX_MESSAGE = 4096   # bytes per line, terminator included (SSLM-FRAME-08)
MAX_TEXT = 4000      # bytes per text (SSLM-CLIENT-03)
FRAGMENT_S = 0.2     # held bytes without LF become a message after this silence (SSLM-FRAME-05)
QUIT_WAIT_S = 2.0    # how long to wait for END <end accepted> (SSLM-CLIENT-06)


def say(text):
    print(text, flush=True)


def complain(text):
    print(text, file=sys.stderr, flush=True)


class Client:
    def __init__(self, sock, name, password, mode):
        self.sock, self.name, self.mode = sock, name, mode
        self.logged_in = False
        self.target = None
        self.written_to = {}      # names this client wrote to: the crash modes look senders up here
        self.queued = []          # lines typed before ACCEPT
        self.inbox = b""
        self.last_byte = 0.0
        self.quit_deadline = None
        self.stdin_rest = b""
        self.send_line(f"AUTH {name} {password}")

    # --- writing: one line, one write (one TLS record), content SP CR LF
    def send_line(self, content):
        self.sock.setblocking(True)
        self.sock.sendall((content + " \r\n").encode())
        self.sock.setblocking(False)

    def close(self, code=0):
        self.sock.close()
        sys.exit(code)

    # --- reading the server, as spec §4.2 says
    def on_bytes(self, data):
        self.inbox += data
        self.last_byte = time.monotonic()
        while b"\n" in self.inbox:
            line, self.inbox = self.inbox.split(b"\n", 1)
            if len(line) + 1 > MAX_MESSAGE:
                return self.too_long()
            self.on_message(line)
        if len(self.inbox) > MAX_MESSAGE:
            self.too_long()

    def on_silence(self):
        if self.inbox and time.monotonic() - self.last_byte >= FRAGMENT_S:
            line, self.inbox = self.inbox, b""
            self.on_message(line)

    def too_long(self):
        complain("! the server sent a line over 4096 bytes")
        self.close(1)

    def on_message(self, line):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.endswith(b" "):
            line = line[:-1]
        if not line:
            return
        content = line.decode("utf-8", errors="replace")
        fields = content.split(" ", 3)
        if fields[0] == "ACCEPT" and len(fields) >= 2 and not self.logged_in:
            if fields[1] != self.name and self.mode != "any-accept":
                complain(f"! the server accepted {fields[1]}, not {self.name}")
                self.close(1)
            self.logged_in = True
            say(f"* logged in as {self.name}")
            for queued in self.queued:
                self.on_command(queued)
            self.queued = []
        elif fields[0] == "RELAY" and len(fields) >= 3:
            sender, text = fields[2], fields[3] if len(fields) > 3 else ""
            if self.mode in ("crash", "crash-on-stranger"):
                self.written_to[sender] += 0  # KeyError for a sender it never wrote to
            if self.mode in ("crash", "crash-on-long"):
                shown = memoryview(bytearray(1000))  # one display line of 1000 bytes
                shown[:len(text.encode())] = text.encode()  # ValueError when the text is longer
            say(f"<{sender}> {text}")
        elif content.startswith("CNT"):
            say("* the target is not online")
        elif content == "CHECK":
            pass  # never answered (SSLM-CLIENT-05)
        elif fields[0] == "END":
            say(f"* the server ended the session: {content[4:]}")
            self.close(0)
        # anything else: a later server's line, ignored (SSLM-CLIENT-08)

    # --- what the user types
    def on_stdin(self, data):
        if not data:
            return self.on_command("/quit\n")
        self.stdin_rest += data
        while b"\n" in self.stdin_rest:
            raw, self.stdin_rest = self.stdin_rest.split(b"\n", 1)
            self.on_command(raw.decode("utf-8", errors="replace") + "\n")

    def on_command(self, raw):
        if not self.logged_in:
            if raw.rstrip("\r\n") == "/quit":
                self.close(0)
            self.queued.append(raw)
            return
        if self.quit_deadline is not None:
            return
        line = raw.rstrip("\r\n")
        kept = raw[len(line):] if self.mode == "keep-newline" else ""
        if line == "":
            return
        word, _, rest = line.partition(" ")
        if word == "/quit":
            if self.mode == "no-end":
                self.close(0)
            self.send_line("END")
            self.quit_deadline = time.monotonic() + QUIT_WAIT_S
        elif word == "/to":
            self.target = rest
        elif word == "/msg":
            target, _, text = rest.partition(" ")
            self.send_text(target, text + kept)
        elif word.startswith("@") and len(word) > 1:
            self.send_text(word[1:], rest + kept)
        elif word.startswith("/"):
            complain(f"! unknown command {word}")
        elif self.target:
            self.send_text(self.target, line + kept)
        else:
            complain("! no target: /to NAME first")

    def send_text(self, target, text):
        if len(text.rstrip("\n").encode()) > MAX_TEXT:
            return complain("! a text is at most 4000 bytes")
        if self.mode == "truncate":
            text = text[:-3]
        self.written_to[target] = self.written_to.get(target, 0) + 1
        self.send_line(f"MSG {target} {self.name} {text}")

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ, "server")
        sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "user")
        while True:
            timeout = None
            if self.inbox:
                timeout = max(0.0, self.last_byte + FRAGMENT_S - time.monotonic())
            if self.quit_deadline is not None:
                left = max(0.0, self.quit_deadline - time.monotonic())
                timeout = left if timeout is None else min(timeout, left)
            for key, _ in sel.select(timeout):
                if key.data == "user":
                    data = os.read(sys.stdin.fileno(), 65536)
                    if not data:
                        sel.unregister(sys.stdin.fileno())
                    self.on_stdin(data)
                    continue
                self.read_server()
            self.on_silence()
            if self.quit_deadline is not None and time.monotonic() >= self.quit_deadline:
                self.close(0)

    def read_server(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except (ssl.SSLError, OSError) as e:
                complain(f"* connection lost: {e}")
                self.close(0)
            if not data:
                say("* the server closed the connection")
                self.close(0)
            self.on_bytes(data)
            if not self.sock.pending():
                return


def main():
    parser = argparse.ArgumentParser(description="an sslmessager client with one planted misbehaviour")
    parser.add_argument("port", type=int)
    parser.add_argument("name")
    parser.add_argument("keys", help="the directory holding server.crt and NAME.password")
    parser.add_argument("--mode", choices=MODES, default="good")
    args = parser.parse_args()
    with open(os.path.join(args.keys, args.name + ".password"), encoding="utf-8") as f:
        password = f.readline().rstrip("\r\n")
    context = ssl.create_default_context(cafile=os.path.join(args.keys, "server.crt"))
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=5)
    sock = context.wrap_socket(raw, server_hostname="127.0.0.1")  # verified before AUTH (SSLM-TRUST-03)
    sock.setblocking(False)
    Client(sock, args.name, password, args.mode).run()


if __name__ == "__main__":
    main()
