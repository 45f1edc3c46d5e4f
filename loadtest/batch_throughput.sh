#!/usr/bin/env bash
# Issue 14's batch goal: `couponrank batch` over 1 000 000 in-process rows at ≥ 80 % of the
# engine's own in-process rank rate on the same cores. Generates the customer file
# (`couponrank batch --generate-example`), times the engine alone (`couponrank-bench
# --engine-rate`: RankEngine.rankFromMemory over the same users, one thread per core), then the
# batch (CSV in, CSV out, bad-row checks, ordering), then the engine again, and compares the batch
# with the mean of the two engine runs. Also: the same batch over a file with the users' features as
# columns, and CSV.swift's reader and writer timed alone (`couponrank-bench --csv`).
# Writes loadtest/batch-throughput.json.
#   swift build -c release && bash loadtest/batch_throughput.sh     (about 10 minutes on 2 cores)
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
ROWS=${ROWS:-1000000}
W=$(mktemp -d /tmp/batch-throughput.XXXXXX)
trap 'rm -rf "$W"' EXIT
NUMERIC=age,tenure_days,purchases_90d,avg_order_value

"$BIN/couponrank" batch --generate-example "$ROWS" --output "$W/customers.csv"
"$BIN/couponrank" batch --generate-example "$ROWS" --example-features --output "$W/features.csv"
uptime > "$W/load-before"

"$BIN/couponrank-bench" --engine-rate --users "$ROWS" --json "$W/engine-1.json"
/usr/bin/time -f "%M" -o "$W/batch-rss" "$BIN/couponrank" batch --quiet \
  --input "$W/customers.csv" --output "$W/offers.csv" --summary-json "$W/batch.json"
"$BIN/couponrank-bench" --engine-rate --users "$ROWS" --json "$W/engine-2.json"
/usr/bin/time -f "%M" -o "$W/features-rss" "$BIN/couponrank" batch --quiet --numeric-columns "$NUMERIC" \
  --input "$W/features.csv" --output "$W/offers-features.csv" --summary-json "$W/features.json"
"$BIN/couponrank-bench" --csv "$W/customers.csv" --json "$W/csv.json"
"$BIN/couponrank-bench" --csv "$W/features.csv" --numeric-columns "$NUMERIC" --json "$W/csv-features.json"
uptime > "$W/load-after"
# Feature columns equal to what the stub source fetches: the same offers.
cmp -s "$W/offers.csv" "$W/offers-features.csv" && SAME=true || SAME=false

python3 - "$W" "$ROWS" "$SAME" <<'PY' | tee loadtest/batch-throughput.json
import json, os, sys
w, rows, same = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "true"
load = lambda name: json.load(open(os.path.join(w, name)))
engine = [load("engine-1.json"), load("engine-2.json")]
batch, features = load("batch.json"), load("features.json")
engine_rate = sum(e["ranks_per_second"] for e in engine) / len(engine)
rss = lambda name: int(open(os.path.join(w, name)).read().split()[-1])
print(json.dumps({
    "rows": rows,
    "cores": os.cpu_count(),
    "engine_ranks_per_second": round(engine_rate),
    "engine_runs_ranks_per_second": [round(e["ranks_per_second"]) for e in engine],
    "batch_rows_per_second": round(batch["rows_per_second"]),
    "batch_seconds": round(batch["elapsed_seconds"], 2),
    "batch_peak_rss_kib": rss("batch-rss"),
    "ratio": round(batch["rows_per_second"] / engine_rate, 3),
    "goal_ratio": 0.8,
    "features_batch_rows_per_second": round(features["rows_per_second"]),
    "features_ratio": round(features["rows_per_second"] / engine_rate, 3),
    "features_peak_rss_kib": rss("features-rss"),
    "features_offers_equal_fetched": same,
    "csv_read_us_per_row": round(load("csv.json")["read_us_per_row"], 2),
    "csv_read_features_us_per_row": round(load("csv-features.json")["read_us_per_row"], 2),
    "csv_swift_writer_us_per_row": round(load("csv.json")["csv_swift_writer_us_per_row"], 2),
    "offer_csv_us_per_row": round(load("csv.json")["offer_csv_us_per_row"], 2),
    "load_before": open(os.path.join(w, "load-before")).read().strip().split("load average: ")[-1],
    "load_after": open(os.path.join(w, "load-after")).read().strip().split("load average: ")[-1],
    "rows_ranked": batch["rows_ranked"],
    "rows_failed": batch["rows_failed"],
}, indent=1))
PY
