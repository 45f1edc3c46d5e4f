#!/usr/bin/env bash
# Issue 12's goals in one run on this machine: the maximum in-process rank rate with the decision
# log off and on (closed loop 8x32, alternating runs against the same redis-server), the decisions
# written and dropped, and the mean size of a decision record on the stream (top-20, d = 64: the
# bundled model's defaults). Writes loadtest/decision-log.json, renders loadtest/DECISION-LOG.md and
# the matching section of loadtest/RESULTS.md. Loopback only; every run is bounded in time.
#   make release && bash loadtest/decision_log.sh        (about 1.5 minutes)
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-8s}
W=$(mktemp -d /tmp/decisionlog.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ticks() { local f; f=$(cut -d')' -f2- /proc/$1/stat); set -- $f; echo $((${12} + ${13})); }

RP=$(free_port); redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & RPID=$!; PIDS+=($RPID); sleep 0.5
for round in $(seq "$ROUNDS"); do
  for mode in off on; do
    EP=$(free_port); OP=$(free_port)
    extra=(); [ "$mode" = off ] && extra=(--no-decision-log)
    "$BIN/couponrank" serve --port $EP --ops-port $OP --redis-url redis://127.0.0.1:$RP "${extra[@]}" >$W/engine-$mode-$round.log 2>&1 & EPID=$!; PIDS+=($EPID)
    for _ in $(seq 50); do "$BIN/couponrank" health --server 127.0.0.1:$EP >/dev/null 2>&1 && break; sleep 0.2; done
    redis-cli -p $RP del couponrank:events:decisions >/dev/null
    LT="$BIN/couponrank-loadtest --server 127.0.0.1:$EP --quiet --connections 8 --in-flight 32"
    $LT --duration 2s --warmup 0s >/dev/null 2>&1
    t0=$(ticks $EPID); r0=$(ticks $RPID)
    $LT --duration $DUR --warmup 0s --json $W/$mode-$round.json >/dev/null 2>&1
    t1=$(ticks $EPID); r1=$(ticks $RPID)
    sleep 1  # let the writer drain what the run queued
    curl -fsS http://127.0.0.1:$OP/metrics >$W/metrics-$mode-$round.txt 2>/dev/null
    echo "$t0 $t1 $r0 $r1 $(redis-cli -p $RP xlen couponrank:events:decisions)" >$W/cpu-$mode-$round.txt
    if [ "$mode" = on ] && [ "$round" = 1 ]; then
      redis-cli -p $RP --no-raw xrevrange couponrank:events:decisions + - COUNT 1 >/dev/null
      python3 - "$RP" >$W/sizes.txt <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"*6\r\n$9\r\nXREVRANGE\r\n$27\r\ncouponrank:events:decisions\r\n$1\r\n+\r\n$1\r\n-\r\n$5\r\nCOUNT\r\n$4\r\n1000\r\n")
buf = b""
def more():
    global buf
    chunk = s.recv(1 << 20)
    if not chunk: raise EOFError
    buf += chunk
def line():
    global buf
    while b"\r\n" not in buf: more()
    l, buf = buf.split(b"\r\n", 1); return l
def reply():
    global buf
    l = line()
    if l[:1] == b"$":
        n = int(l[1:])
        while len(buf) < n + 2: more()
        d, buf = buf[:n], buf[n + 2:]; return d
    if l[:1] == b"*": return [reply() for _ in range(int(l[1:]))]
    return l
for entry in reply():
    fields = entry[1]
    print(sum(len(f) for f in fields), len(fields[fields.index(b"body") + 1]))
PY
    fi
    kill $EPID; wait $EPID 2>/dev/null
  done
done

python3 - "$W" "$ROUNDS" "$(getconf CLK_TCK)" <<'PY'
import json, re, statistics, sys, time
w, rounds, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def metric(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
runs = {"off": [], "on": []}
for r in range(1, rounds + 1):
    for mode in ("off", "on"):
        d = json.load(open(f"{w}/{mode}-{r}.json"))
        t0, t1, r0, r1, xlen = (int(x) for x in open(f"{w}/cpu-{mode}-{r}.txt").read().split())
        m = open(f"{w}/metrics-{mode}-{r}.txt").read()
        runs[mode].append({
            "ok_ranks_per_s": d["ok"] / d["measured_seconds"], "completed": d["completed"], "errors": d["errors"],
            "engine_cpu_us_per_rank": (t1 - t0) / hz / d["completed"] * 1e6,
            "redis_cpu_us_per_rank": (r1 - r0) / hz / d["completed"] * 1e6,
            "p99_us": d["latency_us"]["p99"],
            "decisions_written": metric(m, "couponrank_events_written_total", stream="decisions"),
            "decisions_dropped": metric(m, "couponrank_events_dropped_total", stream="decisions"),
            "stream_length_after_run": xlen,
        })
sizes = [tuple(int(x) for x in l.split()) for l in open(f"{w}/sizes.txt")]
median = lambda mode, key: statistics.median(r[key] for r in runs[mode])
out = {
    "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    "rounds": rounds, "runs": runs,
    "median_ok_ranks_per_s": {m: median(m, "ok_ranks_per_s") for m in runs},
    "median_engine_cpu_us_per_rank": {m: median(m, "engine_cpu_us_per_rank") for m in runs},
    "median_redis_cpu_us_per_rank": {m: median(m, "redis_cpu_us_per_rank") for m in runs},
    "cost_share_of_max_rate": 1 - median("on", "ok_ranks_per_s") / median("off", "ok_ranks_per_s"),
    "record_bytes": {"entries": len(sizes), "mean_entry": statistics.mean(s[0] for s in sizes),
                     "mean_body": statistics.mean(s[1] for s in sizes), "max_entry": max(s[0] for s in sizes)},
}
json.dump(out, open("loadtest/decision-log.json", "w"), indent=2)
PY
python3 loadtest/decision_log_table.py loadtest/decision-log.json > loadtest/DECISION-LOG.md
python3 loadtest/decision_log_table.py loadtest/decision-log.json --section-of loadtest/RESULTS.md
cat loadtest/DECISION-LOG.md
