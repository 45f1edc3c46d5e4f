#!/usr/bin/env bash
# Issue 10's goals in one run on this machine: the in-process maximum (closed loop 8x32, ok ranks
# only), engine CPU per rank from /proc utime+stime, p99 at half the maximum (open loop, 5 runs),
# overload at 2x and 4x the maximum (goodput, errors, latency), and RSS at full load. Writes
# loadtest/engine-goals.json and prints a table. Loopback only; every run is bounded in time.
#   make release && bash loadtest/engine_goals.sh        (about 2 minutes)
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
W=$(mktemp -d /tmp/goals.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ticks() { local f; f=$(cut -d')' -f2- /proc/$1/stat); set -- $f; echo $((${12} + ${13})); }
rss_kb() { awk '/VmRSS/{print $2}' /proc/$1/status; }

RP=$(free_port); redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & PIDS+=($!); sleep 0.5
redis-cli -p $RP set key:__rand_int__ x >/dev/null
REDIS=$(redis-benchmark -p $RP -t get -c 50 -n 500000 -q 2>/dev/null | grep -o '[0-9.]* requests per second' | awk '{print $1}')

EP=$(free_port); "$BIN/couponrank" serve --port $EP --no-ops >$W/engine.log 2>&1 & EPID=$!; PIDS+=($EPID)
for _ in $(seq 50); do "$BIN/couponrank" health --server 127.0.0.1:$EP >/dev/null 2>&1 && break; sleep 0.2; done
LT="$BIN/couponrank-loadtest --server 127.0.0.1:$EP --quiet"
$LT --connections 8 --in-flight 32 --duration 2s --warmup 0s >/dev/null 2>&1
t0=$(ticks $EPID)
$LT --connections 8 --in-flight 32 --duration 10s --warmup 0s --json $W/closed.json >/dev/null 2>&1
t1=$(ticks $EPID); RSS_FULL=$(rss_kb $EPID)
MAX=$(python3 -c "import json;d=json.load(open('$W/closed.json'));print(int(d['ok']/d['measured_seconds']))")
for i in 1 2 3 4 5; do
  $LT --connections 8 --rate $((MAX / 2)) --duration 5s --warmup 1s --json $W/half$i.json >/dev/null 2>&1
done
for k in 2 4; do
  $LT --connections 8 --rate $((MAX * k)) --duration 5s --warmup 1s --timeout 2s --json $W/over$k.json >/dev/null 2>&1
done
RSS_END=$(rss_kb $EPID)

python3 - "$W" "$REDIS" "$t0" "$t1" "$(getconf CLK_TCK)" "$RSS_FULL" "$RSS_END" <<'PY'
import json, sys
w, redis, t0, t1, hz, rss_full, rss_end = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
load = lambda name: json.load(open(f"{w}/{name}.json"))
closed = load("closed")
ok_rate = closed["ok"] / closed["measured_seconds"]
out = {
    "redis_get_rps": redis,
    "closed_8x32": {"ok_ranks_per_s": ok_rate, "ratio_to_redis": ok_rate / redis, "errors": closed["errors"],
                    "engine_cpu_us_per_rank": (t1 - t0) / hz / closed["completed"] * 1e6,
                    "engine_cpu_us_per_ok_rank": (t1 - t0) / hz / max(closed["ok"], 1) * 1e6},
    "half_max_open_p99_us": [load(f"half{i}")["latency_us"]["p99"] for i in range(1, 6)],
    "half_max_rate": ok_rate / 2,
    "overload": {},
    "rss_mb": {"full_load": rss_full / 1024, "after_overload": rss_end / 1024},
}
for k in (2, 4):
    d = load(f"over{k}")
    out["overload"][f"{k}x"] = {
        "offered": d.get("offered_rate"), "ok_per_s": d["ok"] / d["measured_seconds"],
        "goodput_share_of_max": d["ok"] / d["measured_seconds"] / ok_rate, "errors": d["errors"],
        "client_p50_us_all_answers": d["latency_us"]["p50"], "server_total_p50_us": d["server_total_us"]["p50"] if "server_total_us" in d else None,
    }
import time
out["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
json.dump(out, open("loadtest/engine-goals.json", "w"), indent=2)
PY
python3 loadtest/engine_goals_table.py loadtest/engine-goals.json > loadtest/ENGINE-GOALS.md
cat loadtest/ENGINE-GOALS.md
