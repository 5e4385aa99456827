#!/usr/bin/python3
"""A small securechat client written apart from Parley, for the client-role conformance suite.

It reads commands on standard input like `parley-client securechat --script -` (TEXT is a public message,
`/pm NAME TEXT` a private one, `/quit` leaves; end of input quits) and prints no Parley JSON events, only
lines a person would read. `--mode` plants one misbehaviour that real clients have; `good` plants none.
It needs python3-websockets and python3-cryptography (Debian), and is run by /usr/bin/python3:

    securechat_client.py PORT NAME KEY_PEM [--mode MODE]
"""
import argparse
import asyncio
import json
import sys
import threading
import uuid

import websockets
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

MODES = {
    "good": "no misbehaviour",
    "early-send": "sends what the user types at once, before the WelcomeMessage arrived (breaks SC-CLIENT-01)",
    "crash-unknown-sender": "dies with a traceback on a RoutedPublicMessage from a user it does not know "
                            "(breaks SC-CLIENT-08 and SC-CLIENT-11)",
    "close-without-leave": "has no LeaveMessage: quits with a WebSocket close 1000 alone, which spec section 5 "
                           "allows (breaks nothing)",
    "old-key": "keeps encrypting to a user's first key after an AddUserMessage replaced it (breaks SC-CLIENT-03)",
}


def say(line):
    """What the user reads: plain text, never a Parley event."""
    print(line, flush=True)


# The fields this client reads in each server message, and their types. A message that lacks one, or is not
# a JSON object at all, is passed over: nothing a server sends may crash a client (SC-CLIENT-11).
FIELDS = {
    "WelcomeMessage": {"users": list},
    "AddUserMessage": {"name": str, "public_key": str},
    "RemoveUserMessage": {"name": str},
    "RoutedPublicMessage": {"id": str, "text": str, "from_name": str},
    "RoutedPrivateMessage": {"id": str, "encrypted_text": str, "from_name": str},
    "ErrorMessage": {},
}


def readable(text):
    """The server message as a dict, or None when it is not one this client can read."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's stack allows
        return None
    if not isinstance(message, dict) or not isinstance(message.get("_command"), str):
        return None
    fields = FIELDS.get(message["_command"], {})
    if not all(isinstance(message.get(f), t) for f, t in fields.items()):
        return None
    return message


class Client:
    def __init__(self, ws, name, key, mode):
        self.ws = ws
        self.name = name
        self.key = key
        self.mode = mode
        self.users = {}  # name -> public key
        self.welcomed = False
        self.typed_early = []  # lines typed before the Welcome, sent once it came
        self.done = False

    async def send(self, command, **fields):
        await self.ws.send(json.dumps({"_command": command, "id": str(uuid.uuid4()), **fields}))

    async def join(self):
        # The signed bytes are json.dumps({"name": name}, sort_keys=True), as the original signs them.
        signed = json.dumps({"name": self.name}, sort_keys=True).encode()
        signature = self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        await self.send("JoinMessage", name=self.name, signature=signature.hex())

    def learn(self, name, pem):
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except ValueError:  # not a PEM public key: the user cannot be written to
            say(f"! the key announced for {name} is not a public key")
            return
        if name in self.users and self.mode == "old-key":
            say(f"! the key of {name} changed")  # ... and the old one stays in use: the misbehaviour
            return
        self.users[name] = key

    async def typed(self, line):
        if self.welcomed or self.mode == "early-send":
            await self.command(line)
        else:
            self.typed_early.append(line)

    async def command(self, line):
        if not line or self.done:
            return
        if line == "/quit":
            await self.quit()
        elif line.startswith("/pm "):
            _, to, text = (line.split(" ", 2) + [""])[:3]
            await self.send_private(to, text)
        elif line.startswith("/"):
            say("! commands: TEXT | /pm NAME TEXT | /quit")
        else:
            await self.send("PublicMessage", text=line)

    async def send_private(self, to, text):
        key = self.users.get(to)
        if key is None:
            say(f"! {to} is not online")
            return
        data = text.encode()
        if len(data) > key.key_size // 8 - 11:  # one RSA block at most, never split
            say(f"! a private message to {to} holds at most {key.key_size // 8 - 11} bytes")
            return
        await self.send("PrivateMessage", to_name=to, encrypted_text=key.encrypt(data, padding.PKCS1v15()).hex())

    async def quit(self):
        self.done = True
        if self.mode != "close-without-leave":
            await self.send("LeaveMessage")
        await self.ws.close(code=1000)

    async def received(self, text):
        message = readable(text)
        if message is None:
            say("! passed over a server message it cannot read")
            return
        kind = message["_command"]
        if kind == "ErrorMessage":
            say(f"! the server says: {message.get('text')}")
        elif not self.welcomed:
            if kind == "WelcomeMessage":
                for user in message["users"]:
                    if isinstance(user, dict) and isinstance(user.get("name"), str) \
                            and isinstance(user.get("public_key"), str):
                        self.learn(user["name"], user["public_key"])
                self.welcomed = True
                say("* welcome; online: " + ", ".join(self.users))
                for line in self.typed_early:
                    await self.command(line)
                self.typed_early.clear()
            # anything else before the Welcome is ignored
        elif kind == "AddUserMessage":
            self.learn(message["name"], message["public_key"])
            say(f"* {message['name']} joined")
        elif kind == "RemoveUserMessage":
            if self.users.pop(message["name"], None) is not None:
                say(f"* {message['name']} left")
        elif kind == "RoutedPublicMessage":
            await self.public(message)
        elif kind == "RoutedPrivateMessage":
            await self.private(message)

    async def public(self, message):
        sender = message["from_name"]
        if self.mode == "crash-unknown-sender":
            key = self.users[sender]  # a stranger is not in the list: KeyError, and the client dies
            say(f"<{sender} {key.key_size}> {message['text']}")
            return
        if sender not in self.users:
            await self.send("ErrorMessage", text="Unknown sender", ref_message_id=message["id"])
        say(f"<{sender}> {message['text']}")

    async def private(self, message):
        try:
            text = self.key.decrypt(bytes.fromhex(message["encrypted_text"]), padding.PKCS1v15()).decode()
        except ValueError:  # bad hex, bad padding, or not UTF-8 (UnicodeDecodeError is a ValueError)
            await self.send("ErrorMessage", text="Decryption failed", ref_message_id=message["id"])
            return
        say(f"[private from {message['from_name']}] {text}")


def read_lines(loop, queue):
    """Standard input, line by line, into the event loop; None at its end."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def run(args):
    with open(args.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    uri = f"ws://127.0.0.1:{args.port}/"
    async with websockets.connect(uri, max_size=4 * 2**20, ping_interval=None, close_timeout=2) as ws:
        client = Client(ws, args.name, key, args.mode)
        await client.join()
        lines = asyncio.Queue()
        threading.Thread(target=read_lines, args=(asyncio.get_running_loop(), lines), daemon=True).start()

        async def typing():
            while not client.done:
                line = await lines.get()
                await client.typed("/quit" if line is None else line)

        typist = asyncio.create_task(typing())
        try:
            async for text in ws:
                await client.received(text)
        except websockets.ConnectionClosed:
            pass
        finally:
            typist.cancel()
    say("* disconnected")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("name")
    parser.add_argument("key", help="the user's private RSA key (PEM)")
    parser.add_argument("--mode", choices=MODES, default="good", help="; ".join(f"{m}: {d}" for m, d in MODES.items()))
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
