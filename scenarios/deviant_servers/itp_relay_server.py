#!/usr/bin/env python3
"""A minimal itp relay (stdlib only, a thread per connection) that misdelivers the way a racy or careless
relay does, to show that parley-load checks every delivery: with --duplicate N it sends every Nth
broadcast twice to each receiver; with --swap N it delivers every Nth broadcast after the one that
follows it. Only IDENT and BCST are served.

usage: itp_relay_server.py PORT [--duplicate N] [--swap N]
"""
import argparse
import socket
import threading

users = {}  # name -> (connection, lock)
users_lock = threading.Lock()


def deliver(sender, lines):
    with users_lock:
        receivers = [(c, lock) for name, (c, lock) in users.items() if name != sender]
    for conn, lock in receivers:
        with lock:
            try:
                conn.sendall(b"".join(lines))
            except OSError:
                pass


def serve(conn, args):
    name, lock, count, held = None, threading.Lock(), 0, None
    with conn:
        conn.sendall(b"INIT Welcome\n")
        buffer = b""
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                command, _, rest = line.decode("utf-8", "replace").partition(" ")
                if command == "IDENT":
                    name = rest
                    with users_lock:
                        users[name] = (conn, lock)
                    with lock:
                        conn.sendall(f"OK IDENT {rest}\n".encode())
                elif command == "BCST" and name:
                    count += 1
                    relayed = f"BCST {name} {rest}\n".encode()
                    with lock:
                        conn.sendall(f"OK BCST {rest}\n".encode())
                    if args.swap and count % args.swap == 0:
                        held = relayed
                        continue
                    lines = [relayed] * (2 if args.duplicate and count % args.duplicate == 0 else 1)
                    if held:
                        lines.append(held)
                        held = None
                    deliver(name, lines)
    with users_lock:
        if name in users:
            del users[name]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--duplicate", type=int, default=0)
    parser.add_argument("--swap", type=int, default=0)
    args = parser.parse_args()
    listener = socket.create_server(("127.0.0.1", args.port))
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    main()
