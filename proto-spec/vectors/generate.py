#!/usr/bin/env python3
"""Writes the hex test vectors of PROTOCOL.md, from the document alone (not from the Swift code).

Each vector is a .hex file: hex byte pairs, whitespace ignored, '#' starts a comment.
The first comment lines say what a receiver must do with the bytes:
  # expect: decode <Message>          the frame decodes to the message described below
  # expect: error <CODE> open         the server answers an Error frame and keeps the connection
  # expect: error <CODE> close        the server answers an Error frame (request id 0) and closes
Run:  python3 proto-spec/vectors/generate.py   (rewrites the files in this folder)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAGIC = 0x4352


def header(msg_type, request_id, budget_us=0, version=1, flags=0):
    return struct.pack(">HBBHHQI", MAGIC, version, msg_type, flags, 0, request_id, budget_us)


def frame(msg_type, request_id, payload, budget_us=0, version=1):
    body = header(msg_type, request_id, budget_us, version) + payload
    return struct.pack(">I", len(body)) + body


def s16(text):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack(">H", len(data)) + data


def id_list(ids):
    return struct.pack(">H", len(ids)) + b"".join(s16(i) for i in ids)


def rank_request(easy_id, top_k, candidates, excluded):
    return s16(easy_id) + struct.pack(">H", top_k) + id_list(candidates) + id_list(excluded)


def write(name, expect, description, data, split=()):
    lines = [f"# expect: {expect}", f"# {description}"]
    offsets = [0] + list(split) + [len(data)]
    for start, end in zip(offsets, offsets[1:]):
        chunk = data[start:end]
        for i in range(0, len(chunk), 16):
            lines.append(" ".join(f"{b:02x}" for b in chunk[i:i + 16]))
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    write("rank-request.hex", "decode RankRequest",
          "request 1, budget 50000 us: easy_id \"12345\", top_k 5, no candidate filter, exclude C000202",
          frame(0x01, 1, rank_request("12345", 5, [], ["C000202"]), budget_us=50_000), split=(4, 24))
    write("rank-request-filters.hex", "decode RankRequest",
          "request 2, no budget: easy_id \"user-\u00e4\" (UTF-8), top_k 0, candidates C000001 C000002, no exclusions",
          frame(0x01, 2, rank_request("user-\u00e4", 0, ["C000001", "C000002"], [])), split=(4, 24))
    write("rank-request-extra-field.hex", "decode RankRequest",
          "request 1 as rank-request.hex with 3 unknown trailing payload bytes, which a v1 reader ignores",
          frame(0x01, 1, rank_request("12345", 5, [], ["C000202"]) + b"\x00\x01\x02", budget_us=50_000), split=(4, 24))
    items = [("C000202", 0.5, 0.25, "45% off beauty"), ("C000001", 0.125, 0.0625, "10% off books")]
    payload = s16("v1") + struct.pack(">BIIII", 0x02, 120, 35, 18, 180) + struct.pack(">H", len(items))
    for coupon_id, score, probability, name in items:
        payload += s16(coupon_id) + struct.pack(">dd", score, probability) + s16(name)
    write("rank-response.hex", "decode RankResponse",
          "answer to request 1: model v1, stats degraded, timings 120/35/18/180 us, two items",
          frame(0x81, 1, payload), split=(4, 24))
    write("health-request.hex", "decode HealthRequest", "request 7, empty payload",
          frame(0x02, 7, b""), split=(4,))
    write("health-response.hex", "decode HealthResponse",
          "answer to request 7: SERVING, uptime 123456 ms, model v1, model age 3600 s, origin redis, "
          "one component upstream.stats open (revision 2)",
          frame(0x82, 7, struct.pack(">BQ", 0, 123_456) + s16("v1") + struct.pack(">Q", 3600) + s16("redis")
                + struct.pack(">H", 1) + s16("upstream.stats") + s16("open")),
          split=(4, 24))
    write("health-response-rev1.hex", "decode HealthResponse",
          "answer to request 7 from a revision 1 server: no model age or origin; they read as 0 and \"\"",
          frame(0x82, 7, struct.pack(">BQ", 0, 123_456) + s16("v1")), split=(4, 24))
    write("admin-reload-request.hex", "decode AdminReloadRequest",
          "request 20: token \"s3cret\", scope 1 (fleet)",
          frame(0x10, 20, s16("s3cret") + b"\x01", budget_us=10_000_000), split=(4, 24))
    write("admin-reload-response.hex", "decode AdminReloadResponse",
          "answer to request 20: SWAPPED v1 -> v2, reached 3 engines",
          frame(0x90, 20, b"\x00" + s16("v1") + s16("v2") + s16("now serving v2") + struct.pack(">I", 3)),
          split=(4, 24))
    write("admin-reload-bad-scope.hex", "error INVALID_ARGUMENT open",
          "request 21: AdminReloadRequest with scope 7",
          frame(0x10, 21, s16("s3cret") + b"\x07"), split=(4, 24))
    write("error-overloaded.hex", "decode Error",
          "answer to request 9: OVERLOADED (7), retry class overloaded (2)",
          frame(0xFF, 9, struct.pack(">HB", 7, 2) + s16("too many requests in flight")), split=(4, 24))

    write("bad-magic.hex", "error BAD_MAGIC close", "magic 0x4851 instead of 0x4352",
          struct.pack(">I", 20) + struct.pack(">HBBHHQI", 0x4851, 1, 0x02, 0, 0, 5, 0))
    write("frame-too-large.hex", "error FRAME_TOO_LARGE close",
          "length prefix 1048577, one byte over the default limit; rejected before any body arrives",
          struct.pack(">I", (1 << 20) + 1) + header(0x01, 6))
    write("frame-too-short.hex", "error MALFORMED_PAYLOAD close",
          "length prefix 8, shorter than the 20-byte header",
          struct.pack(">I", 8) + b"\x43\x52\x01\x02\x00\x00\x00\x00")
    write("unsupported-version.hex", "error UNSUPPORTED_VERSION open", "request 3, a HealthRequest in version 2",
          frame(0x02, 3, b"", version=2), split=(4,))
    write("unknown-message-type.hex", "error UNKNOWN_MESSAGE_TYPE open", "request 4, message type 0x33",
          frame(0x33, 4, b"\x01\x02"), split=(4, 24))
    write("truncated-payload.hex", "error MALFORMED_PAYLOAD open",
          "request 10, RankRequest whose easy_id claims 10 bytes but the payload holds 3",
          frame(0x01, 10, struct.pack(">H", 10) + b"123"), split=(4, 24))
    write("invalid-utf8.hex", "error MALFORMED_PAYLOAD open",
          "request 11, RankRequest whose easy_id is the bytes ff fe",
          frame(0x01, 11, rank_request(b"\xff\xfe", 0, [], [])), split=(4, 24))
    write("easy-id-too-long.hex", "error INVALID_ARGUMENT open",
          "request 12, RankRequest with a 129-byte easy_id",
          frame(0x01, 12, rank_request("9" * 129, 0, [], [])), split=(4, 24))
    write("empty-easy-id.hex", "error INVALID_ARGUMENT open", "request 13, RankRequest with an empty easy_id",
          frame(0x01, 13, rank_request("", 0, [], [])), split=(4, 24))


if __name__ == "__main__":
    main()
