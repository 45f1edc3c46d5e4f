#!/usr/bin/env bash
# make poc: can personalised coupons be served inside the page-load budget at peak traffic, and at
# what cost — measured beside the Python stack a team would otherwise build, in one run.
#
# For each upstream profile of loadtest/scenarios (in-process, HTTP stubs with no latency,
# realistic latencies, a slow stats service) it starts what the profile needs on free loopback
# ports (redis-server, the stub upstream services, the engine with decision logging on, then the
# Python peer of loadtest/peers/python), and for each of the two:
#   - searches the highest open-loop rate meeting the SLO (p99, errors ≤ 0.1 %), and for the engine
#     again with at most MAX_DEGRADED of answers degraded;
#   - measures CPU per rank (utime + stime from /proc) at half that rate.
# Then the in-process maximum with decision logging off and with the engine pinned to one core,
# page mode (PAGE_CALLS parallel Rank calls per page) over realistic upstreams, a closed loop, a
# 200 ms stall, and the engine goals (loadtest/engine_goals.sh). Everything it started is stopped
# by PID. Any scenario that fails stops the run before loadtest/RESULTS.md is written.
#
# Environment (defaults): PAGE_BUDGET_MS (1000), RANK_SHARE (0.1), SLO (p99 = the Rank's share of
# the page budget, p99=100ms), STEP_SECONDS (4), MAX_DEGRADED (1%), PEAK_RATES ("5000 20000 100000"),
# PAGE_CALLS (3), TARGET_UTILISATION (0.6), PEER_WORKERS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=loadtest/out
CHARTS=loadtest/charts
PAGE_BUDGET_MS=${PAGE_BUDGET_MS:-1000}
RANK_SHARE=${RANK_SHARE:-0.1}
SLO=${SLO:-p99=$(python3 -c "print(round($PAGE_BUDGET_MS * $RANK_SHARE))")ms}
STEP_SECONDS=${STEP_SECONDS:-4}
MAX_DEGRADED=${MAX_DEGRADED:-1%}
PEAK_RATES=${PEAK_RATES:-5000 20000 100000}
PAGE_CALLS=${PAGE_CALLS:-3}
TARGET_UTILISATION=${TARGET_UTILISATION:-0.6}
PEER_WORKERS=${PEER_WORKERS:-2}
MODEL=Sources/CouponRankModelFile/Resources/default-model.json
PEER_VENV=$ROOT/.build/peer-venv
mkdir -p "$OUT" "$CHARTS"
rm -f "$OUT"/*

fail() { echo "poc: $*" >&2; exit 1; }

echo "== building (release)"
swift build -c release --product couponrank >/dev/null
swift build -c release --product couponrank-loadtest >/dev/null
BIN=$ROOT/.build/release

echo "== the Python peer's virtual environment (.build/peer-venv, from PyPI)"
if ! "$PEER_VENV/bin/python" -c 'import fastapi, uvicorn, numpy, aiohttp' 2>/dev/null; then
    python3 -m venv "$PEER_VENV"
    "$PEER_VENV/bin/pip" install --quiet --disable-pip-version-check -r loadtest/peers/python/requirements.txt
fi
"$PEER_VENV/bin/pip" freeze --disable-pip-version-check | grep -iE '^(fastapi|uvicorn|numpy|aiohttp|uvloop|httptools|starlette|pydantic)==' >"$OUT/peer-packages.txt"

PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do kill -KILL "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_for FILE PATTERN: until the started process prints PATTERN (at most 30 s).
wait_for() {
    for _ in $(seq 1 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$1" >&2
    fail "timed out waiting for '$2' in $1"
}

# stop PID: SIGKILL to a process this script started (and its children), then reap it.
stop() {
    pkill -KILL -P "$1" 2>/dev/null || true
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# cpu_ticks PID: utime + stime of PID and its children (uvicorn's workers), in clock ticks.
cpu_ticks() {
    local total=0 pid fields
    for pid in "$1" $(pgrep -P "$1" || true); do
        fields=$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $fields
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

best_rate() { python3 -c "import json, sys; print(int(json.load(open(sys.argv[1])).get('best_rate') or 0))" "$1"; }

# --- Redis: the model store and the decision log, and the yardstick ---------------------------
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

echo "== redis-benchmark -t get -c 50 (the yardstick)"
redis-benchmark -p "$REDIS_PORT" -t get -c 50 -n 400000 -q 2>/dev/null | tr '\r' '\n' | grep -E "^GET: [0-9.]+ requests per second" | tail -1 | tee "$OUT/redis-benchmark.txt"
[ -s "$OUT/redis-benchmark.txt" ] || fail "redis-benchmark printed no rate"

echo "== publishing the bundled model to Redis"
"$BIN/couponrank" model publish "$MODEL" --redis-url "$REDIS_URL" | tee "$OUT/publish.txt"

start_engine() {  # start_engine NAME [taskset CPUS] ARGS... → ENGINE_PID, ENGINE_PORT
    local name=$1
    shift
    local prefix=()
    if [ "${1:-}" = taskset ]; then prefix=(taskset -c "$2"); shift 2; fi
    ENGINE_PORT=$(free_port)
    "${prefix[@]}" "$BIN/couponrank" serve --port "$ENGINE_PORT" --ops-port "$(free_port)" --redis-url "$REDIS_URL" --log-level warning "$@" >"$OUT/engine-$name.log" 2>&1 &
    ENGINE_PID=$!
    PIDS+=("$ENGINE_PID")
    wait_for "$OUT/engine-$name.log" "serving on"
}

start_stubs() {  # start_stubs NAME ARGS... → STUBS_PID, STUBS_URL
    local name=$1 port
    shift
    port=$(free_port)
    "$BIN/couponrank" stubs --port "$port" "$@" >"$OUT/stubs-$name.log" 2>&1 &
    STUBS_PID=$!
    PIDS+=("$STUBS_PID")
    wait_for "$OUT/stubs-$name.log" "serving on"
    STUBS_URL="http://127.0.0.1:$port"
}

start_peer() {  # start_peer NAME UPSTREAM_URL USER_MS CANDIDATES_MS STATS_MS → PEER_PID, PEER_URL
    local name=$1 port
    port=$(free_port)
    # One BLAS thread per worker: with a worker per core, more only contend (a 9 ms score became 0.1 ms).
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PEER_MODEL=$ROOT/$MODEL PEER_UPSTREAM_URL=$2 PEER_USER_TIMEOUT_MS=$3 PEER_CANDIDATES_TIMEOUT_MS=$4 PEER_STATS_TIMEOUT_MS=$5 \
        "$PEER_VENV/bin/uvicorn" app:app --app-dir loadtest/peers/python --host 127.0.0.1 --port "$port" \
        --workers "$PEER_WORKERS" --log-level warning --no-access-log >"$OUT/peer-$name.log" 2>&1 &
    PEER_PID=$!
    PIDS+=("$PEER_PID")
    PEER_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 300); do curl -fs "$PEER_URL/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
    cat "$OUT/peer-$name.log" >&2
    fail "the Python peer did not answer /health"
}

LOADTEST="$BIN/couponrank-loadtest --quiet --connections 4"
SEARCH="--find-max --slo $SLO --max-error-rate 0.1% --step-duration ${STEP_SECONDS}s --warmup 1s"
{
    echo "# commands run by loadtest/poc.sh ($(date -u '+%Y-%m-%d %H:%M UTC'))"
    echo "redis-benchmark -t get -c 50 -n 400000 -q"
} >"$OUT/commands.txt"

# find_max OUT_NAME TITLE START_RATE TARGET_ARGS... : the search, its JSON and chart; fails loudly
# when no rate meets the SLO (MAY_FIND_NONE=1: a bound that no rate may meet, still reported).
find_max() {
    local name=$1 title=$2 start=$3
    shift 3
    echo "couponrank-loadtest $* $SEARCH --start-rate $start" >>"$OUT/commands.txt"
    $LOADTEST "$@" $SEARCH --start-rate "$start" --json "$OUT/$name.json" --svg "$CHARTS/$name.svg" --title "$title" >"$OUT/$name.txt" || true
    [ -s "$OUT/$name.json" ] || { cat "$OUT/$name.txt" >&2; fail "$name: the search wrote no JSON"; }
    [ "$(best_rate "$OUT/$name.json")" -gt 0 ] || [ "${MAY_FIND_NONE:-0}" = 1 ] || { cat "$OUT/$name.txt" >&2; fail "$name: no rate met the SLO"; }
    echo "   $name: $(best_rate "$OUT/$name.json")/s at the SLO"
}

# cpu_at_half NAME PID TARGET_ARGS...: a 5 s open-loop run at half of NAME's maximum, with the
# CPU the process tree of PID used during it.
cpu_at_half() {
    local name=$1 pid=$2 half before after
    shift 2
    half=$(( $(best_rate "$OUT/$name.json") / 2 ))
    before=$(cpu_ticks "$pid")
    $LOADTEST "$@" --rate "$half" --duration 5s --warmup 1s --json "$OUT/$name-half.json" >"$OUT/$name-half.txt" || true
    after=$(cpu_ticks "$pid")
    [ -s "$OUT/$name-half.json" ] || fail "$name: the run at half the maximum wrote no JSON"
    echo "{\"ticks\": $((after - before)), \"hz\": $(getconf CLK_TCK), \"rate\": $half, \"warmup_s\": 1}" >"$OUT/$name-cpu.json"
    echo "couponrank-loadtest $* --rate $half --duration 5s --warmup 1s   (CPU measured)" >>"$OUT/commands.txt"
}

decisions_logged() { redis-cli -p "$REDIS_PORT" xlen couponrank:events:decisions; }  # the default --redis-prefix

for scenario in loadtest/scenarios/*.env; do
    NAME=$(basename "$scenario" .env)
    TITLE="" ENGINE_ARGS="" STUBS_ARGS="" START_RATE=1000 PEER_START_RATE=250 TIMEOUTS="30 40 30"
    # shellcheck disable=SC1090
    source "$scenario"
    echo "== $NAME: $TITLE"
    SOURCE_ARGS="" UPSTREAM=""
    if [ -n "$STUBS_ARGS" ]; then
        # shellcheck disable=SC2086
        start_stubs "$NAME" $STUBS_ARGS
        UPSTREAM=$STUBS_URL
        SOURCE_ARGS="--user-features-url $STUBS_URL --candidates-url $STUBS_URL --stats-url $STUBS_URL"
        echo "couponrank stubs $STUBS_ARGS" >>"$OUT/commands.txt"
    fi
    read -r USER_MS CANDIDATES_MS STATS_MS <<<"$TIMEOUTS"
    TIMEOUT_ARGS="--user-timeout-ms $USER_MS --candidates-timeout-ms $CANDIDATES_MS --stats-timeout-ms $STATS_MS"

    # CouponRank, decision logging on (the default with a Redis URL).
    logged_before=$(decisions_logged)
    # shellcheck disable=SC2086
    start_engine "$NAME" $ENGINE_ARGS $TIMEOUT_ARGS $SOURCE_ARGS
    echo "couponrank serve --redis-url REDIS $ENGINE_ARGS $TIMEOUT_ARGS $SOURCE_ARGS" >>"$OUT/commands.txt"
    RPC="--server 127.0.0.1:$ENGINE_PORT"
    # shellcheck disable=SC2086
    find_max "$NAME" "CouponRank: $TITLE" "$START_RATE" $RPC
    # shellcheck disable=SC2086
    MAY_FIND_NONE=1 find_max "$NAME-bounded" "CouponRank, ≤ $MAX_DEGRADED degraded: $TITLE" "$START_RATE" $RPC --max-degraded-rate "$MAX_DEGRADED"
    # shellcheck disable=SC2086
    cpu_at_half "$NAME" "$ENGINE_PID" $RPC
    echo "{\"before\": $logged_before, \"after\": $(decisions_logged)}" >"$OUT/$NAME-logged.json"
    grep VmHWM "/proc/$ENGINE_PID/status" | awk '{ print $2 }' >"$OUT/$NAME-rss-kb.txt"

    if [ "$NAME" = "3-http-realistic" ]; then
        echo "== page mode: $PAGE_CALLS parallel Rank calls per page load, realistic upstreams"
        PAGE_RATE=$(( $(best_rate "$OUT/$NAME.json") / (2 * PAGE_CALLS) ))
        $LOADTEST $RPC --connections 8 --rate "$PAGE_RATE" --page-calls "$PAGE_CALLS" --duration 8s --warmup 1s --slo "$SLO" --json "$OUT/pages.json" >"$OUT/pages.txt" || true
        [ -s "$OUT/pages.json" ] || fail "page mode wrote no JSON"
        echo "couponrank-loadtest --server ENGINE --connections 8 --rate $PAGE_RATE --page-calls $PAGE_CALLS --duration 8s --warmup 1s --slo $SLO" >>"$OUT/commands.txt"
    fi

    if [ "$NAME" = "1-in-process" ]; then
        echo "== closed loop at full load (throughput and RSS)"
        $LOADTEST $RPC --connections 8 --in-flight 32 --duration 8s --warmup 2s --json "$OUT/closed-loop.json" >"$OUT/closed-loop.txt"
        grep VmHWM "/proc/$ENGINE_PID/status" | awk '{ print $2 }' >"$OUT/closed-loop-rss-kb.txt"
        echo "couponrank-loadtest --server ENGINE --connections 8 --in-flight 32 --duration 8s --warmup 2s" >>"$OUT/commands.txt"

        echo "== a deliberate 200 ms stall of the engine (SIGSTOP/SIGCONT) during an open-loop run"
        STALL_RATE=$(( $(best_rate "$OUT/$NAME.json") / 4 ))
        $LOADTEST $RPC --rate "$STALL_RATE" --duration 6s --warmup 1s --json "$OUT/stall.json" --svg "$CHARTS/stall.svg" --title "Open loop at $STALL_RATE/s with one 200 ms stall" >"$OUT/stall.txt" &
        LT=$!
        sleep 4
        kill -STOP "$ENGINE_PID"; sleep 0.2; kill -CONT "$ENGINE_PID"
        wait "$LT" || true
        [ -s "$OUT/stall.json" ] || fail "the stall run wrote no JSON"
        echo "couponrank-loadtest --server ENGINE --rate $STALL_RATE --duration 6s --warmup 1s (engine stopped 200 ms at t=4s)" >>"$OUT/commands.txt"
    fi
    stop "$ENGINE_PID"

    if [ "$NAME" = "1-in-process" ]; then
        echo "== in-process, decision logging off"
        start_engine "$NAME-nolog" --no-decision-log
        echo "couponrank serve --redis-url REDIS --no-decision-log" >>"$OUT/commands.txt"
        find_max "$NAME-nolog" "CouponRank, decision logging off: $TITLE" "$START_RATE" --server "127.0.0.1:$ENGINE_PORT"
        stop "$ENGINE_PID"

        echo "== in-process, the engine pinned to core 0 and the generator to core 1"
        start_engine "$NAME-1core" taskset 0
        echo "taskset -c 0 couponrank serve --redis-url REDIS; taskset -c 1 couponrank-loadtest …" >>"$OUT/commands.txt"
        LOADTEST_ALL=$LOADTEST
        LOADTEST="taskset -c 1 $LOADTEST"
        find_max "$NAME-1core" "CouponRank on one core: $TITLE" "$START_RATE" --server "127.0.0.1:$ENGINE_PORT"
        cpu_at_half "$NAME-1core" "$ENGINE_PID" --server "127.0.0.1:$ENGINE_PORT"
        LOADTEST=$LOADTEST_ALL
        stop "$ENGINE_PID"
    fi

    # The Python peer on the same data path.
    start_peer "$NAME" "$UPSTREAM" "$USER_MS" "$CANDIDATES_MS" "$STATS_MS"
    echo "PEER_UPSTREAM_URL=${UPSTREAM:-(in-process)} uvicorn app:app --workers $PEER_WORKERS  (loadtest/peers/python)" >>"$OUT/commands.txt"
    find_max "peer-$NAME" "Python peer: $TITLE" "$PEER_START_RATE" --http "$PEER_URL"
    cpu_at_half "peer-$NAME" "$PEER_PID" --http "$PEER_URL"
    stop "$PEER_PID"

    [ -n "$STUBS_ARGS" ] && stop "$STUBS_PID"
done
stop "$REDIS_PID"

echo "== the engine goals (loadtest/engine_goals.sh)"
bash loadtest/engine_goals.sh >"$OUT/engine-goals.txt" || fail "engine_goals.sh failed"
cp loadtest/engine-goals.json "$OUT/engine-goals.json"

echo "== writing loadtest/RESULTS.md"
python3 loadtest/report.py --out "$OUT" --charts "$CHARTS" --peaks "$PEAK_RATES" --slo "$SLO" --max-degraded "$MAX_DEGRADED" \
    --page-budget-ms "$PAGE_BUDGET_MS" --rank-share "$RANK_SHARE" --utilisation "$TARGET_UTILISATION" --peer-workers "$PEER_WORKERS" \
    >"$OUT/RESULTS.md" || fail "report.py failed"
mv "$OUT/RESULTS.md" loadtest/RESULTS.md
if command -v rsvg-convert >/dev/null; then
    for chart in "$CHARTS"/*.svg; do
        rsvg-convert "$chart" -o "$OUT/$(basename "${chart%.svg}").png" || fail "rsvg-convert could not render $chart"
    done
fi
echo "done: loadtest/RESULTS.md"
