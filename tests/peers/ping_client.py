#!/usr/bin/python3
"""A WebSocket client for tests that pings while it takes a stream of events.

Built on python3-websockets, which fails the connection on any frame that breaks RFC 6455.
Connects to URL and subscribes to TOPIC (a `sub` frame, docs/protocol.md). For --seconds it
reads the events, while it sends a WebSocket ping (a control frame, not the protocol's JSON
ping) every --ping-ms with a payload of its own: the server's pongs travel among the event
frames. Then it sends `unsub`, reads up to the subscription's `complete`, and waits for the
pong of every ping it sent.

Checks: every frame before the `complete` is a JSON `result` of the subscription, and one
device's timestamps never go back. Prints one JSON line: {"events": N, "pings": P}.

Exit status: 0 done; 4 the connection failed or closed; 5 a wait timed out; 6 a check failed
(the reason is printed).
"""
import argparse
import asyncio
import json
import sys
import time

import websockets


class CheckFailed(Exception):
    pass


async def pinger(ws, interval, waiters):
    while True:
        waiters.append(await ws.ping(f"p{len(waiters)}".encode()))
        await asyncio.sleep(interval)


async def run(args):
    waiters = []
    events = 0
    last = {}
    try:
        async with websockets.connect(args.url, open_timeout=args.timeout,
                                      max_size=None) as ws:
            await ws.send(json.dumps({"type": "sub", "id": "s", "topic": args.topic}))
            pinging = asyncio.create_task(pinger(ws, args.ping_ms / 1000, waiters))
            end = time.monotonic() + args.seconds
            unsubscribed = False
            while True:
                if not unsubscribed and time.monotonic() >= end:
                    pinging.cancel()
                    await ws.send(json.dumps({"type": "unsub", "id": "s"}))
                    unsubscribed = True
                frame = json.loads(await asyncio.wait_for(ws.recv(), args.timeout))
                if frame.get("id") != "s":
                    raise CheckFailed(f"unexpected frame: {frame}")
                if frame.get("type") == "complete" and unsubscribed:
                    break
                if frame.get("type") != "result":
                    raise CheckFailed(f"unexpected frame: {frame}")
                events += 1
                device, timestamp = frame.get("deviceId"), frame.get("timestamp")
                if timestamp < last.get(device, 0):
                    raise CheckFailed(f"events of {device} out of order")
                last[device] = timestamp
            # Every frame is read: nothing holds a pong back any more.
            await asyncio.wait_for(asyncio.gather(*waiters), args.timeout)
    except CheckFailed as error:
        print(f"check failed: {error}", flush=True)
        return 6
    except asyncio.TimeoutError:
        answered = sum(1 for waiter in waiters if waiter.done() and not waiter.cancelled())
        print(f"timed out: {events} events, {len(waiters)} pings, {answered} answered",
              flush=True)
        return 5
    except (OSError, websockets.exceptions.WebSocketException) as error:
        print(f"failed after {events} events: {error!r}", flush=True)
        return 4
    print(json.dumps({"events": events, "pings": len(waiters)}), flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--ping-ms", type=float, default=2)
    parser.add_argument("--timeout", type=float, default=20)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
