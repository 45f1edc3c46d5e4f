#!/usr/bin/env python3
"""Reads CouponRank's event streams, written from proto-spec/EVENTS.md alone (standard library only).

  read_events.py --port 6379 [--host 127.0.0.1] [--prefix couponrank:]   every decision and reward as JSON lines
  read_events.py --hex FILE [--candidates-hex FILE]                        one decision record from a .hex vector
                                                                           (and its `candidates` field, §2.5)

Output: one JSON object per line: {"stream": "decisions", "id": ..., "record": {...}} or
{"stream": "rewards", "id": ..., "fields": {...}}. A decision entry with the optional `candidates`
field (§2.5) has its unshown eligible coupons in record["candidates"]; without it the key is absent.
"""
import argparse
import json
import socket
import struct
import sys


class Reader:
    """EVENTS.md §2.2: big-endian integers, f64 as the u64 of its bits, str16, list<T>."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError(f"truncated record: need {n} bytes at offset {self.at}")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack(">H", self.take(2))[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def u64(self): return struct.unpack(">Q", self.take(8))[0]
    def f32(self): return struct.unpack(">f", self.take(4))[0]
    def f64(self): return struct.unpack(">d", self.take(8))[0]
    def str16(self): return self.take(self.u16()).decode("utf-8")
    def pairs(self, value): return {self.str16(): value() for _ in range(self.u16())}


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def decode_decision(body):
    r = Reader(body)
    fmt = r.u8()
    if fmt != 1:
        raise ValueError(f"decision record format {fmt} is not 1")
    record = {
        "event_id": r.str16(), "time_ms": r.u64(), "easy_id": r.str16(), "model_version": r.str16(),
        "policy": ["greedy", "epsilon_greedy", "softmax"][r.u8()], "policy_parameter": r.f64(),
        "degraded": r.u8(), "eligible": r.u32(),
    }
    if record["policy"] == "softmax":
        record["score_max"], record["normalizer"] = r.f64(), r.f64()
    seed = fnv1a64(record["event_id"].encode() + bytes([0x1F]) + record["model_version"].encode())
    record["seed"] = f"{seed:016x}"
    record.update({"user_numeric": r.pairs(r.f64), "user_categorical": r.pairs(r.str16), "items": []})
    for _ in range(r.u16()):
        record["items"].append({
            "coupon_id": r.str16(), "score": r.f32(), "probability": r.f32(), "propensity": r.f64(),
            "choice": r.u8(), "category": r.str16(), "shop": r.str16(), "discount_rate": r.f64(),
            "min_spend": r.f64(), "days_to_expiry": r.f64(), "attributes": r.pairs(r.f64),
            "labels": r.pairs(r.str16), "ctr": r.f64(), "cvr": r.f64(),
        })
    if r.at != len(body):
        raise ValueError(f"{len(body) - r.at} bytes after the record")
    return record


def decode_candidates(field):
    """EVENTS.md §2.5: the `candidates` entry field, the item layout without score to choice."""
    r = Reader(field)
    fmt = r.u8()
    if fmt != 1:
        raise ValueError(f"candidates format {fmt} is not 1")
    candidates = []
    for _ in range(r.u16()):
        candidates.append({
            "coupon_id": r.str16(), "category": r.str16(), "shop": r.str16(), "discount_rate": r.f64(),
            "min_spend": r.f64(), "days_to_expiry": r.f64(), "attributes": r.pairs(r.f64),
            "labels": r.pairs(r.str16), "ctr": r.f64(), "cvr": r.f64(),
        })
    if r.at != len(field):
        raise ValueError(f"{len(field) - r.at} bytes after the candidates")
    return candidates


def decode_entry(fields):
    """A decisions entry: `body`, and `candidates` when present; other fields are ignored (§2.1)."""
    record = decode_decision(fields[b"body"])
    if b"candidates" in fields:
        record["candidates"] = decode_candidates(fields[b"candidates"])
    return record


class Redis:
    """Just enough RESP2 for XRANGE."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.reply()

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+": return rest.decode()
        if kind == b"-": raise RuntimeError(rest.decode())
        if kind == b":": return int(rest)
        if kind == b"$": return None if int(rest) < 0 else self.exactly(int(rest))
        if kind == b"*": return None if int(rest) < 0 else [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")


def entries(redis, key):
    start = b"-"
    while True:
        page = redis.command(b"XRANGE", key, start, b"+", b"COUNT", 500)
        for entry_id, flat in page:
            yield entry_id.decode(), dict(zip(flat[0::2], flat[1::2]))
        if len(page) < 500:
            return
        start = b"(" + page[-1][0]


def read_hex(path):
    text = "".join(line.split("#", 1)[0] for line in open(path))
    return bytes.fromhex("".join(text.split()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--prefix", default="couponrank:")
    parser.add_argument("--hex", help="decode the decision record in this .hex file instead")
    parser.add_argument("--candidates-hex", help="with --hex: the `candidates` field in this .hex file")
    args = parser.parse_args()
    if args.hex:
        fields = {b"body": read_hex(args.hex)}
        if args.candidates_hex:
            fields[b"candidates"] = read_hex(args.candidates_hex)
        print(json.dumps({"record": decode_entry(fields)}))
        return
    redis = Redis(args.host, args.port)
    for entry_id, fields in entries(redis, (args.prefix + "events:decisions").encode()):
        print(json.dumps({"stream": "decisions", "id": entry_id, "record": decode_entry(fields)}))
    for entry_id, fields in entries(redis, (args.prefix + "events:rewards").encode()):
        print(json.dumps({"stream": "rewards", "id": entry_id,
                          "fields": {k.decode(): v.decode() for k, v in fields.items()}}))


if __name__ == "__main__":
    sys.exit(main())
