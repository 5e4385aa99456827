#!/usr/bin/env python3
"""A small itp server written apart from Parley (Python's stdlib only, one thread, the way a student
writes one), to try parley-fuzz on. With `--mode good` it serves logins, BCST, USERS, PM and QUIT after
spec/itp/spec.md well enough for every session to be judged; each other mode plants one defect real
single-threaded servers have:

  utf8-crash     decodes every line as strict UTF-8 in the main loop: one invalid byte raises
                 UnicodeDecodeError and the whole server dies with a traceback
  blocking-read  after a line's first bytes, reads the rest of the line with blocking recv() calls in the
                 main loop: a line that never ends (no terminator) stalls every other user for good

usage: itp_server.py PORT [--mode MODE]
"""
import argparse
import re
import selectors
import socket

MODES = ("good", "utf8-crash", "blocking-read")
NAME = re.compile(r"^[A-Za-z0-9_]{3,14}$")
MAX_LINE = 1024


class Server:
    def __init__(self, port, mode):
        self.mode = mode
        self.sel = selectors.DefaultSelector()
        self.listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ)
        self.buffers = {}   # socket -> bytes not yet a line
        self.names = {}     # socket -> logged-in name

    def send(self, conn, line):
        try:
            conn.sendall(line.encode("utf-8", "surrogateescape") + b"\n")
        except OSError:
            self.drop(conn)

    def others(self, conn):
        return [c for c in self.names if c is not conn]

    def drop(self, conn):
        if conn not in self.buffers:
            return
        name = self.names.pop(conn, None)
        del self.buffers[conn]
        self.sel.unregister(conn)
        conn.close()
        if name:
            for other in list(self.names):
                self.send(other, f"LEFT {name}")

    def decode(self, raw):
        if self.mode == "utf8-crash":
            return raw.decode("utf-8")  # the defect: strict, uncaught, in the only thread
        return raw.decode("utf-8", "surrogateescape")

    def handle(self, conn, raw):
        line = self.decode(raw)
        if not line:
            return
        command, _, rest = line.partition(" ")
        name = self.names.get(conn)
        if command == "QUIT":
            self.send(conn, "OK Goodbye")
            self.drop(conn)
        elif command == "IDENT":
            if name:
                self.send(conn, "FAIL04 User cannot login twice")
            elif not NAME.match(rest):
                self.send(conn, "FAIL02 Username has an invalid format or length")
            elif rest in self.names.values():
                self.send(conn, "FAIL01 User already logged in")
            else:
                for other in list(self.names):
                    self.send(other, f"JOINED {rest}")
                self.names[conn] = rest
                self.send(conn, f"OK IDENT {rest}")
        elif command in ("PONG", "OK"):
            return
        elif command not in ("BCST", "USERS", "PM", "PM_PUBKEY", "PM_SESSIONKEY"):
            self.send(conn, "FAIL00 Unknown command")
        elif not name:
            self.send(conn, "FAIL03 Please log in first")
        elif command == "BCST":
            for other in self.others(conn):
                self.send(other, f"BCST {name} {rest}")
            self.send(conn, f"OK BCST {rest}")
        elif command == "USERS":
            if len(self.names) == 1:
                self.send(conn, "FAIL06 You are the only connected user")
            else:
                self.send(conn, "OK USERS " + ":".join(self.names.values()))
        elif command == "PM":
            to, _, text = rest.partition(" ")
            target = [c for c, n in self.names.items() if n == to]
            if not target:
                self.send(conn, "FAIL07 Recipient not found")
            elif target[0] is conn:
                self.send(conn, "FAIL08 Cannot send a message to yourself")
            else:
                self.send(target[0], f"NPM {name} {text}")
                self.send(conn, f"OK PM {to} {text}")
        else:
            self.send(conn, "FAIL00 Unknown command")

    def readable(self, conn):
        try:
            data = conn.recv(4096)
        except OSError:
            data = b""
        if not data:
            return self.drop(conn)
        buffer = self.buffers[conn] + data
        if self.mode == "blocking-read" and b"\n" not in buffer:
            conn.setblocking(True)  # the defect: wait here for the rest of the line, serving nobody else
            while b"\n" not in buffer:
                try:
                    more = conn.recv(4096)
                except OSError:
                    more = b""
                if not more:
                    return self.drop(conn)
                buffer += more
            conn.setblocking(False)
        *lines, rest = re.split(rb"\r\n|\n|\r", buffer)
        self.buffers[conn] = rest
        for raw in lines:
            if conn not in self.buffers:
                return
            self.handle(conn, raw)
        if conn in self.buffers and len(self.buffers[conn]) > MAX_LINE:
            self.send(conn, "DSCN Unterminated message")
            self.drop(conn)

    def run(self):
        while True:
            for key, _ in self.sel.select():
                if key.fileobj is self.listener:
                    try:
                        conn, _ = self.listener.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    self.buffers[conn] = b""
                    self.sel.register(conn, selectors.EVENT_READ)
                    self.send(conn, "INIT Welcome to a small Python itp server")
                else:
                    self.readable(key.fileobj)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--mode", choices=MODES, default="good")
    args = parser.parse_args()
    Server(args.port, args.mode).run()


if __name__ == "__main__":
    main()
