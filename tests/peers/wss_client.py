#!/usr/bin/python3
"""A wss:// client for tests, built on python3-websockets and Python's ssl module.

Connects to URL trusting only --ca (and presenting --cert/--key if given), then for each
--send FRAME sends it and prints every frame received as one line until a frame whose
"type" is "complete" (or "pong" for pings) arrives. With --hold FILE it then waits, with the
connection open, until FILE exists, and proves the connection still works with a ping.

Exit status: 0 done; 3 the TLS handshake failed (the reason is printed: "tls: ..."); 4 the
connection failed or closed otherwise; 5 a wait timed out.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

import websockets


async def until_done(ws, timeout):
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        print(json.dumps(frame), flush=True)
        if frame.get("type") in ("complete", "pong"):
            return


async def run(args):
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.ca)
    if args.cert:
        context.load_cert_chain(args.cert, args.key)
    try:
        async with websockets.connect(args.url, ssl=context, open_timeout=args.timeout) as ws:
            print("connected", flush=True)
            for frame in args.send:
                await ws.send(frame)
                await until_done(ws, args.timeout)
            if args.hold:
                while not os.path.exists(args.hold):
                    await asyncio.sleep(0.05)
                await ws.send(json.dumps({"type": "ping", "id": "after-hold"}))
                await until_done(ws, args.timeout)
                print("still open", flush=True)
    except ssl.SSLError as error:
        print(f"tls: {error}", flush=True)
        return 3
    except asyncio.TimeoutError:
        print("timed out", flush=True)
        return 5
    except (OSError, websockets.exceptions.WebSocketException) as error:
        if isinstance(error.__cause__, ssl.SSLError) or isinstance(error, ssl.SSLError):
            print(f"tls: {error}", flush=True)
            return 3
        print(f"failed: {error!r}", flush=True)
        return 4
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--send", action="append", default=[])
    parser.add_argument("--hold")
    parser.add_argument("--timeout", type=float, default=20)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
