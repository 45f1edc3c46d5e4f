#!/usr/bin/env python3
"""Writes the hex test vectors of PROTOCOL.md, from the document alone (not from the Swift code).

Each vector is a .hex file: hex byte pairs, whitespace ignored, '#' starts a comment.
The first comment lines say what a receiver must do with the bytes:
  # expect: decode <Message>          the frame decodes to the message described below
  # expect: error <CODE> open         the server answers an Error frame and keeps the connection
  # expect: error <CODE> close        the server answers an Error frame (request id 0) and closes
Run:  python3 proto-spec/vectors/generate.py   (rewrites the files in this folder)
"""
import json
import math
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
    """A revision 1-2 RankRequest payload."""
    return s16(easy_id) + struct.pack(">H", top_k) + id_list(candidates) + id_list(excluded)


def rank_request_rev3(easy_id, top_k, candidates, excluded, event_id, flags):
    return rank_request(easy_id, top_k, candidates, excluded) + s16(event_id) + struct.pack(">H", flags)


def rank_request_rev4(easy_id, top_k, candidates, excluded, event_id, flags, max_per_shop, max_per_category):
    return rank_request_rev3(easy_id, top_k, candidates, excluded, event_id, flags) + struct.pack(">HH", max_per_shop, max_per_category)


def rules_part(version, removals):
    """The revision 4 tail of a RankResponse: rules_version and the rule removals."""
    return s16(version) + struct.pack(">H", len(removals)) + b"".join(s16(rule) + struct.pack(">H", n) for rule, n in removals)


def tiny_model_answer(easy_id, top_k, excluded):
    """The ranking MODEL.md §3 gives for the vector fixture: every formula written out here."""
    examples = os.path.join(HERE, "..", "examples")
    fixture = json.load(open(os.path.join(examples, "vector-fixture.json")))
    model = json.load(open(os.path.join(examples, fixture["model"])))
    user = fixture["users"][easy_id]
    theta, a_inv, alpha = model["theta"], model["a_inverse"], model["alpha"]
    d = len(theta)
    scored = []
    for coupon in fixture["candidates"][easy_id]:
        if coupon["id"] in excluded:
            continue
        x = [1.0, (user["numeric"]["x"] - 1) / 2, coupon["discount_rate"]]  # bias, user.x (mean 1, std 2), discount
        linear = sum(t * v for t, v in zip(theta, x))
        quadratic = sum(x[i] * sum(a_inv[i * d + j] * x[j] for j in range(d)) for i in range(d))
        score = linear + alpha * math.sqrt(max(quadratic, 0))
        scored.append((score, min(max(linear, 0), 1), coupon))
    scored.sort(key=lambda s: (-s[0], s[2]["id"].encode()))
    return model["version"], scored[:top_k]


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def decision_record():
    """EVENTS.md §2.2, field by field: an ε-greedy decision of tiny-1 with one shown coupon."""
    f64 = lambda v: struct.pack(">d", v)
    pairs = lambda d, enc: struct.pack(">H", len(d)) + b"".join(s16(k) + enc(v) for k, v in sorted(d.items()))
    body = b"\x01" + s16("evt-0001") + struct.pack(">Q", 1764072000123) + s16("42") + s16("tiny-1")
    body += b"\x01" + f64(0.1) + b"\x00" + struct.pack(">I", 3)  # epsilon-greedy: no softmax aggregates
    body += pairs({"x": 2.0}, f64) + pairs({"segment": "vip"}, s16)
    body += struct.pack(">H", 1)
    body += s16("C000303") + struct.pack(">ff", 1.4325412902673356, 0.6) + f64(0.9 + 0.1 / 3) + b"\x02"
    body += s16("travel") + s16("shop-0303") + f64(0.3) + f64(10000.0) + f64(30.0)
    body += pairs({}, f64) + pairs({}, s16) + f64(0.02) + f64(0.002)
    return body


def decision_candidates():
    """EVENTS.md §2.5, field by field: the `candidates` field of decision_record()'s decision."""
    f64 = lambda v: struct.pack(">d", v)
    pairs = lambda d, enc: struct.pack(">H", len(d)) + b"".join(s16(k) + enc(v) for k, v in sorted(d.items()))
    field = b"\x01" + struct.pack(">H", 2)
    field += s16("C000404") + s16("home") + s16("shop-0404") + f64(0.2) + f64(2000.0) + f64(14.0)
    field += pairs({"popularity": 0.7}, f64) + pairs({"brand": "acme"}, s16) + f64(0.05) + f64(0.004)
    field += s16("C000001") + s16("books") + s16("shop-0001") + f64(0.1) + f64(0.0) + f64(10.0)
    field += pairs({}, f64) + pairs({}, s16) + f64(0.02) + f64(0.002)
    return field


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
          "request 1, budget 50000 us: easy_id \"12345\", top_k 5, no candidate filter, exclude C000202, "
          "event_id \"evt-0001\", flags 0, no diversity caps (revision 4)",
          frame(0x01, 1, rank_request_rev4("12345", 5, [], ["C000202"], "evt-0001", 0, 0, 0), budget_us=50_000), split=(4, 24))
    write("rank-request-rev3.hex", "decode RankRequest",
          "request 1 from a revision 3 client: no diversity caps; they read as 0 (the rules' caps apply)",
          frame(0x01, 1, rank_request_rev3("12345", 5, [], ["C000202"], "evt-0001", 0), budget_us=50_000), split=(4, 24))
    write("rank-request-rev1.hex", "decode RankRequest",
          "request 1 from a revision 1-2 client: no event_id or flags; they read as \"\" (the server makes one) and 0",
          frame(0x01, 1, rank_request("12345", 5, [], ["C000202"]), budget_us=50_000), split=(4, 24))
    write("rank-request-filters.hex", "decode RankRequest",
          "request 2, no budget: easy_id \"user-\u00e4\" (UTF-8), top_k 0, candidates C000001 C000002, no exclusions, "
          "no event_id, flags 1 (no exploration), at most 1 coupon per shop and 2 per category",
          frame(0x01, 2, rank_request_rev4("user-\u00e4", 0, ["C000001", "C000002"], [], "", 1, 1, 2)), split=(4, 24))
    write("rank-request-extra-field.hex", "decode RankRequest",
          "request 1 as rank-request.hex with 3 unknown trailing payload bytes, which a reader ignores",
          frame(0x01, 1, rank_request_rev4("12345", 5, [], ["C000202"], "evt-0001", 0, 0, 0) + b"\x00\x01\x02",
                budget_us=50_000), split=(4, 24))
    version, ranked = tiny_model_answer("12345", 5, ["C000202"])
    payload = s16(version) + struct.pack(">BIIII", 0x00, 120, 35, 18, 180) + struct.pack(">H", len(ranked))
    for score, probability, coupon in ranked:
        payload += s16(coupon["id"]) + struct.pack(">dd", score, probability) + s16(coupon["name"])
    payload += s16("evt-0001") + b"\x00" + struct.pack(">H", len(ranked)) + b"".join(struct.pack(">d", 1.0) for _ in ranked)
    answer = ", ".join(f"{c['id']} score {s!r} probability {p!r}" for s, p, c in ranked)
    write("rank-response.hex", "decode RankResponse",
          "answer to request 1 with examples/vector-fixture.json: model tiny-1, nothing degraded, timings 120/35/18/180 us, "
          + answer + "; event_id evt-0001, policy 0 (greedy), propensities 1; no rules (revision 4)",
          frame(0x81, 1, payload + rules_part("", [])), split=(4, 24))
    write("rank-response-rev3.hex", "decode RankResponse",
          "rank-response.hex from a revision 3 server: no rules part; rules_version reads as \"\" and no removals",
          frame(0x81, 1, payload), split=(4, 24))
    write("rank-response-rules.hex", "decode RankResponse",
          "rank-response.hex's items with a rules part, to show its encoding: rules_version case-study-1, "
          "rule europa-no-offers-4-5-6 removed 3 candidates (revision 4)",
          frame(0x81, 1, payload + rules_part("case-study-1", [("europa-no-offers-4-5-6", 3)])), split=(4, 24))
    items = [("C000202", 0.5, 0.25, "45% off beauty"), ("C000001", 0.125, 0.0625, "10% off books")]
    payload = s16("v1") + struct.pack(">BIIII", 0x02, 120, 35, 18, 180) + struct.pack(">H", len(items))
    for coupon_id, score, probability, name in items:
        payload += s16(coupon_id) + struct.pack(">dd", score, probability) + s16(name)
    write("rank-response-rev2.hex", "decode RankResponse",
          "an answer from a revision 1-2 server: model v1, stats degraded, two items; event_id reads as \"\", "
          "policy 0, every propensity 1",
          frame(0x81, 1, payload), split=(4, 24))
    write("reward-request.hex", "decode RewardRequest",
          "request 30: token \"r3ward\", event_id \"evt-0001\", coupon C000303, kind 1 (click), value 1.0, time 0 (on receipt)",
          frame(0x03, 30, s16("r3ward") + s16("evt-0001") + s16("C000303") + struct.pack(">BdQ", 1, 1.0, 0)),
          split=(4, 24))
    write("reward-response.hex", "decode RewardResponse", "answer to request 30: accepted, empty payload",
          frame(0x83, 30, b""), split=(4,))
    write("reward-bad-kind.hex", "error INVALID_ARGUMENT open",
          "request 31: RewardRequest with kind 9",
          frame(0x03, 31, s16("r3ward") + s16("evt-0001") + s16("C000303") + struct.pack(">BdQ", 9, 1.0, 0)),
          split=(4, 24))
    write("admin-exploration-request.hex", "decode AdminExplorationRequest",
          "request 40: token \"s3cret\", enabled 0 (off), scope 1 (fleet)",
          frame(0x11, 40, s16("s3cret") + b"\x00\x01", budget_us=10_000_000), split=(4, 24))
    write("admin-exploration-response.hex", "decode AdminExplorationResponse",
          "answer to request 40: was on, now off, reached 3 engines",
          frame(0x91, 40, b"\x01\x00" + struct.pack(">I", 3)), split=(4, 24))
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

    lines = ["# EVENTS.md §2.2: a decision record (the `body` field of an events:decisions entry), not a frame.",
             "# event_id evt-0001, time 1764072000123 ms, easy_id 42, model tiny-1, policy 1 (epsilon-greedy) with",
             "# epsilon 0.1, nothing degraded, 3 eligible, user x=2 and segment vip; one item: C000303",
             "# score 1.4325412902673356 and probability 0.6 as binary32, propensity 0.9 + 0.1/3 as binary64,",
             "# choice 2 (best), travel, shop-0303, discount 0.3, min_spend 10000, 30 days, ctr 0.02, cvr 0.002"]
    data = decision_record()
    lines += [" ".join(f"{b:02x}" for b in data[i:i + 16]) for i in range(0, len(data), 16)]
    with open(os.path.join(HERE, "..", "examples", "decision-record.hex"), "w") as f:
        f.write("\n".join(lines) + "\n")

    lines = ["# EVENTS.md §2.5: the `candidates` field of the decision in decision-record.hex (an entry field, not a frame).",
             "# format 1, 2 candidates in greedy order: C000404 home, shop-0404, discount 0.2, min_spend 2000,",
             "# 14 days, attributes popularity=0.7, labels brand=acme, ctr 0.05, cvr 0.004; C000001 books,",
             "# shop-0001, discount 0.1, min_spend 0, 10 days, no attributes or labels, ctr 0.02, cvr 0.002 (the prior)"]
    data = decision_candidates()
    lines += [" ".join(f"{b:02x}" for b in data[i:i + 16]) for i in range(0, len(data), 16)]
    with open(os.path.join(HERE, "..", "examples", "decision-candidates.hex"), "w") as f:
        f.write("\n".join(lines) + "\n")

    lines = ["# EVENTS.md §2.6: a `rules` field (an entry field, not a frame): format 1, rules version",
             "# case-study-1; europa-no-offers-4-5-6 removed 3 candidates, over-65-no-offers-1-3-4 removed 2"]
    data = b"\x01" + s16("case-study-1") + struct.pack(">H", 2)
    data += s16("europa-no-offers-4-5-6") + struct.pack(">I", 3) + s16("over-65-no-offers-1-3-4") + struct.pack(">I", 2)
    lines += [" ".join(f"{b:02x}" for b in data[i:i + 16]) for i in range(0, len(data), 16)]
    with open(os.path.join(HERE, "..", "examples", "decision-rules.hex"), "w") as f:
        f.write("\n".join(lines) + "\n")

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
