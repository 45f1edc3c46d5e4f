#!/usr/bin/env bash
# The ops port against its OpenAPI document, proto-spec/OPS.openapi.yaml: schemathesis (pinned,
# from PyPI, in .build/schemathesis-venv) generates requests for every operation of a live engine
# on loopback and checks every answer against the document: documented status codes, content
# types, headers and response schemas, no 5xx, schema-violating input refused, schema-valid input
# accepted, the reward route refusing a missing or wrong token. It follows the links between
# operations too (a /v1/rank event id into a reward).
#
# The engine runs on the in-process stub sources, with a throwaway redis-server on loopback as its
# reward log, so POST /v1/events/{event_id}/rewards answers 202, 400 and 401 as in production.
#
# Two passes, each bounded by CONTRACT_MAX_EXAMPLES test cases per operation and per round
# (default 50) and CONTRACT_MAX_TIME seconds (default 45; fuzzing and stateful rounds repeat
# until it is spent):
#   1. ASCII strings, every check. JSON Schema's maxLength counts characters while PROTOCOL.md
#      bounds easy_id and coupon_id in UTF-8 bytes; with ASCII the two agree, so
#      positive_data_acceptance is exact.
#   2. Any Unicode, every check but positive_data_acceptance (a 100-character non-ASCII easy_id
#      is schema-valid and rightly refused).
#
# Needs the debug build (swift build; COUPONRANK_BIN overrides) and redis-server. Exits with
# schemathesis's status (non-zero when either pass failed). CONTRACT_SEED fixes the seed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
VENV=$ROOT/.build/schemathesis-venv
BIN=${COUPONRANK_BIN:-$ROOT/.build/debug/couponrank}
MAX_EXAMPLES=${CONTRACT_MAX_EXAMPLES:-50}
MAX_TIME=${CONTRACT_MAX_TIME:-45}
SEED=${CONTRACT_SEED:-20261125}
SPEC=$ROOT/proto-spec/OPS.openapi.yaml

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION"; then
  echo "contract: installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
[ -x "$BIN" ] || { echo "contract: $BIN is missing: build first (swift build)" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "contract: redis-server is missing (apt-get install redis-server)" >&2; exit 2; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
W=$(mktemp -d /tmp/couponrank-contract.XXXXXX)
EPID= RPID=
cleanup() {
  for pid in $EPID $RPID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

RP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >"$W/redis.log" 2>&1 &
RPID=$!

REWARD_TOKEN=contract-reward-token
ADMIN_TOKEN=contract-admin-token
OPS_PORT=$(free_port)
"$BIN" serve --host 127.0.0.1 --port 0 --ops-host 127.0.0.1 --ops-port "$OPS_PORT" \
  --reward-token "$REWARD_TOKEN" --admin-token "$ADMIN_TOKEN" --redis-url "redis://127.0.0.1:$RP" \
  >"$W/engine.log" 2>&1 &
EPID=$!
BASE=http://127.0.0.1:$OPS_PORT
ready=
for _ in $(seq 100); do
  if python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$BASE/readyz" 2>/dev/null; then ready=1; break; fi
  kill -0 "$EPID" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then echo "contract: the engine did not answer $BASE/readyz" >&2; cat "$W/engine.log" >&2; exit 1; fi

# From $W: schemathesis keeps state in ./.schemathesis.
schemathesis() {
  (cd "$W" && "$VENV/bin/schemathesis" run "$SPEC" --url "$BASE" \
    --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --seed "$SEED" \
    --workers 1 --request-timeout 10 --generation-database none --no-color \
    --header "Authorization: Bearer $REWARD_TOKEN" "$@")
}
status=0
echo "contract: pass 1 of 2, ASCII strings, every check"
schemathesis --generation-codec ascii --checks all || status=$?
echo "contract: pass 2 of 2, any Unicode, every check but positive_data_acceptance"
schemathesis --checks all \
  --exclude-checks positive_data_acceptance || status=$?
kill -0 "$EPID" 2>/dev/null || { echo "contract: the engine died during the run" >&2; cat "$W/engine.log" >&2; status=1; }
exit $status
