#!/usr/bin/env bash
# Issue 13's closed loop: starts a redis-server on a free loopback port, runs `couponrank simulate`
# (baselines, then each learning policy through a real engine and the trainer, from a cold start,
# in the standard and the cold-start world), and stops the server by its PID. Writes
# loadtest/simulation.json, loadtest/SIMULATION.md and loadtest/charts/simulation-*.svg.
#   make simulate                      (about 10 minutes; SIM_ARGS="--impressions 50000" for a quick run)
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
SIM_ARGS=${SIM_ARGS:-}
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

RP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.1; done
# shellcheck disable=SC2086
"$BIN/couponrank" simulate --redis-url "redis://127.0.0.1:$RP" --out-dir loadtest $SIM_ARGS
