#!/usr/bin/env python3
"""A minimal CouponRank client written from proto-spec/PROTOCOL.md alone (standard library only).

    python3 client.py --port 7420 rank 12345 --top 5
    python3 client.py --port 7420 health
    python3 client.py --port 7420 conformance      # rank, health, pipelining, errors; prints JSON

The server tests run the `conformance` mode against a live server.
"""
import argparse
import json
import socket
import struct
import sys

MAGIC = 0x4352
HEADER = struct.Struct(">HBBHHQI")  # magic, version, type, flags, reserved, request id, budget
RANK_REQUEST, HEALTH_REQUEST, RANK_RESPONSE, HEALTH_RESPONSE, ERROR = 0x01, 0x02, 0x81, 0x82, 0xFF
ERROR_NAMES = {1: "MALFORMED_PAYLOAD", 2: "BAD_MAGIC", 3: "UNSUPPORTED_VERSION", 4: "UNKNOWN_MESSAGE_TYPE",
               5: "FRAME_TOO_LARGE", 6: "INVALID_ARGUMENT", 7: "OVERLOADED", 8: "DEADLINE_EXCEEDED",
               9: "NO_CANDIDATES", 10: "UPSTREAM_UNAVAILABLE", 11: "MODEL_UNAVAILABLE", 12: "SHUTTING_DOWN",
               13: "UNAUTHENTICATED", 14: "INTERNAL", 15: "FAILED_PRECONDITION"}


def s16(text):
    data = text.encode("utf-8")
    return struct.pack(">H", len(data)) + data


def frame(msg_type, request_id, payload=b"", budget_us=0, version=1):
    body = HEADER.pack(MAGIC, version, msg_type, 0, 0, request_id, budget_us) + payload
    return struct.pack(">I", len(body)) + body


def rank_request(request_id, easy_id, top_k=0, candidates=(), excluded=(), budget_us=0):
    payload = s16(easy_id) + struct.pack(">H", top_k)
    payload += struct.pack(">H", len(candidates)) + b"".join(s16(c) for c in candidates)
    payload += struct.pack(">H", len(excluded)) + b"".join(s16(c) for c in excluded)
    return frame(RANK_REQUEST, request_id, payload, budget_us)


class Reader:
    def __init__(self, payload):
        self.data, self.at = payload, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError("truncated payload")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def u(self, fmt):
        return struct.unpack(">" + fmt, self.take(struct.calcsize(">" + fmt)))[0]

    def s16(self):
        return self.take(self.u("H")).decode("utf-8")


def decode(msg_type, payload):
    r = Reader(payload)
    if msg_type == RANK_RESPONSE:
        out = {"type": "RankResponse", "model_version": r.s16(), "degraded": r.u("B"),
               "timings_us": [r.u("I") for _ in range(4)], "items": []}
        for _ in range(r.u("H")):
            out["items"].append({"coupon_id": r.s16(), "score": r.u("d"), "probability": r.u("d"), "name": r.s16()})
        return out
    if msg_type == HEALTH_RESPONSE:
        out = {"type": "HealthResponse", "status": r.u("B"), "uptime_ms": r.u("Q"), "model_version": r.s16()}
        if r.at < len(r.data):  # revision 2 fields
            out["model_age_s"], out["model_origin"] = r.u("Q"), r.s16()
            out["components"] = {r.s16(): r.s16() for _ in range(r.u("H"))}
        return out
    if msg_type == ERROR:
        code = r.u("H")
        return {"type": "Error", "code": code, "name": ERROR_NAMES.get(code, f"CODE_{code}"),
                "retry_class": r.u("B"), "message": r.s16()}
    return {"type": f"unknown 0x{msg_type:02x}"}


class Connection:
    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buffer += chunk

    def read(self):
        """Returns (request_id, decoded message)."""
        self._fill(4)
        (length,) = struct.unpack(">I", self.buffer[:4])
        self._fill(4 + length)
        body, self.buffer = self.buffer[4:4 + length], self.buffer[4 + length:]
        magic, version, msg_type, _flags, _reserved, request_id, _budget = HEADER.unpack(body[:20])
        if magic != MAGIC:
            raise ValueError("bad magic from server")
        return request_id, decode(msg_type, body[20:])

    def close(self):
        self.sock.close()


def conformance(host, port):
    report = {}
    conn = Connection(host, port)
    conn.send(frame(HEALTH_REQUEST, 1))
    report["health"] = conn.read()[1]

    conn.send(rank_request(2, "12345", top_k=5, budget_us=1_000_000))
    report["rank"] = conn.read()[1]

    # Ten requests in one write; answers are matched by id whatever their order.
    ids = list(range(100, 110))
    conn.send(b"".join(rank_request(i, f"user-{i}", top_k=3, budget_us=1_000_000) for i in ids))
    answers = dict(conn.read() for _ in ids)
    report["pipelined"] = {"sent": ids, "answered": sorted(answers),
                           "all_ranked": all(a["type"] == "RankResponse" and len(a["items"]) == 3 for a in answers.values())}

    conn.send(frame(0x33, 200, b"\x00"))
    report["unknown_type"] = conn.read()
    conn.send(frame(HEALTH_REQUEST, 201, version=9))
    report["unknown_version"] = conn.read()
    conn.send(rank_request(202, "x" * 129))
    report["easy_id_too_long"] = conn.read()
    conn.send(frame(HEALTH_REQUEST, 203))
    report["still_open"] = conn.read()[1]["type"] == "HealthResponse"
    conn.close()
    print(json.dumps(report, indent=1, sort_keys=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7420)
    sub = parser.add_subparsers(dest="command", required=True)
    rank = sub.add_parser("rank")
    rank.add_argument("easy_id")
    rank.add_argument("--top", type=int, default=0)
    sub.add_parser("health")
    sub.add_parser("conformance")
    args = parser.parse_args()

    if args.command == "conformance":
        conformance(args.host, args.port)
        return
    conn = Connection(args.host, args.port)
    if args.command == "rank":
        conn.send(rank_request(1, args.easy_id, top_k=args.top, budget_us=1_000_000))
    else:
        conn.send(frame(HEALTH_REQUEST, 1))
    print(json.dumps(conn.read()[1], indent=1))
    conn.close()


if __name__ == "__main__":
    sys.exit(main())
