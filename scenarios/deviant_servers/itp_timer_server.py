#!/usr/bin/env python3
"""A minimal itp server (stdlib only, a thread per connection) whose login reply and first PING come when
it is told, to check how parley-conform times a server's timers: it answers IDENT --reply-share of the
ping interval late (a busy server's reply) and sends PING --ping-share of it after the IDENT arrived.
Nothing else is served beyond PONG and QUIT.

usage: itp_timer_server.py PORT --ping MS [--reply-share X] [--ping-share X]
"""
import argparse
import socket
import threading
import time


def serve(conn, args):
    with conn:
        conn.sendall(b"INIT Welcome\n")
        buffer = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                command, _, rest = line.decode("utf-8", "replace").strip().partition(" ")
                if command == "IDENT":
                    arrived = time.monotonic()
                    time.sleep(args.ping * args.reply_share / 1000)
                    conn.sendall(f"OK IDENT {rest}\n".encode())
                    ping_at = arrived + args.ping * args.ping_share / 1000
                    time.sleep(max(0.0, ping_at - time.monotonic()))
                    conn.sendall(b"PING\n")
                elif command == "QUIT":
                    conn.sendall(b"OK Goodbye\n")
                    return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--ping", type=float, required=True)
    parser.add_argument("--reply-share", type=float, default=0.0)
    parser.add_argument("--ping-share", type=float, default=1.0)
    args = parser.parse_args()
    listener = socket.create_server(("127.0.0.1", args.port))
    print("listening", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    main()
