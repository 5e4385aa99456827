#!/usr/bin/python3
"""Puts a chat client that has its own command syntax under `parley-conform --role client`.

The engine plays the server and types the user's commands on the client's stdin in parley-client's syntax
(itp: TEXT broadcasts, `/pm NAME TEXT`, `/users`, `/quit`; the README lists each protocol's). This wrapper
starts your client, translates each command line into your client's syntax, and gets out of the way: your
client's stdout and stderr go straight to the engine (its output tail is shown when it crashes), and the
wrapper exits with your client's status. Edit `translate` for your client; nothing else should need it.

    parley-conform itp --role client \\
        --launch "/usr/bin/python3 examples/wrap_client.py -- ./my-client --port {port} --user {name}"

As written, it translates for scenarios/deviant_clients/itp_client.py --commands native (say TEXT,
tell NAME TEXT, who, bye); scenarios/test_itp_deviant_clients.py runs it.
"""
import os
import signal
import subprocess
import sys
import threading


def translate(command):
    """One Parley command (bytes, no line end) as your client's input line, or None to type nothing."""
    if command == b"/quit":
        return b"bye"
    if command == b"/users":
        return b"who"
    if command.startswith(b"/pm "):
        return b"tell " + command[len(b"/pm "):]
    if command.startswith(b"/"):
        return None  # a command your client has no equivalent for
    return b"say " + command  # plain text: a broadcast (an empty or blank line is typed as it is)


def end_as(status):
    """Ends the wrapper as the client ended, so the engine reports the client's own exit code or signal."""
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


def main():
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: wrap_client.py [--] CLIENT-COMMAND [ARGS...]")
    client = subprocess.Popen(args, stdin=subprocess.PIPE)
    # A client that dies mid-case must look dead to the engine at once, not when its input ends.
    threading.Thread(target=lambda: end_as(client.wait()), daemon=True).start()
    pending = b""
    try:
        # Line by line and unbuffered: the engine paces its typing on what the client has read.
        while chunk := os.read(sys.stdin.fileno(), 65536):
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                typed = translate(line.rstrip(b"\r"))
                if typed is not None:
                    client.stdin.write(typed + b"\n")
                    client.stdin.flush()
        client.stdin.close()  # end of input: the client quits as it would at end of its own input
    except BrokenPipeError:
        pass  # the client is gone; its status says why
    end_as(client.wait())


if __name__ == "__main__":
    main()
