#!/usr/bin/python3
"""A Modbus TCP server (pymodbus) whose datastore a test controls.

Plays energy meters, PLCs and gateways for Northbound's tests and demo. It knows Modbus,
not Northbound: the typed values a test sets are laid out in registers here, with
Python's struct module, following the Modbus convention (big-endian registers) and the
word/byte orders devices use.

  modbus_server.py --port P [--units 1,3] [--size 1000] [--meter] [--extra-ports P2,P3]

Prints "ready PORT" once it accepts connections (on every port: --extra-ports serves the
same datastore on more ports, as many endpoints). Control lines on stdin, JSON, each
answered on stdout with "ok SEQ" (or "value SEQ JSON", "error SEQ WHY"):
  {"seq":1,"op":"set","unit":1,"table":"holding","address":10,"type":"uint32",
   "word_order":"little","byte_order":"big","value":1520}
  {"seq":2,"op":"get","unit":1,"table":"holding","address":10,"type":"uint32",...}
Tables: coil, discrete, input, holding; types: bool, int16, uint16, int32, uint32,
int64, float32, float64. --meter starts unit 1 as the demo energy meter (voltage,
current and energy drift a little every second).
"""
import argparse
import asyncio
import json
import logging
import random
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import ModbusTcpServer

FORMATS = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q",
           "float32": "f", "float64": "d"}
TABLE_CODES = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}


def to_registers(kind, value, word_order="big", byte_order="big"):
    raw = struct.pack(">" + FORMATS[kind], value)
    words = [raw[i:i + 2] for i in range(0, len(raw), 2)]
    if word_order == "little":
        words.reverse()
    if byte_order == "little":
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def from_registers(kind, registers, word_order="big", byte_order="big"):
    words = [r.to_bytes(2, "big") for r in registers]
    if byte_order == "little":
        words = [w[::-1] for w in words]
    if word_order == "little":
        words.reverse()
    return struct.unpack(">" + FORMATS[kind], b"".join(words))[0]


def width(kind):
    return 1 if kind == "bool" else struct.calcsize(FORMATS[kind]) // 2


class Peer:
    def __init__(self, context):
        self.context = context

    def set(self, unit, table, address, kind, value, word_order="big", byte_order="big"):
        store = self.context[unit]
        if kind == "bool":
            store.setValues(TABLE_CODES[table], address, [bool(value)])
        else:
            store.setValues(TABLE_CODES[table], address,
                            to_registers(kind, value, word_order, byte_order))

    def get(self, unit, table, address, kind, word_order="big", byte_order="big"):
        values = self.context[unit].getValues(TABLE_CODES[table], address, width(kind))
        if kind == "bool":
            return bool(values[0])
        return from_registers(kind, values, word_order, byte_order)

    def handle(self, line):
        seq = None
        try:
            request = json.loads(line)
            seq = request.get("seq")
            args = (request["unit"], request["table"], request["address"], request["type"])
            orders = (request.get("word_order", "big"), request.get("byte_order", "big"))
            if request["op"] == "set":
                value = request["value"]
                if request["type"] not in ("float32", "float64", "bool"):
                    value = int(value)
                self.set(*args, value, *orders)
                return f"ok {seq}"
            if request["op"] == "get":
                return f"value {seq} {json.dumps(self.get(*args, *orders))}"
            return f"error {seq} unknown op"
        except Exception as error:  # a bad control line must not stop the server
            return f"error {seq} {error!r}"


async def drift_meter(peer):
    """Unit 1 as a meter: voltage (input 0, float32, 0.1 V), current (input 2, float32),
    energy (holding 10, uint32 little word order, 0.1 kWh), relay coil 0."""
    peer.set(1, "input", 0, "float32", 2301.0)
    peer.set(1, "input", 2, "float32", 12.5)
    peer.set(1, "holding", 10, "uint32", 15207, word_order="little")
    peer.set(1, "coil", 0, "bool", True)
    while True:
        await asyncio.sleep(1)
        peer.set(1, "input", 0, "float32", 2300.0 + random.randint(-20, 20))
        current = 12.5 + random.uniform(-0.5, 0.5) if peer.get(1, "coil", 0, "bool") else 0.0
        peer.set(1, "input", 2, "float32", current)
        energy = peer.get(1, "holding", 10, "uint32", word_order="little")
        peer.set(1, "holding", 10, "uint32", energy + (1 if current > 0 else 0),
                 word_order="little")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--units", default="1")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--meter", action="store_true")
    parser.add_argument("--extra-ports", default="")
    options = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)

    def block():
        return ModbusSequentialDataBlock(0, [0] * options.size)

    units = {int(u): ModbusSlaveContext(di=block(), co=block(), hr=block(), ir=block(),
                                        zero_mode=True)
             for u in options.units.split(",")}
    context = ModbusServerContext(slaves=units, single=False)
    peer = Peer(context)
    server = ModbusTcpServer(context, address=(options.host, options.port),
                             allow_reuse_address=True)
    serving = asyncio.create_task(server.serve_forever())
    await server.serving
    for extra in filter(None, options.extra_ports.split(",")):
        more = ModbusTcpServer(context, address=(options.host, int(extra)),
                               allow_reuse_address=True)
        asyncio.create_task(more.serve_forever())
        await more.serving
    port = server.server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    if options.meter:
        asyncio.create_task(drift_meter(peer))

    loop = asyncio.get_running_loop()

    def on_stdin():
        line = sys.stdin.readline()
        if not line:
            loop.remove_reader(sys.stdin.fileno())
            return
        if line.strip():
            print(peer.handle(line), flush=True)

    try:
        loop.add_reader(sys.stdin.fileno(), on_stdin)
    except (OSError, ValueError):
        pass  # stdin is a file or /dev/null: no control lines, the server runs on
    await serving


if __name__ == "__main__":
    asyncio.run(main())
