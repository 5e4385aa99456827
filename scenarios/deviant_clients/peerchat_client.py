#!/usr/bin/python3
"""A small peerchat/1 client written apart from Parley's code (spec/peerchat/spec.md §3-§7), for judging the
conformance engine's client-role verdicts. It speaks peerchat/1 only, as the original does: a plain HELLO, no
key, and chats in the original's datagram layout (`user LF type LF text LF LF`). It reads commands on stdin
like `parley-client peerchat --script -` (TEXT to the chat, /users, /chat NAME, /close, /quit; end of input
quits) but prints no events, as a third-party client would not. `--mode` selects one misbehaviour; `good` has
none:

  good          a correct peerchat/1 client
  single-ok     answers PORT with one OK, though a peerchat/1 server needs it twice   (PC-CLI-03)
  refuse-ports  answers every PORT with ERROR Port_unavailable, free or not          (PC-CLI-03)

usage: peerchat_client.py PORT NAME [--mode MODE] [--host HOST]
                          [--keepalive MS] [--peer-timeout MS] [--connect-timeout MS]
"""
import argparse
import collections
import os
import random
import selectors
import socket
import sys
import time

MODES = ("good", "single-ok", "refuse-ports")
MAX_DATAGRAM = 1200     # PC-UDP-04
MAX_TEXT = 1000
CONNECT_EVERY = 0.25    # PC-UDP-05, and at most one answer per this long (PC-UDP-06)
CLOSE_EVERY = 0.1       # PC-CLOSE-03: three Closes this far apart
PORT_HOLD = 15.0        # PC-CLI-03: a bound port waits this long for its STARTCHAT
TYPES = {b"connect": b"Connect", b"msg": b"Msg", b"close": b"Close", b"keepalivetoken": b"KeepAliveToken",
         b"keepalive": b"KeepAliveToken"}  # PC-UDP-03: any case, and the seed's names


def log(text):
    print(text, file=sys.stderr, flush=True)


def clean_pieces(text):
    """PC-UDP-04: NUL, CR and LF become spaces; at most 1000 bytes per Msg, cut before a UTF-8 lead byte."""
    data = text.encode("utf-8", "surrogateescape")
    data = data.replace(b"\0", b" ").replace(b"\r", b" ").replace(b"\n", b" ")
    pieces = []
    while len(data) > MAX_TEXT:
        cut = MAX_TEXT
        while cut > MAX_TEXT - 3 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        if (data[cut] & 0xC0) == 0x80:
            cut = MAX_TEXT
        pieces.append(data[:cut])
        data = data[cut:]
    pieces.append(data)
    return pieces


def parse_datagram(data):
    """(user, type, text) in either layout (PC-UDP-03), or None when malformed."""
    if len(data) > MAX_DATAGRAM or b"\0" in data:
        return None
    if b"\n" in data:
        fields = [f[:-1] if f.endswith(b"\r") else f for f in data.split(b"\n")]
        if len(fields) < 2:
            return None
        user, kind, text = fields[0], fields[1], fields[2] if len(fields) > 2 else b""
    else:
        parts = data.split(b" ", 2)
        if len(parts) < 2:
            return None
        user, kind, text = parts[0], parts[1], parts[2] if len(parts) > 2 else b""
    kind = TYPES.get(kind.lower())
    return (user, kind, text) if kind else None


class Chat:
    """One peerchat/1 chat over UDP (§7)."""

    def __init__(self, client, sock, address, port, peer):
        self.client, self.sock, self.address, self.port, self.peer = client, sock, address, port, peer
        now = time.monotonic()
        self.phase = "connecting"
        self.started = self.last_sent = self.last_heard = now
        self.next_connect = now
        self.last_answer = now - CONNECT_EVERY
        self.own_texts = collections.deque(maxlen=16)
        self.waiting_texts = []
        self.closes_left, self.next_close = 0, 0.0

    def send(self, kind, text=b""):
        datagram = self.client.name + b"\n" + kind + b"\n" + text + b"\n\n"
        try:
            self.sock.sendto(datagram, (self.address, self.port))
        except OSError as e:
            log(f"cannot send: {e}")
        self.last_sent = time.monotonic()

    def send_connect(self, text=None):
        if text is None:
            text = str(random.randrange(2 ** 31)).encode()
            self.own_texts.append(text)
        self.send(b"Connect", text)

    def say(self, line):
        if self.phase == "connected":
            for piece in clean_pieces(line):
                self.send(b"Msg", piece)
        elif self.phase == "connecting":
            self.waiting_texts.append(line)

    def on_readable(self, _):
        try:
            data, source = self.sock.recvfrom(65536)
        except OSError:
            return
        self.on_datagram(data, source)

    def on_datagram(self, data, source):
        if self.phase not in ("connecting", "connected") or source[0] != self.address:
            return  # PC-UDP-08, PC-CLOSE-03: dropped silently
        parsed = parse_datagram(data)
        if not parsed or parsed[0] != self.peer:
            return
        _, kind, text = parsed
        now = time.monotonic()
        self.last_heard = now
        if self.phase == "connecting":
            self.phase = "connected"  # PC-UDP-07: any valid datagram connects
            log(f"connected with {self.peer.decode()}")
            for line in self.waiting_texts:
                self.say(line)
            self.waiting_texts = []
        if kind == b"Connect":
            # PC-UDP-06: echo it, once per 250 ms, but never an echo of one of our own.
            if text not in self.own_texts and now - self.last_answer >= CONNECT_EVERY:
                self.last_answer = now
                self.send_connect(text)
        elif kind == b"Msg":
            log(f"{self.peer.decode()}: {text.decode('utf-8', 'replace')}")
        elif kind == b"Close":
            self.end("the peer closed the chat")

    def close(self):
        if self.phase == "connected":
            self.send(b"Close")
            self.phase, self.closes_left, self.next_close = "closing", 2, time.monotonic() + CLOSE_EVERY
        else:
            self.end("closed")

    def on_timer(self, now):
        if self.phase == "connecting":
            if now - self.started >= self.client.connect_timeout:
                return self.end("the peer could not be reached")
            if now >= self.next_connect:
                self.send_connect()
                self.next_connect = now + CONNECT_EVERY
        elif self.phase == "connected":
            if now - self.last_heard >= self.client.peer_timeout:
                return self.end("the peer timed out")
            if now - self.last_sent >= self.client.keepalive:
                self.send(b"KeepAliveToken")
        elif self.phase == "closing" and now >= self.next_close:
            self.send(b"Close")
            self.closes_left -= 1
            self.next_close = now + CLOSE_EVERY
            if not self.closes_left:
                self.end("closed")

    def end(self, why):
        log(f"chat with {self.peer.decode()} ended: {why}")
        self.phase = "over"
        self.client.selector.unregister(self.sock)
        self.sock.close()


class Client:
    def __init__(self, args):
        self.name = args.name.encode()
        self.mode = args.mode
        self.keepalive = args.keepalive / 1000
        self.peer_timeout = args.peer_timeout / 1000
        self.connect_timeout = args.connect_timeout / 1000
        self.selector = selectors.DefaultSelector()
        self.tcp = socket.create_connection((args.host, args.port), timeout=10)
        self.tcp.setblocking(False)
        self.selector.register(self.tcp, selectors.EVENT_READ, self.on_tcp)
        os.set_blocking(sys.stdin.fileno(), False)
        self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, self.on_stdin)
        self.tcp_buffer = self.stdin_buffer = b""
        self.hello_answered = self.registered = self.quitting = self.done = False
        self.queued = []      # commands typed before the registration
        self.held = {}        # port -> (socket, expiry): accepted PORTs awaiting STARTCHAT
        self.chat = None
        self.chat_requested = False
        self.early_texts = [] # lines typed after /chat, before STARTCHAT
        self.quit_deadline = None
        self.send_line(b"HELLO")  # peerchat/1: no version argument, so no key is ever registered

    def send_line(self, line):
        try:
            self.tcp.sendall(line + b"\n")
        except OSError:
            self.done = True

    # --- the server's lines (§6) --------------------------------------------------------------------
    def on_tcp(self, _):
        try:
            data = self.tcp.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.done = True
            return
        self.tcp_buffer += data
        while b"\n" in self.tcp_buffer and not self.done:
            line, self.tcp_buffer = self.tcp_buffer.split(b"\n", 1)
            self.on_line(line[:-1] if line.endswith(b"\r") else line)

    def on_line(self, line):
        word, _, rest = line.partition(b" ")  # PC-CLI-01: the exact first word decides
        fields = rest.split(b" ") if rest else []
        if word == b"HELLO" and not self.hello_answered:
            self.hello_answered = True
            self.send_line(b"REGISTER " + self.name)
        elif word in (b"REGISTERED", b"REGISTER") and fields == [self.name, b"OK"] and not self.registered:
            self.registered = True  # PC-CLI-02: both spellings
            for command in self.queued:
                self.on_command(command)
            self.queued = []
        elif word == b"PORT" and len(fields) == 1 and fields[0].isdigit():
            self.on_port(int(fields[0]))
        elif word == b"STARTCHAT" and len(fields) in (3, 4) and fields[1].isdigit():
            self.on_startchat(fields[0].decode(), int(fields[1]), fields[2])  # a key (4th field) is ignored
        elif word == b"ERROR":
            if not self.registered:
                log(f"registration refused: {line.decode()}")
                self.done = True
            self.release_held()
            self.chat_requested, self.early_texts = False, []
        elif word == b"CLOSE":
            self.done = True
        # anything else, an OK or a user list included, needs nothing from us

    def on_port(self, port):
        sock = None
        if 40000 <= port <= 59999 and not self.in_chat() and self.mode != "refuse-ports":
            sock = self.held.get(port, (None, 0))[0] or self.bind(port)
        if not sock:
            self.send_line(b"ERROR Port_unavailable")
            return
        self.held[port] = (sock, time.monotonic() + PORT_HOLD)
        # PC-CLI-03: a peerchat/1 server gets OK twice (the original server may lose one).
        self.send_line(b"OK" if self.mode == "single-ok" else b"OK\nOK")

    def bind(self, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.tcp.getsockname()[0], port))
        except OSError:
            sock.close()
            return None
        sock.setblocking(False)
        return sock

    def on_startchat(self, address, port, peer):
        self.chat_requested = False
        if self.in_chat():
            return
        if self.chat and self.chat.phase != "over":
            self.chat.end("a new chat started")  # its last Closes are not worth a port
        sock = self.held.pop(port, (None, 0))[0] or self.bind(port)
        self.release_held()
        if not sock:
            log(f"cannot bind UDP port {port}")
            return
        self.chat = Chat(self, sock, address, port, peer)
        self.selector.register(sock, selectors.EVENT_READ, self.chat.on_readable)
        for line in self.early_texts:
            self.chat.say(line)
        self.early_texts = []

    def release_held(self):
        for sock, _ in self.held.values():
            sock.close()
        self.held = {}

    def in_chat(self):
        return self.chat is not None and self.chat.phase in ("connecting", "connected")

    # --- the user's commands --------------------------------------------------------------------------
    def on_stdin(self, _):
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            self.selector.unregister(sys.stdin.fileno())
            return self.on_command(b"/quit")
        self.stdin_buffer += data
        while b"\n" in self.stdin_buffer:
            line, self.stdin_buffer = self.stdin_buffer.split(b"\n", 1)
            self.on_command(line[:-1] if line.endswith(b"\r") else line)

    def on_command(self, line):
        if not line:
            return
        verb, _, rest = line.partition(b" ")
        if not self.registered and verb != b"/quit":
            self.queued.append(line)
            return
        if verb == b"/quit":
            if self.in_chat():
                self.chat.close()
            self.send_line(b"CLOSE")
            self.quitting, self.quit_deadline = True, time.monotonic() + 2
        elif verb == b"/users":
            self.send_line(b"LISTUSERS")
        elif verb == b"/chat" and rest and not self.in_chat():
            self.chat_requested = True
            self.send_line(b"CHAT " + rest)
        elif verb == b"/close" and self.in_chat():
            self.chat.close()
        elif verb.startswith(b"/"):
            log(f"not understood: {line.decode('utf-8', 'replace')}")
        elif self.in_chat():
            self.chat.say(line.decode("utf-8", "surrogateescape"))
        elif self.chat_requested:
            self.early_texts.append(line.decode("utf-8", "surrogateescape"))

    # --- the loop -----------------------------------------------------------------------------------------
    def run(self):
        while not self.done:
            for key, _ in self.selector.select(timeout=0.01):
                key.data(key)
                if self.done:
                    break
            now = time.monotonic()
            if self.chat and self.chat.phase != "over":
                self.chat.on_timer(now)
            for port, (sock, expiry) in list(self.held.items()):
                if now >= expiry:
                    sock.close()
                    del self.held[port]
            if self.quit_deadline and now >= self.quit_deadline:
                self.done = True
        self.tcp.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("name")
    parser.add_argument("--mode", choices=MODES, default="good")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--keepalive", type=int, default=5000, help="ms of not sending before a KeepAliveToken")
    parser.add_argument("--peer-timeout", type=int, default=20000, help="ms without a valid datagram that end a chat")
    parser.add_argument("--connect-timeout", type=int, default=30000, help="ms of Connects before giving up")
    Client(parser.parse_args()).run()


if __name__ == "__main__":
    main()
