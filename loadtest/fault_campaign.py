#!/usr/bin/env python3
"""The fault campaign of issue 11, rerun against the fixed engine: every scenario that broke it,
on loopback, bounded in count and time, each engine and helper started here and stopped by its
PID. Writes every figure to a JSON file; fault_campaign_table.py turns it into the report.

    loadtest/fault_campaign.py BIN_DIR OUT.json

BIN_DIR holds the release couponrank and couponrank-loadtest (loadtest/fault_campaign.sh builds
them).
"""
import json
import os
import random
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIN, OUT = sys.argv[1], sys.argv[2]
COUPONRANK = os.path.join(BIN, "couponrank")
LOADTEST = os.path.join(BIN, "couponrank-loadtest")


class Engine:
    """A `couponrank serve` child on free ports; its RPC and ops ports read from its output."""

    def __init__(self, *arguments):
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [COUPONRANK, "serve", "--port", "0", "--ops-port", "0", "--log-level", "error", *arguments],
            stdout=subprocess.PIPE, stderr=self.errors, text=True)
        self.port = self.ops_port = None
        deadline = time.time() + 60
        while time.time() < deadline and (self.port is None or self.ops_port is None):
            line = self.process.stdout.readline()
            if not line:
                break
            if m := re.search(r"ops port on [^:]+:(\d+)", line):
                self.ops_port = int(m.group(1))
            if m := re.search(r"serving on .*:(\d+) with model", line):
                self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            self.errors.seek(0)
            raise SystemExit(f"the engine did not start: {self.errors.read().decode()[-2000:]}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def status(self, field):
        """A /proc/PID/status figure in kB (VmRSS, VmHWM)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def descriptors(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def frame(message_type, request_id, payload=b"", budget=0):
    header = struct.pack(">HBBHHQI", 0x4352, 1, message_type, 0, 0, request_id, budget)
    return struct.pack(">I", len(header) + len(payload)) + header + payload


def health_answered(port, timeout=2.0):
    """Whether a new RPC connection gets a HealthResponse within `timeout`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(frame(0x02, 7))
            answer = b""
            while len(answer) < 8:
                chunk = connection.recv(4096)
                if not chunk:
                    return False
                answer += chunk
            return answer[4:6] == b"CR" and answer[7] == 0x82
    except OSError:
        return False


def ops_answered(port, path="/healthz", timeout=2.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            return connection.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def loadtest(port, *arguments):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        run = subprocess.run(
            [LOADTEST, "--server", f"127.0.0.1:{port}", "--quiet", "--json", report.name, *arguments],
            capture_output=True, text=True, timeout=120)
        with open(report.name) as file:
            return json.load(file)


class SilentUpstream:
    """Accepts TCP connections, reads what comes, and never answers."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.port = self.listener.getsockname()[1]
        self.held = []
        self.open = True
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while self.open:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def stop(self):
        self.open = False
        self.listener.close()
        for connection in self.held:
            connection.close()


def silent_upstreams():
    """Each source in turn answered by an upstream that accepts and never answers, at 300
    ranks/s for 6 s with a 100 ms budget (issue 11: 734 of 1 800 DEADLINE_EXCEEDED, the worst
    after 1.9 s)."""
    results = []
    for source, flag in [("user features", "--user-features-url"), ("candidates", "--candidates-url"), ("stats", "--stats-url")]:
        silent = SilentUpstream()
        engine = Engine(flag, f"http://127.0.0.1:{silent.port}")
        try:
            report = loadtest(engine.port, "--rate", "300", "--duration", "6s", "--warmup", "0s", "--budget", "100ms",
                              "--connections", "4", "--timeout", "5s")
        finally:
            engine.stop()
            silent.stop()
        results.append({
            "source": source, "sent": report["sent"], "ok": report["ok"], "degraded": report["degraded"],
            "errors": report["errors"], "p50_us": report["latency_us"]["p50"], "p99_us": report["latency_us"]["p99"],
            "max_us": report["latency_us"]["max"],
        })
        print(f"silent {source}: {results[-1]}", flush=True)
    return results


def unfinished_frames():
    """300 connections each holding an unfinished 1 MiB frame on the RPC port (issue 11: 370 MB
    of RSS), then 20 new clients' health checks."""
    engine = Engine()
    try:
        time.sleep(0.5)
        before = engine.status("VmRSS")
        connections, closed_by_server = [], 0
        body = b"\0" * ((1 << 20) - 20 - 1)
        for index in range(300):
            connection = socket.create_connection(("127.0.0.1", engine.port), timeout=5)
            prefix = struct.pack(">I", 1 << 20) + struct.pack(">HBBHHQI", 0x4352, 1, 0x01, 0, 0, index + 1, 0)
            try:
                connection.sendall(prefix + body)
            except OSError:
                closed_by_server += 1
            connections.append(connection)
        time.sleep(1.0)
        during = engine.status("VmRSS")
        answered = sum(health_answered(engine.port) for _ in range(20))
        # What each held connection got back: an OVERLOADED answer and a close, or nothing yet.
        refused = 0
        for connection in connections:
            connection.settimeout(0.05)
            try:
                data = connection.recv(4096)
                if data == b"" or (len(data) >= 8 and data[4:6] == b"CR"):
                    refused += 1
            except (socket.timeout, OSError):
                pass
        for connection in connections:
            connection.close()
        time.sleep(1.0)
        result = {
            "connections": 300, "frame_bytes": 1 << 20, "rss_before_mb": round(before / 1024, 1),
            "rss_holding_mb": round(during / 1024, 1), "rss_peak_mb": round(engine.status("VmHWM") / 1024, 1),
            "refused_or_closed": refused + closed_by_server, "new_health_checks_answered": answered, "new_health_checks": 20,
        }
    finally:
        engine.stop()
    print(f"unfinished frames: {result}", flush=True)
    return result


def ops_slowloris():
    """1 200 connections to the ops port that send half a request and then nothing (issue 11: the
    descriptors ran out and 15 of 20 new RPC clients got no answer)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    engine = Engine("--ops-idle-timeout-s", "5")
    try:
        connections = []
        for _ in range(1200):
            try:
                connection = socket.create_connection(("127.0.0.1", engine.ops_port), timeout=5)
                connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                connections.append(connection)
            except OSError:
                break
        time.sleep(1.0)
        descriptors_holding = engine.descriptors()
        answered = sum(health_answered(engine.port) for _ in range(20))
        ops_ok = ops_answered(engine.ops_port)
        time.sleep(6.0)
        closed = 0
        for connection in connections:
            connection.settimeout(0.01)
            try:
                if connection.recv(4096) == b"":
                    closed += 1
            except socket.timeout:
                pass
            except OSError:
                closed += 1
        for connection in connections:
            connection.close()
        result = {
            "slow_connections": len(connections), "engine_descriptors_while_held": descriptors_holding,
            "new_health_checks_answered": answered, "new_health_checks": 20, "ops_healthz_answered": ops_ok,
            "closed_by_idle_timeout_after_7s": closed, "ops_idle_timeout_s": 5,
        }
    finally:
        engine.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    print(f"ops slowloris: {result}", flush=True)
    return result


def big_model():
    """A valid logistic model document of about 50 MB loaded at start-up (issue 11: RSS peaked at
    285 MB)."""
    features = [{"kind": "bias"}] + [
        {"kind": "cross", "fields": ["user.segment", "coupon.category"], "buckets": 1_000_000},
        {"kind": "cross", "fields": ["user.preferred_category", "coupon.category"], "buckets": 1_000_000},
        {"kind": "hashed", "field": "coupon.shop", "buckets": 1_000_000},
        {"kind": "hashed", "field": "user.region", "buckets": 1_000_000},
    ]
    dimension = 1 + 4 * 1_000_000
    generator = random.Random(11)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        path = file.name
        file.write('{"format":2,"kind":"logistic","version":"fault-campaign-50mb",')
        file.write('"created_at":"2026-11-25T00:00:00Z","features":' + json.dumps(features) + ',"theta":[')
        file.write(",".join(f"{generator.uniform(-1, 1):.9f}" for _ in range(dimension)))
        file.write("]}")
    size = os.path.getsize(path)
    try:
        start = time.time()
        engine = Engine("--model", path)
        started = time.time() - start
        try:
            result = {
                "document_mb": round(size / 1e6, 1), "dimension": dimension, "start_s": round(started, 2),
                "rss_peak_mb": round(engine.status("VmHWM") / 1024, 1), "rss_after_mb": round(engine.status("VmRSS") / 1024, 1),
                "health_answered": health_answered(engine.port),
            }
        finally:
            engine.stop()
        # The configurable limit: the same document refused below its size, with a message.
        refused = subprocess.run([COUPONRANK, "serve", "--port", "0", "--ops-port", "0", "--model", path,
                                  "--max-model-bytes", str(size - 1)], capture_output=True, text=True, timeout=60)
        result["refused_under_limit"] = refused.returncode != 0
        result["refusal"] = (refused.stderr.strip().splitlines() or [""])[-1][:200]
    finally:
        os.unlink(path)
    print(f"big model: {result}", flush=True)
    return result


def main():
    started = time.time()
    report = {
        "machine": {"cores": os.cpu_count(), "kernel": os.uname().release},
        "silent_upstreams": silent_upstreams(),
        "unfinished_frames": unfinished_frames(),
        "ops_slowloris": ops_slowloris(),
        "big_model": big_model(),
    }
    report["seconds"] = round(time.time() - started, 1)
    with open(OUT, "w") as file:
        json.dump(report, file, indent=2)
    print(f"wrote {OUT} in {report['seconds']} s")


main()
