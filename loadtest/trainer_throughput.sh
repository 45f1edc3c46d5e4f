#!/usr/bin/env bash
# Issue 13's trainer goal (≥ 50 000 item updates/s at d = 64 on one core), measured end to end:
# an engine logs decisions (top 5, the bundled model, d = 64) to a fresh redis-server under load,
# then `couponrank train`, pinned to one core, reads them through its consumer group, joins,
# learns and checkpoints; item updates over wall time from its first to its last closed decision.
# Writes loadtest/trainer-throughput.json. Loopback only; every step is bounded in time.
#   make release && bash loadtest/trainer_throughput.sh        (about 1 minute)
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
DUR=${DUR:-15s}
W=$(mktemp -d /tmp/trainer-throughput.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

RP=$(free_port); redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done
EP=$(free_port)
"$BIN/couponrank" serve --port "$EP" --no-ops --redis-url "redis://127.0.0.1:$RP" --default-top-k 5 >"$W/engine.log" 2>&1 & EPID=$!; PIDS+=($EPID)
for _ in $(seq 50); do "$BIN/couponrank" health --server "127.0.0.1:$EP" >/dev/null 2>&1 && break; sleep 0.2; done
"$BIN/couponrank-loadtest" --server "127.0.0.1:$EP" --quiet --connections 4 --in-flight 16 --top-k 5 --duration "$DUR" --warmup 0s >/dev/null 2>&1
sleep 1; kill "$EPID"; wait "$EPID" 2>/dev/null
DECISIONS=$(redis-cli -p "$RP" xlen couponrank:events:decisions)
OP=$(free_port)
taskset -c 0 "$BIN/couponrank" train --redis-url "redis://127.0.0.1:$RP" --ops-port "$OP" --no-publish --reward-window-s 0.001 \
  --read-count 1000 --log-level warning >"$W/trainer.log" 2>&1 & TPID=$!; PIDS+=($TPID)
python3 - "$OP" "$DECISIONS" "$TPID" <<'PY' | tee loadtest/trainer-throughput.json
import json, sys, time, urllib.request
port, total, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def status():
    try:
        return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/trainer", timeout=1))
    except Exception:
        return None
def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100
deadline = time.time() + 120
start = None
while time.time() < deadline:
    s = status()
    if s and s["decisions_closed"] > 0 and start is None:
        start, first, cpu0 = time.time(), s, cpu()
    if s and s["decisions_closed"] >= total:
        break
    time.sleep(0.05)
end, cpu1 = time.time(), cpu()
updates = s["item_updates"] - first["item_updates"]
print(json.dumps({
    "decisions_logged": total, "decisions_closed": s["decisions_closed"], "item_updates": s["item_updates"],
    "seconds": round(end - start, 3), "item_updates_per_second": round(updates / (end - start)),
    "trainer_cpu_seconds": round(cpu1 - cpu0, 2), "cores": "taskset -c 0", "dimension": 64, "shown_per_decision": 5,
}, indent=1))
PY
