#!/usr/bin/env bash
# make poc: can Rank fit the page-load budget at peak traffic?
#
# Starts what each scenario of loadtest/scenarios needs (redis-server, the stub upstream services,
# the engine) on free loopback ports, searches the highest rank rate that keeps p99 ≤ 50 ms,
# measures the goals, stops everything it started (by PID), and writes loadtest/RESULTS.md with
# its charts in loadtest/charts/. Every run is bounded in time; nothing leaves 127.0.0.1.
#
# Environment: STEP_SECONDS (default 4), SLO (default p99=50ms), PEAK_RANKS (default 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=loadtest/out
CHARTS=loadtest/charts
STEP_SECONDS=${STEP_SECONDS:-4}
SLO=${SLO:-p99=50ms}
PEAK_RANKS=${PEAK_RANKS:-20000}
mkdir -p "$OUT" "$CHARTS"
rm -f "$OUT"/*.json "$OUT"/*.txt

echo "== building (release)"
swift build -c release >/dev/null
BIN=$ROOT/.build/release

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_for FILE PATTERN: until the started process prints PATTERN (at most 20 s).
wait_for() {
    for _ in $(seq 1 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    cat "$1" >&2
    return 1
}

stop() {
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# --- Redis: the model store, and the yardstick ------------------------------------------------
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

echo "== redis-benchmark -t get -c 50 (the yardstick)"
REDIS_BENCH_CMD="redis-benchmark -p $REDIS_PORT -t get -c 50 -n 400000 -q"
$REDIS_BENCH_CMD 2>/dev/null | tr '\r' '\n' | grep -E "^GET: [0-9.]+ requests per second" | tail -1 | tee "$OUT/redis-benchmark.txt"

echo "== publishing the bundled model to Redis"
"$BIN/couponrank" model publish Sources/CouponRankModelFile/Resources/default-model.json --redis-url "$REDIS_URL" | tee "$OUT/publish.txt"

start_engine() {  # start_engine NAME ARGS... → sets ENGINE_PID, ENGINE_PORT
    local name=$1
    shift
    ENGINE_PORT=$(free_port)
    "$BIN/couponrank" serve --port "$ENGINE_PORT" --redis-url "$REDIS_URL" --log-level warning "$@" >"$OUT/engine-$name.log" 2>&1 &
    ENGINE_PID=$!
    PIDS+=("$ENGINE_PID")
    wait_for "$OUT/engine-$name.log" "serving on"
}

start_stubs() {  # start_stubs NAME ARGS... → sets STUBS_PID, STUBS_URL
    local name=$1 port
    shift
    port=$(free_port)
    "$BIN/couponrank" stubs --port "$port" "$@" >"$OUT/stubs-$name.log" 2>&1 &
    STUBS_PID=$!
    PIDS+=("$STUBS_PID")
    wait_for "$OUT/stubs-$name.log" "serving on"
    STUBS_URL="http://127.0.0.1:$port"
}

LOADTEST="$BIN/couponrank-loadtest --quiet --connections 4"
echo "# commands run by loadtest/poc.sh" >"$OUT/commands.txt"
echo "$REDIS_BENCH_CMD" >>"$OUT/commands.txt"

for scenario in loadtest/scenarios/*.env; do
    NAME=$(basename "$scenario" .env)
    TITLE="" ENGINE_ARGS="" STUBS_ARGS="" START_RATE=1000
    # shellcheck disable=SC1090
    source "$scenario"
    echo "== scenario $NAME: $TITLE"
    SOURCE_ARGS=""
    if [ -n "$STUBS_ARGS" ]; then
        # shellcheck disable=SC2086
        start_stubs "$NAME" $STUBS_ARGS
        SOURCE_ARGS="--user-features-url $STUBS_URL --candidates-url $STUBS_URL --stats-url $STUBS_URL"
        echo "couponrank stubs $STUBS_ARGS" >>"$OUT/commands.txt"
    fi
    # shellcheck disable=SC2086
    start_engine "$NAME" $ENGINE_ARGS $SOURCE_ARGS
    echo "couponrank serve --redis-url REDIS $ENGINE_ARGS $SOURCE_ARGS" >>"$OUT/commands.txt"

    FIND="$LOADTEST --server 127.0.0.1:$ENGINE_PORT --find-max --slo $SLO --max-error-rate 0.1% --start-rate $START_RATE --step-duration ${STEP_SECONDS}s --warmup 1s --json $OUT/$NAME.json --svg $CHARTS/$NAME.svg --title \"$TITLE\""
    echo "couponrank-loadtest ${FIND#*couponrank-loadtest }" >>"$OUT/commands.txt"
    eval "$FIND" | tee "$OUT/$NAME.txt" || true

    BEST=$(python3 -c "import json; print(int(json.load(open('$OUT/$NAME.json')).get('best_rate') or 0))")
    if [ "$BEST" -gt 0 ]; then
        # CPU per rank, and the latency at half the maximum rate.
        HALF=$((BEST / 2))
        before=$(cpu_ticks "$ENGINE_PID")
        $LOADTEST --server "127.0.0.1:$ENGINE_PORT" --rate "$HALF" --duration 5s --warmup 1s --json "$OUT/$NAME-half.json" >"$OUT/$NAME-half.txt" || true
        after=$(cpu_ticks "$ENGINE_PID")
        echo "$before $after $(getconf CLK_TCK)" >"$OUT/$NAME-cpu.txt"
        echo "couponrank-loadtest --server ENGINE --rate $HALF --duration 5s --warmup 1s" >>"$OUT/commands.txt"
    fi
    grep VmHWM "/proc/$ENGINE_PID/status" | awk '{ print $2 }' >"$OUT/$NAME-rss-kb.txt"

    if [ "$NAME" = "1-in-process" ]; then
        echo "== closed loop at full load (throughput and RSS)"
        $LOADTEST --server "127.0.0.1:$ENGINE_PORT" --connections 8 --in-flight 32 --duration 8s --warmup 2s --json "$OUT/closed-loop.json" | tee "$OUT/closed-loop.txt"
        grep VmHWM "/proc/$ENGINE_PID/status" | awk '{ print $2 }' >"$OUT/closed-loop-rss-kb.txt"
        echo "couponrank-loadtest --server ENGINE --connections 8 --in-flight 32 --duration 8s --warmup 2s" >>"$OUT/commands.txt"

        echo "== a deliberate 200 ms stall of the engine (SIGSTOP/SIGCONT) during an open-loop run"
        STALL_RATE=$(( BEST > 0 ? BEST / 4 : 1000 ))
        $LOADTEST --server "127.0.0.1:$ENGINE_PORT" --rate "$STALL_RATE" --duration 6s --warmup 1s --json "$OUT/stall.json" --svg "$CHARTS/stall.svg" --title "Open loop at $STALL_RATE/s with one 200 ms stall" >"$OUT/stall.txt" &
        LT=$!
        sleep 4
        kill -STOP "$ENGINE_PID"; sleep 0.2; kill -CONT "$ENGINE_PID"
        wait "$LT" || true
        cat "$OUT/stall.txt"
        echo "couponrank-loadtest --server ENGINE --rate $STALL_RATE --duration 6s --warmup 1s (engine stopped 200 ms at t=4s)" >>"$OUT/commands.txt"

        echo "== page mode: 3 rank calls per page load"
        PAGE_RATE=$(( BEST > 0 ? BEST / 6 : 500 ))
        $LOADTEST --server "127.0.0.1:$ENGINE_PORT" --rate "$PAGE_RATE" --page-calls 3 --duration 5s --warmup 1s --slo p99=50ms --json "$OUT/pages.json" >"$OUT/pages.txt" || true
        cat "$OUT/pages.txt"
        echo "couponrank-loadtest --server ENGINE --rate $PAGE_RATE --page-calls 3 --duration 5s --warmup 1s --slo p99=50ms" >>"$OUT/commands.txt"
    fi
    stop "$ENGINE_PID"
    [ -n "$STUBS_ARGS" ] && stop "$STUBS_PID"
done

stop "$REDIS_PID"
echo "== writing loadtest/RESULTS.md"
python3 loadtest/report.py --out "$OUT" --charts "$CHARTS" --peak "$PEAK_RANKS" --slo "$SLO" >loadtest/RESULTS.md
echo "done: loadtest/RESULTS.md"
