#!/usr/bin/env bash
# Issue 11's fault campaign, rerun: silent upstreams at 300 ranks/s, unfinished 1 MiB frames,
# slow ops connections, a 50 MB model. Builds the release executables, writes
# loadtest/fault-campaign.json and loadtest/FAULT-CAMPAIGN.md. Loopback only, about 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product couponrank >/dev/null
swift build -c release --product couponrank-loadtest >/dev/null
python3 loadtest/fault_campaign.py .build/release loadtest/fault-campaign.json
python3 loadtest/fault_campaign_table.py loadtest/fault-campaign.json loadtest/FAULT-CAMPAIGN.md
