#!/usr/bin/python3
"""MQTT devices speaking the SagooIOT device protocol (Alink JSON), for tests and demos.

Written from the protocol as docs/device-service.md states it, not from device-service's
code. Each device is its own MQTT client (Eclipse Paho) with a retained "online" status
on /sys/{pk}/{dk}/thing/status and a Last Will that sets it "offline"; with --shared one
client serves every device (no per-device Last Will), which is how the benchmark drives
thousands of devices.

    mqtt_device.py --port 1883 --product sagoo-product --devices dev1,dev2 \
        [--behaviour dev2=error500] [--properties '{"temperature": 21.5}']

Behaviours per device: normal (default), error500 (every request answered code 500),
silent (never answers), twice (answers every request two times).

With --report-interval-ms every device posts its properties on that interval (the
temperature drifting), as a real sensor would. Events, garbage and oversized payloads are
for the test to publish itself (mosquitto_pub); killing this process drops every
device's connection without a goodbye, so the broker publishes their Last Wills.
Prints "ready" once every device is connected, subscribed and online.
"""
import argparse
import json
import socket
import sys
import threading
import time

import paho.mqtt.client as mqtt


def no_delay(client):
    """Small packets go out at once (Nagle's algorithm would hold replies for ~40 ms)."""
    sock = client.socket()
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Device:
    def __init__(self, args, key, behaviour, client=None):
        self.args = args
        self.key = key
        self.behaviour = behaviour
        self.base = f"/sys/{args.product}/{key}/thing"
        self.properties = dict(json.loads(args.properties))
        self.shared = client is not None
        self.ready = threading.Event()  # Connected, status published (maybe unacked).
        self.status = None
        if client is None:
            client = mqtt.Client(client_id=f"device-{args.product}-{key}", clean_session=True)
            client.will_set(f"{self.base}/status", "offline", qos=1, retain=True)
            client.on_connect = lambda c, u, f, rc: self.on_connect(rc)
            client.on_message = lambda c, u, m: self.on_message(m)
            if args.username:
                client.username_pw_set(args.username, args.password)
        self.client = client

    def start(self):
        if not self.shared:
            self.client.connect(self.args.host, self.args.port, keepalive=30)
            self.client.loop_start()

    def on_connect(self, rc):
        if rc != 0:
            print(f"connect refused for {self.key}: {rc}", flush=True)
            return
        if not self.shared:  # A shared client subscribes once for every device.
            no_delay(self.client)
            self.client.subscribe(f"{self.base}/service/#", qos=1)
        self.status = self.client.publish(f"{self.base}/status", "online", qos=1, retain=True)
        self.ready.set()

    def on_message(self, message):
        topic = message.topic
        if topic.endswith("_reply"):
            return
        suffix = topic[len(self.base) + len("/service/"):]
        try:
            request = json.loads(message.payload)
        except ValueError:
            return
        if self.behaviour == "silent":
            return
        params = request.get("params")
        if suffix == "property/get":
            data = {name: self.properties[name] for name in params if name in self.properties}
        elif suffix == "property/set":
            self.properties.update(params)
            data = dict(params)
        else:
            data = self.invoke(suffix, params or {})
        reply = {"id": request.get("id"), "code": 200, "data": data, "message": "success",
                 "method": request.get("method"), "version": "1.0"}
        if self.behaviour == "error500":
            reply.update(code=500, data={}, message="device failure: sensor bus error")
        payload = json.dumps(reply)
        for _ in range(2 if self.behaviour == "twice" else 1):
            self.client.publish(f"{topic}_reply", payload, qos=1)

    def invoke(self, function, inputs):
        if function == "calibrate":
            return {"reference": inputs.get("reference", 0), "offset": 0.25}
        return dict(inputs)

    def post(self, path, params):
        # path: "property" or an event id.
        message = {"id": str(int(time.time() * 1000)), "version": "1.0", "sys": {"ack": 0},
                   "params": params, "method": "thing.event." + path.replace("/", ".")}
        self.client.publish(f"{self.base}/event/{path}/post", json.dumps(message), qos=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--product", required=True)
    parser.add_argument("--devices", required=True,
                        help="comma-separated device keys, or a prefix with --count")
    parser.add_argument("--count", type=int, default=0,
                        help="devices PREFIX0..PREFIX{count-1}, PREFIX being --devices")
    parser.add_argument("--behaviour", action="append", default=[], help="DEVICE=BEHAVIOUR")
    parser.add_argument("--properties", default='{"temperature": 21.5, "humidity": 40}')
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--shared", action="store_true", help="one MQTT client for all")
    parser.add_argument("--report-interval-ms", type=int, default=0)
    args = parser.parse_args()
    behaviours = dict(item.split("=", 1) for item in args.behaviour)

    shared = None
    devices = {}
    if args.shared:
        shared = mqtt.Client(client_id=f"devices-{args.product}-{socket.gethostname()}",
                             clean_session=True)
        shared.on_message = lambda c, u, m: devices[m.topic.split("/")[3]].on_message(m)
        def on_shared_connect(client, userdata, flags, rc):
            no_delay(client)
            client.subscribe(f"/sys/{args.product}/+/thing/service/#", qos=1)
            for device in devices.values():
                device.on_connect(rc)
        shared.on_connect = on_shared_connect
        if args.username:
            shared.username_pw_set(args.username, args.password)
    keys = ([f"{args.devices}{i}" for i in range(args.count)] if args.count
            else args.devices.split(","))
    for key in keys:
        devices[key] = Device(args, key, behaviours.get(key, "normal"), shared)
    if shared is not None:
        shared.connect(args.host, args.port, keepalive=30)
        shared.loop_start()
    for device in devices.values():
        device.start()
    for device in devices.values():
        if not device.ready.wait(60):
            print(f"device {device.key} did not connect", flush=True)
            return 1
        device.status.wait_for_publish()  # The broker has the retained "online".
    print("ready", flush=True)

    interval = args.report_interval_ms / 1000.0
    while True:
        if interval <= 0:
            time.sleep(3600)
            continue
        time.sleep(interval)
        for device in devices.values():
            value = device.properties.get("temperature", 20.0)
            device.properties["temperature"] = round(20.0 + (value - 19.5) % 5.0, 2)
            device.post("property", {"temperature": {"value": device.properties["temperature"],
                                                     "time": int(time.time() * 1000)}})


if __name__ == "__main__":
    sys.exit(main())
