#!/usr/bin/env bash
# Issue 16: decisions/s into one Redis node vs a 3-primary Redis Cluster with sharded streams.
# Builds the release benchmark, writes loadtest/event-log-scaling.json and EVENT-LOG-SCALING.md.
# Loopback only, about 1.5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product couponrank-bench >/dev/null
python3 loadtest/event_log_scaling.py .build/release loadtest/event-log-scaling.json loadtest/EVENT-LOG-SCALING.md
