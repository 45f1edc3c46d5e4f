#!/usr/bin/env bash
# The image's build step, runnable anywhere the toolchain is (make deploy-check runs it too):
# builds the release executables one product at a time (`swift build --product A --product B`
# builds only B), stages them with their resource bundles into OUT, and checks the staged engine
# starts and answers on loopback with its bundled model.
#   bash deploy/build.sh [OUT]        (default /out)
set -euo pipefail
OUT=${1:-/out}
SWIFT=${SWIFT:-swift}
for product in couponrank couponrank-loadtest; do
  "$SWIFT" build -c release --product "$product"
done
BIN=$("$SWIFT" build -c release --show-bin-path)
mkdir -p "$OUT"
cp "$BIN/couponrank" "$BIN/couponrank-loadtest" "$OUT/"
cp -R "$BIN"/*.resources "$OUT/"
"$OUT/couponrank" --version

# The staged engine, on its own, as the image runs it: it must find its bundled model and answer.
LOG=$(mktemp)
"$OUT/couponrank" serve --port 0 --no-ops >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do
  PORT=$(grep -o ':[0-9]* with model' "$LOG" | grep -o '[0-9]*' || true)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "the staged engine did not start:"; cat "$LOG"; exit 1; }
"$OUT/couponrank" health --server "127.0.0.1:$PORT"
echo "staged in $OUT"
